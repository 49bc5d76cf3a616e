/**
 * `backfill`: EventBridge schedule and direct invoke. Takes `{from?, to?, dryRun?}` (a Scheduled
 * Event counts as `{}`), returns `{from, to, pages, listed, enqueued, checkpoint, …}` (see
 * lib/backfill/backfill.ts `BackfillResult`), or throws an error whose `name` says what failed.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type BackfillResult, backfill } from '../lib/backfill/backfill.ts';
import { backfillFromEnv } from '../lib/backfill/dependencies.ts';
import { countBackfill, countBackfillFailure, observeBackfillWith } from '../lib/backfill/observe.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';

const { deps, settings } = backfillFromEnv();
const observed = { ...deps, observe: observeBackfillWith(logger) };

async function backfillHandler(event: unknown, context: Context): Promise<BackfillResult> {
  try {
    const result = await backfill(event, observed, settings, {
      deadline: Date.now() + context.getRemainingTimeInMillis(),
    });
    countBackfill(result);
    const { sessionIds: _sample, ...summary } = result;
    logger.info('backfill finished', { ...summary });
    return result;
  } catch (error) {
    countBackfillFailure();
    logger.error('backfill failed', { error });
    throw error;
  }
}

/** The Lambda entry point. */
export const handler = middy(backfillHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
