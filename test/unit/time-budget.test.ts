import { describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { RecordingDownloadError } from '../../lib/errors.ts';
import { lambdaHandler } from '../../lib/lambda-handler.ts';
import { type TimeBudget, timeBudgetOf, WIND_DOWN_MS } from '../../lib/time-budget.ts';
import { rejectionOf } from '../support/errors.ts';
import { captureOutput } from '../support/log-capture.ts';

/** A handler wired as the functions/ handlers are, around `work`. */
function wired(work: (budget: TimeBudget) => Promise<string>) {
  return lambdaHandler((_event: unknown, budget) => work(budget));
}

/** Work that only ends when the signal aborts, failing with the error a download would. */
const untilAborted = (budget: TimeBudget) =>
  new Promise<string>((_resolve, reject) => {
    budget.signal.addEventListener(
      'abort',
      () => reject(new RecordingDownloadError('download was aborted')),
      {
        once: true,
      },
    );
  });

describe('timeBudgetOf', () => {
  it('sets the deadline the wind-down before the end of the invocation', () => {
    const signal = new AbortController().signal;

    const budget = timeBudgetOf({ getRemainingTimeInMillis: () => 30_000 }, signal, 1_000_000);

    expect(budget).toEqual({ signal, deadline: 1_000_000 + 30_000 - WIND_DOWN_MS });
  });
});

describe('lambdaHandler', () => {
  it('aborts the budget signal at the deadline, so work fails with its own error', async () => {
    let budget: TimeBudget | undefined;
    const handler = wired((b) => {
      budget = b;
      return untilAborted(b);
    });

    const error = await rejectionOf(handler({}, lambdaContext('test', WIND_DOWN_MS + 300)));

    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(budget?.signal.aborted).toBe(true);
  });

  it('ends work that ignores the signal as OutOfTimeError, never as middy TimeoutError', async () => {
    const handler = wired(() => new Promise<string>(() => {}));

    const output = captureOutput();
    const error = await rejectionOf(handler({}, lambdaContext('test', WIND_DOWN_MS + 100))).finally(() =>
      output.stop(),
    );

    expect(error.name).toBe('OutOfTimeError');
  });

  it('leaves work that finishes in time alone', async () => {
    let signal: AbortSignal | undefined;
    const handler = wired(async (budget) => {
      signal = budget.signal;
      return 'done';
    });

    expect(await handler({}, lambdaContext('test', 60_000))).toBe('done');
    expect(signal?.aborted).toBe(false);
  });
});
