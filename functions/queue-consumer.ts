/**
 * `enrich`: the enrichment queue's consumer (SQS FIFO, partial batch responses). The policy is
 * lib/queue/consume.ts; this file wires it to the enrichment use case and the dead-letter queue.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readDeadLetterQueueConfig } from '../lib/config.ts';
import { enrichDependenciesFromEnv } from '../lib/enrich/dependencies.ts';
import { enrichCall } from '../lib/enrich/enrich.ts';
import { observeWith } from '../lib/enrich/observe.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';
import { createQueueConsumer } from '../lib/queue/consume.ts';
import { sendToDeadLetterQueue } from '../lib/queue/dead-letter.ts';
import { MIDDY_OPTIONS, timeBudgetOf } from '../lib/time-budget.ts';

const deps = { ...enrichDependenciesFromEnv(), observe: observeWith(logger, metrics) };
const { deadLetterQueueUrl } = readDeadLetterQueueConfig();
const sqs = new SQSClient({});
const consume = createQueueConsumer({
  enrich: (message, budget) => enrichCall(message, deps, budget),
  deadLetter: (record, error, budget) =>
    sendToDeadLetterQueue(sqs, deadLetterQueueUrl, record, error, budget),
  logger,
  metrics,
});

function enrichHandler(
  event: SQSEvent,
  context: Context,
  { signal }: { signal: AbortSignal },
): Promise<SQSBatchResponse> {
  return consume(event, timeBudgetOf(context, signal));
}

/** The Lambda entry point (event source: the enrichment queue, ReportBatchItemFailures). */
export const handler = middy(enrichHandler, MIDDY_OPTIONS)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
