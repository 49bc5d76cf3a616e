/** Capture what a call throws, so a test can assert on the error itself (name, message, cause). */

/** A class of error `thrownBy` may be asked to insist on. */
type ErrorClass<E extends Error> = new (...args: never[]) => E;

/**
 * The error `fn` throws; fails the test when it returns normally. With `type`, anything else
 * thrown is thrown on, so the test fails showing the unexpected error.
 */
export function thrownBy(fn: () => unknown): Error;
export function thrownBy<E extends Error>(fn: () => unknown, type: ErrorClass<E>): E;
export function thrownBy(fn: () => unknown, type?: ErrorClass<Error>): Error {
  try {
    fn();
  } catch (error) {
    if (type === undefined || error instanceof type) return error as Error;
    throw error;
  }
  throw new Error(`expected ${type?.name ?? 'a throw'}, but nothing was thrown`);
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
