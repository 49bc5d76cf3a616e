/**
 * Reading an API Gateway HTTP API (payload v2) request: headers by name and the body as text,
 * decoded from base64 when API Gateway encoded it, with a byte limit on the decoded body.
 */
import { MalformedWebhookError, PayloadTooLargeError } from './errors.ts';

/** The largest body the webhook takes, in decoded bytes (256 KiB, as the contract says). */
export const MAX_BODY_BYTES = 256 * 1024;

/** The parts of an HTTP API v2 event this module reads. */
export interface RequestLike {
  headers?: Readonly<Record<string, string | undefined>>;
  body?: string;
  isBase64Encoded?: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A header's value by case-insensitive name (HTTP API lower-cases names; a test or proxy may not). */
export function header(headers: RequestLike['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/**
 * The body as UTF-8 text. Throws `PayloadTooLargeError` when `Content-Length` or the decoded
 * body exceeds `maxBytes`, and `MalformedWebhookError` when the bytes are not UTF-8.
 */
export function readBody(request: RequestLike, maxBytes = MAX_BODY_BYTES): string {
  const declared = Number(header(request.headers, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new PayloadTooLargeError(`the body is ${declared} bytes, over the limit of ${maxBytes}`);
  }
  const raw = request.body ?? '';
  if (!request.isBase64Encoded) {
    const bytes = Buffer.byteLength(raw, 'utf8');
    if (bytes > maxBytes) {
      throw new PayloadTooLargeError(`the body is ${bytes} bytes, over the limit of ${maxBytes}`);
    }
    return raw;
  }
  // base64 is 4 characters per 3 bytes: refuse before decoding what is surely too large.
  if (raw.length > Math.ceil(maxBytes / 3) * 4 + 4) {
    throw new PayloadTooLargeError(`the body is over the limit of ${maxBytes} bytes`);
  }
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length > maxBytes) {
    throw new PayloadTooLargeError(`the body is ${bytes.length} bytes, over the limit of ${maxBytes}`);
  }
  try {
    return UTF8.decode(bytes);
  } catch (cause) {
    throw new MalformedWebhookError('the body is not UTF-8 text', { cause });
  }
}
