/**
 * One deadline and one abort signal per invocation, both middy's: middy aborts the handler's
 * signal {@link WIND_DOWN_MS} before Lambda's timeout, and that moment is the deadline every
 * request (CometChat, recording downloads, S3, DynamoDB, SQS) is held to. The time after it lets
 * the aborted work unwind, so the handler settles with its own named error and nothing it started
 * outlives it (docs/architecture.md, "Time").
 */
import type { Context } from 'aws-lambda';
import { OutOfTimeError } from './errors.ts';

/** What one invocation may spend: pass both to every request. */
export interface TimeBudget {
  /** Aborted at `deadline` (by middy). */
  readonly signal: AbortSignal;
  /** Epoch ms by which every request must be done. */
  readonly deadline: number;
}

/** Kept back at the end of every invocation for aborted work to unwind and the answer to go out. */
export const WIND_DOWN_MS = 1_000;

/**
 * What clean-up after the abort (aborting an upload, writing a resume record) may take in all:
 * past it middy ends the invocation, and anything still running would outlive the handler.
 */
export const CLEANUP_MS = WIND_DOWN_MS / 2;

/** The budget of the invocation `context` describes, from the signal middy handed the handler. */
export function timeBudgetOf(
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  signal: AbortSignal,
  now: number = Date.now(),
): TimeBudget {
  return { signal, deadline: now + context.getRemainingTimeInMillis() - WIND_DOWN_MS };
}

/**
 * middy's options for every handler. middy settles with `timeoutEarlyResponse` as soon as it
 * aborts the signal; ours waits {@link CLEANUP_MS} first, so a handler whose work stops on the
 * signal answers with its own error, and only work that ignored it ends as OutOfTimeError (never
 * middy's nameless TimeoutError).
 */
export const MIDDY_OPTIONS = {
  timeoutEarlyInMillis: WIND_DOWN_MS,
  timeoutEarlyResponse: (): Promise<never> =>
    new Promise((_resolve, reject) => {
      setTimeout(
        () => reject(new OutOfTimeError('the invocation ran out of time before its work stopped')),
        CLEANUP_MS,
      ).unref();
    }),
};
