/**
 * `enrichCall`: direct invoke and Step Functions task. Takes `{ "sessionId": "…" }`, returns an
 * EnrichmentResult, or throws an error whose `name` Step Functions matches in Retry/Catch.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { enrichDependenciesFromEnv } from '../lib/enrich/dependencies.ts';
import { type EnrichmentResult, enrichCall } from '../lib/enrich/enrich.ts';
import { observeWith, reportEnrichment } from '../lib/enrich/observe.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';
import { MIDDY_OPTIONS, timeBudgetOf } from '../lib/time-budget.ts';

const deps = { ...enrichDependenciesFromEnv(), observe: observeWith(logger, metrics) };

function enrichCallHandler(
  event: unknown,
  context: Context,
  { signal }: { signal: AbortSignal },
): Promise<EnrichmentResult> {
  const sessionId = (event as { sessionId?: unknown } | null)?.sessionId;
  if (typeof sessionId === 'string' && sessionId.length <= 256) logger.appendKeys({ sessionId });
  return reportEnrichment(enrichCall(event, deps, timeBudgetOf(context, signal)), logger, metrics);
}

/** The Lambda entry point. */
export const handler = middy(enrichCallHandler, MIDDY_OPTIONS)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
