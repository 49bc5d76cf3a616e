/**
 * `backfill`: EventBridge schedule and direct invoke. Takes `{from?, to?, dryRun?}` (a Scheduled
 * Event counts as `{}`), returns lib/backfill/backfill.ts `BackfillResult`, or throws an error
 * whose `name` says what failed.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type BackfillResult, backfill } from '../lib/backfill/backfill.ts';
import { backfillFromEnv } from '../lib/backfill/dependencies.ts';
import { observeBackfillWith, reportBackfill } from '../lib/backfill/observe.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';
import { MIDDY_OPTIONS, timeBudgetOf } from '../lib/time-budget.ts';

const { deps, settings } = backfillFromEnv();
const observed = { ...deps, observe: observeBackfillWith(logger) };

function backfillHandler(
  event: unknown,
  context: Context,
  { signal }: { signal: AbortSignal },
): Promise<BackfillResult> {
  return reportBackfill(backfill(event, observed, settings, timeBudgetOf(context, signal)), logger, metrics);
}

/** The Lambda entry point. */
export const handler = middy(backfillHandler, MIDDY_OPTIONS)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
