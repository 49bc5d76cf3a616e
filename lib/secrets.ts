/**
 * Turns a configured secret source into a provider: the literal value (local use), or an SSM
 * SecureString read through Powertools Parameters once per container and cached. The SSM client
 * is only imported when a parameter is actually configured, so local runs and cold starts that
 * never need it do not pay for it.
 */
import type { SecretSource } from './config.ts';
import { CometChatAuthError, StorageError } from './errors.ts';

/** Something that yields a secret, fetching it at most once per container. */
export type SecretProvider = () => Promise<string>;

/** Longer than any container lives: the contract reads each secret once per container. */
const CACHE_FOREVER_SECONDS = 365 * 24 * 60 * 60;

/**
 * A provider for `source`. `what` names the secret in error messages (the value never appears).
 * `missing` builds the error for a parameter that does not exist or is empty.
 */
export function secretProvider(
  source: SecretSource,
  what: string,
  missing: (message: string) => Error = (message) => new CometChatAuthError(message),
): SecretProvider {
  if ('value' in source) {
    const { value } = source;
    return async () => value;
  }
  const { parameterName } = source;
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= load(parameterName, what, missing).catch((error: unknown) => {
      // A failed read is not cached: the next invocation tries again.
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function load(
  parameterName: string,
  what: string,
  missing: (message: string) => Error,
): Promise<string> {
  const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
  let value: string | undefined;
  try {
    value = await getParameter(parameterName, { decrypt: true, maxAge: CACHE_FOREVER_SECONDS });
  } catch (cause) {
    if (isParameterNotFound(cause)) throw missing(`${what}: SSM parameter ${parameterName} does not exist`);
    throw new StorageError(`${what}: could not read SSM parameter ${parameterName}`, { cause });
  }
  if (!value) throw missing(`${what}: SSM parameter ${parameterName} is empty`);
  return value;
}

function isParameterNotFound(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  // Powertools wraps the SDK's exception in a GetParameterError; look through the causes.
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if ((current as { name?: unknown }).name === 'ParameterNotFound') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
