/**
 * The one place errors become HTTP answers. Keyed by the error's `name` (the project's errors
 * all set it), so the mapping holds across bundles and module copies. Client errors say what
 * was wrong when that helps an authenticated sender (400, 413); 401 and 403 say nothing more;
 * server errors are generic, and CometChat retries them.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BASIC_REALM } from './basic-auth.ts';

/** HTTP status per error name; anything not listed is a 500. */
export const HTTP_STATUS_BY_ERROR = {
  MalformedWebhookError: 400,
  InvalidInputError: 400,
  WebhookAuthError: 401,
  ForeignAppError: 403,
  MethodNotAllowedError: 405,
  PayloadTooLargeError: 413,
  // SQS (or SSM) did not take the request: a retry later can succeed.
  StorageError: 503,
} as const satisfies Record<string, number>;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Statuses whose answer may carry the error's own message. */
const EXPLAINED = new Set([400, 413]);

/** The HTTP status for `error`. */
export function httpStatusOf(error: unknown): number {
  const name = error instanceof Error ? error.name : undefined;
  return (name && (HTTP_STATUS_BY_ERROR as Record<string, number>)[name]) || 500;
}

/** A JSON answer. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** The answer for `error`: status, `{ message[, reason] }`, and the headers that status needs. */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  const status = httpStatusOf(error);
  const message = STATUS_TEXT[status] ?? 'Error';
  const reason = EXPLAINED.has(status) && error instanceof Error ? error.message : undefined;
  const headers: Record<string, string> = {};
  if (status === 401) headers['www-authenticate'] = `Basic realm="${BASIC_REALM}"`;
  if (status === 405) headers.allow = 'POST';
  return jsonResponse(status, reason === undefined ? { message } : { message, reason }, headers);
}
