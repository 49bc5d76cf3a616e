/**
 * The one shape of every Lambda entry point: middy with the shared logger and metrics, and one
 * time budget per invocation (lib/time-budget.ts) handed to the function that does the work.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from './logger.ts';
import { metrics } from './metrics.ts';
import { MIDDY_OPTIONS, type TimeBudget, timeBudgetOf } from './time-budget.ts';

/** A Lambda handler that runs `work` on each event within the invocation's budget. */
export function lambdaHandler<TEvent, TResult>(
  work: (event: TEvent, budget: TimeBudget) => Promise<TResult>,
  options: { logEvent?: false } = {},
) {
  return middy(
    (event: TEvent, context: Context, { signal }: { signal: AbortSignal }) =>
      work(event, timeBudgetOf(context, signal)),
    MIDDY_OPTIONS,
  )
    .use(injectLambdaContext(logger, { resetKeys: true, ...options }))
    .use(logMetrics(metrics));
}
