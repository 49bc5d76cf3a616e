/**
 * `backfill`: EventBridge schedule and direct invoke. Takes `{from?, to?, dryRun?}` (a Scheduled
 * Event counts as `{}`), returns lib/backfill/backfill.ts `BackfillResult`, or throws an error
 * whose `name` says what failed.
 */
import { backfill } from '../lib/backfill/backfill.ts';
import { backfillFromEnv } from '../lib/backfill/dependencies.ts';
import { observeBackfillWith, reportBackfill } from '../lib/backfill/observe.ts';
import { lambdaHandler } from '../lib/lambda-handler.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';

const { deps, settings } = backfillFromEnv();
const observed = { ...deps, observe: observeBackfillWith(logger) };

/** The Lambda entry point. */
export const handler = lambdaHandler((event: unknown, budget) =>
  reportBackfill(backfill(event, observed, settings, budget), logger, metrics),
);
