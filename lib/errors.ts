/**
 * The project's error tree. Every class sets `name` explicitly (minifiers rename classes, and
 * Step Functions matches `errorType` against it in Retry/Catch), takes `{ cause }`, and says
 * whether trying again later can help. Messages never contain secrets: no API key, no
 * Authorization header, no signed query string.
 */

/** Options every project error accepts. */
export interface ErrorOptions {
  cause?: unknown;
}

/** Base class: `retryable` tells the queue consumer and the workflows what to do with it. */
export abstract class EnrichmentError extends Error {
  abstract readonly retryable: boolean;
}

/** The event has no usable `sessionId`. Never retried; no request is sent to CometChat. */
export class InvalidInputError extends EnrichmentError {
  override readonly name = 'InvalidInputError';
  readonly retryable = false;
}

/** CometChat says the session does not exist. */
export class CallNotFoundError extends EnrichmentError {
  override readonly name = 'CallNotFoundError';
  readonly retryable = false;
}

/** The API key is missing, unknown or lacks access. */
export class CometChatAuthError extends EnrichmentError {
  override readonly name = 'CometChatAuthError';
  readonly retryable = false;
}

/**
 * CometChat refused the request itself: a 4xx other than 401, 403, 404 and 429, and other than
 * a 400 saying the session does not exist. Sending the same request again cannot help.
 */
export class CometChatRequestError extends EnrichmentError {
  override readonly name = 'CometChatRequestError';
  readonly retryable = false;
}

/** CometChat still answered 429 after the client's own retries. */
export class CometChatRateLimitError extends EnrichmentError {
  override readonly name = 'CometChatRateLimitError';
  readonly retryable = true;
  /** Seconds CometChat asked us to wait, when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: ErrorOptions & { retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** 5xx, timeouts or connection failures that outlasted the client's own retries. */
export class CometChatUnavailableError extends EnrichmentError {
  override readonly name = 'CometChatUnavailableError';
  readonly retryable = true;
}

/**
 * CometChat answered 2xx but the payload cannot be archived as it is: it lacks what a call cannot
 * do without (a session id, a status we can place), or it is beyond what the table can hold (the
 * message names the limit). Trying again will not change that, so it is permanent.
 */
export class InvalidCallDataError extends EnrichmentError {
  override readonly name = 'InvalidCallDataError';
  readonly retryable = false;
}

/** A recording could not be downloaded whole (status, truncation, timeout). */
export class RecordingDownloadError extends EnrichmentError {
  override readonly name = 'RecordingDownloadError';
  readonly retryable = true;
  /** The recording host's HTTP status, when the failure was a status. */
  readonly statusCode: number | undefined;

  constructor(message: string, options: ErrorOptions & { statusCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.statusCode = options.statusCode;
  }
}

/** A recording URL fails the URL policy; nothing was sent to it. */
export class RecordingRejectedError extends EnrichmentError {
  override readonly name = 'RecordingRejectedError';
  readonly retryable = false;
}

/**
 * An AWS dependency (DynamoDB, S3, SSM, SQS, EventBridge) failed in a way the SDK's own retries
 * did not absorb (throttling, a network failure, a service error); the cause is the service's
 * own error. Always worth retrying.
 */
export class StorageError extends EnrichmentError {
  override readonly name = 'StorageError';
  readonly retryable = true;
}

/** A required environment variable is missing or malformed. Thrown at start-up only. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * A secret the configuration names cannot be used: its SSM parameter is missing or empty, or its
 * value has the wrong form. Found when the secret is first needed, mid-run (unlike ConfigError).
 */
export class SecretError extends Error {
  override readonly name = 'SecretError';
}

/** The backfill was invoked with an unusable `from`, `to` or `dryRun`. Not an enrichment error. */
export class BackfillInputError extends Error {
  override readonly name = 'BackfillInputError';
}

/** A downloaded file's bytes do not match the sha256 the archive stored for it. Names the file. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/** The erase function was invoked with an unusable `uid`, `mode`, `dryRun` or `includeHeld`. */
export class EraseInputError extends Error {
  override readonly name = 'EraseInputError';
}

/** True when retrying the same input later cannot succeed. Unknown errors count as retryable. */
export function isPermanent(error: unknown): boolean {
  return error instanceof EnrichmentError && !error.retryable;
}

/**
 * The queue consumer did not start a message because too little of the invocation was left to
 * finish it (or the work outran the invocation's budget); SQS hands it out again later. Retryable.
 */
export class OutOfTimeError extends EnrichmentError {
  override readonly name = 'OutOfTimeError';
  readonly retryable = true;
}
