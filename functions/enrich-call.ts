/**
 * `enrichCall`: direct invoke and Step Functions task. Takes `{ "sessionId": "…" }`, returns an
 * EnrichmentResult, or throws an error whose `name` Step Functions matches in Retry/Catch.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { deadlineFromRemaining, enrichDependenciesFromEnv } from '../lib/enrich/dependencies.ts';
import { type EnrichmentResult, enrichCall } from '../lib/enrich/enrich.ts';
import { observeWith } from '../lib/enrich/observe.ts';
import { logger } from '../lib/logger.ts';
import { countFailure, metrics } from '../lib/metrics.ts';

const deps = { ...enrichDependenciesFromEnv(), observe: observeWith(logger, metrics) };

async function enrichCallHandler(event: unknown, context: Context): Promise<EnrichmentResult> {
  const sessionId = (event as { sessionId?: unknown } | null)?.sessionId;
  if (typeof sessionId === 'string' && sessionId.length <= 256) logger.appendKeys({ sessionId });
  try {
    const result = await enrichCall(event, deps, {
      deadline: deadlineFromRemaining(context.getRemainingTimeInMillis()),
    });
    logger.info('call enriched', { status: result.status, recordings: result.recordings.length });
    return result;
  } catch (error) {
    logger.error('enrichment failed', { error });
    countFailure(error);
    throw error;
  }
}

/** The Lambda entry point. */
export const handler = middy(enrichCallHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
