/**
 * HTTP Basic authentication for CometChat's webhook calls (CometChat signs nothing, so Basic
 * auth is all there is). The comparison hashes both sides and compares the digests in constant
 * time, so neither the content nor the length of the expected credentials leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SecretError } from '../errors.ts';
import type { SecretProvider } from '../secrets.ts';
import { WebhookAuthError } from './errors.ts';

/** The realm named in `WWW-Authenticate`. */
export const BASIC_REALM = 'cometchat-webhooks';

// RFC 7617: scheme (case-insensitive), one or more spaces, token68 base64. Nothing else.
const BASIC_HEADER = /^basic +([A-Za-z0-9+/]+={0,2})$/i;
// Longer than CometChat's limits (user ≤ 50, password ≤ 100) plus slack; refuse before decoding.
const MAX_HEADER_LENGTH = 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The decoded `user:password` of a Basic Authorization header, or undefined when the header is
 * absent or not strictly well formed (bad scheme, non-canonical base64, not UTF-8, no colon,
 * empty user).
 */
export function parseBasicAuthorization(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return undefined;
  const match = BASIC_HEADER.exec(header.trim());
  const token = match?.[1];
  if (!token || token.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(token, 'base64');
  // Buffer.from skips what it cannot decode; a token that does not round-trip was not canonical.
  if (bytes.toString('base64') !== token) return undefined;
  let decoded: string;
  try {
    decoded = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded : undefined;
}

/** Constant-time equality of two credentials strings (compares their SHA-256 digests). */
export function credentialsMatch(provided: string, expected: string): boolean {
  return timingSafeEqual(digest(provided), digest(expected));
}

/**
 * A check that resolves when `authorization` carries the expected credentials and throws
 * `WebhookAuthError` otherwise. The expected value is read once (from SSM when deployed) and
 * only its digest is kept. An expected value that is not `user:password` (surrounding
 * whitespace aside) is a `SecretError`: nobody could ever match it.
 */
export function basicAuthCheck(
  expected: SecretProvider,
): (authorization: string | undefined) => Promise<void> {
  let expectedDigest: Buffer | undefined;
  return async (authorization) => {
    if (!expectedDigest) {
      const credentials = (await expected()).trim();
      if (credentials.indexOf(':') < 1) {
        throw new SecretError('the webhook credentials must have the form "user:password"');
      }
      expectedDigest = digest(credentials);
    }
    const provided = parseBasicAuthorization(authorization);
    // Hash something even when the header is unusable, so a malformed header costs the same.
    const matches = timingSafeEqual(digest(provided ?? ''), expectedDigest);
    if (provided === undefined || !matches) {
      throw new WebhookAuthError(
        authorization === undefined ? 'no Authorization header' : 'wrong or malformed Basic credentials',
      );
    }
  };
}
