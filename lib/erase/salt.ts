/**
 * The erasure salt: `ERASURE_SALT` itself (local use), or the Secrets Manager secret named by
 * `ERASURE_SALT_SECRET` (deployed: the stack generates it), read through Powertools Parameters
 * once per container. Without a salt, a uid's hash could be recomputed by anyone who guesses it.
 */
import { type ErasureSaltSource, MIN_ERASURE_SALT_LENGTH } from '../config.ts';
import { SecretError, StorageError } from '../errors.ts';

/** Longer than any container lives: read once per container. */
const CACHE_FOREVER_SECONDS = 365 * 24 * 60 * 60;

/** A provider of the salt from its source (lib/config.ts `readErasureSalt`). */
export function saltProvider(source: ErasureSaltSource): () => Promise<string> {
  if ('value' in source) {
    const { value } = source;
    return async () => value;
  }
  const { secretId } = source;
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= readSecret(secretId).catch((error: unknown) => {
      // A failed read is not cached: the next invocation tries again.
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function readSecret(secretId: string): Promise<string> {
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  let value: unknown;
  try {
    value = await getSecret(secretId, { maxAge: CACHE_FOREVER_SECONDS });
  } catch (cause) {
    throw new StorageError(`erasure salt: could not read secret ${secretId}`, { cause });
  }
  if (typeof value !== 'string' || value.length < MIN_ERASURE_SALT_LENGTH) {
    throw new SecretError(`erasure salt: secret ${secretId} is empty or too short`);
  }
  return value;
}
