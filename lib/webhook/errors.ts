/**
 * Why the webhook refused a request. Each names the problem, not the HTTP status: the one
 * mapping to statuses lives in lib/webhook/http-errors.ts. Messages are safe to return to an
 * authenticated caller and to log; none quotes a credential.
 */

/** The Authorization header is missing, malformed, or carries the wrong credentials. */
export class WebhookAuthError extends Error {
  override readonly name = 'WebhookAuthError';
}

/** The body is not a CometChat envelope: not JSON, not an object, no `trigger`, no `appId`. */
export class MalformedWebhookError extends Error {
  override readonly name = 'MalformedWebhookError';
}

/** The envelope belongs to another CometChat app. */
export class ForeignAppError extends Error {
  override readonly name = 'ForeignAppError';
}

/** The body is larger than the webhook accepts. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

/** Anything but POST (the HTTP API route already ensures this; we check anyway). */
export class MethodNotAllowedError extends Error {
  override readonly name = 'MethodNotAllowedError';
}
