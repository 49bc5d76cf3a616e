/** The CLI's exit codes and the two errors that choose them. */

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, infrastructure: 3 } as const;

/** A mistake in how the tool was called: exit 2, with the help of `command` (else the main help). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** Nothing could be done: AWS, the local stack or the configuration failed. Exit 3. */
export class InfrastructureError extends Error {
  override readonly name = 'InfrastructureError';
}

/** `cause` (AWS's or the stack's own error) as exit 3, saying `what` failed. */
export function infrastructureFailure(what: string, cause: unknown): InfrastructureError {
  const { name, message } = cause as Error;
  return new InfrastructureError(`${what}: ${name}: ${message}`, { cause });
}

/** What `run` returns; an error it throws is a usage error of `command` (bad input, not a failure). */
export async function asUsage<T>(command: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}
