/**
 * `enrich`: the enrichment queue's consumer (SQS FIFO, partial batch responses). The policy is
 * lib/queue/consume.ts; this file wires it to the enrichment use case and the dead-letter queue.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { readDeadLetterQueueConfig } from '../lib/config.ts';
import { enrichDependenciesFromEnv } from '../lib/enrich/dependencies.ts';
import { enrichCall } from '../lib/enrich/enrich.ts';
import { observeWith } from '../lib/enrich/observe.ts';
import { publishDeadLettered } from '../lib/enrich/publish.ts';
import { lambdaHandler } from '../lib/lambda-handler.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';
import { createQueueConsumer } from '../lib/queue/consume.ts';
import { sendToDeadLetterQueue } from '../lib/queue/dead-letter.ts';

const deps = { ...enrichDependenciesFromEnv(), observe: observeWith(logger, metrics) };
const { deadLetterQueueUrl, maxReceiveCount } = readDeadLetterQueueConfig();
const sqs = new SQSClient({});
const consume = createQueueConsumer({
  enrich: (message, budget) => enrichCall(message, deps, budget),
  deadLetter: async (record, error, budget) => {
    await sendToDeadLetterQueue(sqs, deadLetterQueueUrl, record, error, budget);
    // CallArchiveFailed (with EVENT_BUS_NAME); if it is not taken, the record is retried.
    await publishDeadLettered(deps.events, record, error, budget);
  },
  maxReceiveCount,
  // A retryable failure on the last receive: SQS's redrive dead-letters it, so announce it here.
  announceDeadLettered: (record, error, budget) => publishDeadLettered(deps.events, record, error, budget),
  logger,
  metrics,
});

/** The Lambda entry point (event source: the enrichment queue, ReportBatchItemFailures). */
export const handler = lambdaHandler((event: SQSEvent, budget) => consume(event, budget));
