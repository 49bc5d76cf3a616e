import { InvalidInputError } from '../errors.ts';
import { field, indexOfControlCharacter, isObject, quoteForMessage } from './coerce.ts';

/** Longest session id we accept (CometChat's own are about 80 characters). */
export const MAX_SESSION_ID_LENGTH = 256;

function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Validates a session id exactly as given (never trimmed): a string of 1..256 UTF-16 code units,
 * no control characters (U+0000–U+001F, U+007F–U+009F), not only whitespace, not `.` or `..`,
 * and no unpaired surrogate (it could not be put in a URL or in DynamoDB). Throws `InvalidInputError` saying
 * what is wrong, without echoing control characters or a whole over-long value.
 */
export function parseSessionId(value: unknown): string {
  if (value === undefined) throw new InvalidInputError('sessionId is missing');
  if (typeof value !== 'string') {
    throw new InvalidInputError(`sessionId must be a string, got ${describeType(value)}`);
  }
  if (value.length === 0) throw new InvalidInputError('sessionId is empty');
  if (value.length > MAX_SESSION_ID_LENGTH) {
    throw new InvalidInputError(
      `sessionId is ${value.length} characters long, over the limit of ${MAX_SESSION_ID_LENGTH} ` +
        `(it starts ${quoteForMessage(value, 32)})`,
    );
  }
  const control = indexOfControlCharacter(value);
  if (control !== -1) {
    const code = value.charCodeAt(control).toString(16).toUpperCase().padStart(4, '0');
    throw new InvalidInputError(`sessionId contains a control character (U+${code}) at index ${control}`);
  }
  if (value.trim() === '') throw new InvalidInputError('sessionId is only whitespace');
  // A URL resolves these as dot segments: `/calls/.` is List Calls, `/calls/..` the API root.
  if (value === '.' || value === '..') {
    throw new InvalidInputError(`sessionId ${JSON.stringify(value)} would address another endpoint`);
  }
  if (!value.isWellFormed()) throw new InvalidInputError('sessionId contains an unpaired UTF-16 surrogate');
  return value;
}

/**
 * Reads and validates `sessionId` off an event (an SQS message body, a Step Functions input).
 * A null or non-object event, or one without its own `sessionId`, is an `InvalidInputError`.
 */
export function sessionIdFromEvent(event: unknown): string {
  if (!isObject(event)) {
    throw new InvalidInputError(`the event must be an object with a sessionId, got ${describeType(event)}`);
  }
  return parseSessionId(field(event, 'sessionId'));
}
