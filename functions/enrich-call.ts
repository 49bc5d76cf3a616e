/**
 * `enrichCall`: direct invoke and Step Functions task. Takes `{ "sessionId": "…" }`, returns an
 * EnrichmentResult, or throws an error whose `name` Step Functions matches in Retry/Catch.
 */
import { enrichDependenciesFromEnv } from '../lib/enrich/dependencies.ts';
import { enrichCall } from '../lib/enrich/enrich.ts';
import { observeWith, reportEnrichment } from '../lib/enrich/observe.ts';
import { lambdaHandler } from '../lib/lambda-handler.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';

const deps = { ...enrichDependenciesFromEnv(), observe: observeWith(logger, metrics) };

/** The Lambda entry point. */
export const handler = lambdaHandler((event: unknown, budget) => {
  const sessionId = (event as { sessionId?: unknown } | null)?.sessionId;
  if (typeof sessionId === 'string' && sessionId.length <= 256) logger.appendKeys({ sessionId });
  return reportEnrichment(enrichCall(event, deps, budget), logger, metrics);
});
