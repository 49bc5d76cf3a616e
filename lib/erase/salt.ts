/**
 * The erasure salt: `ERASURE_SALT` itself (local use), or the Secrets Manager secret named by
 * `ERASURE_SALT_SECRET` (deployed: the stack generates it), read through Powertools Parameters
 * once per container. Without a salt, a uid's hash could be recomputed by anyone who guesses it.
 */
import { ConfigError, SecretError, StorageError } from '../errors.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Longer than any container lives: read once per container. */
const CACHE_FOREVER_SECONDS = 365 * 24 * 60 * 60;
/** Shorter salts are guessable; the generated secret is 64 characters. */
const MIN_SALT_LENGTH = 16;

/** A provider of the salt from `env`; throws `ConfigError` at start-up when neither variable is set. */
export function saltFromEnv(env: Env = process.env): () => Promise<string> {
  const value = env.ERASURE_SALT;
  if (value) {
    if (value.length < MIN_SALT_LENGTH) {
      throw new ConfigError(`ERASURE_SALT must be at least ${MIN_SALT_LENGTH} characters`);
    }
    return async () => value;
  }
  const secretId = env.ERASURE_SALT_SECRET;
  if (!secretId) throw new ConfigError('ERASURE_SALT_SECRET (or ERASURE_SALT) is not set');
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
  if (typeof value !== 'string' || value.length < MIN_SALT_LENGTH) {
    throw new SecretError(`erasure salt: secret ${secretId} is empty or too short`);
  }
  return value;
}
