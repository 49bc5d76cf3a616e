/**
 * `enrich`: the enrichment queue's consumer (SQS FIFO, partial batch responses). Each message
 * `{"sessionId": …}` is enriched by the same use case as `enrichCall`. A retryable failure is
 * reported in `batchItemFailures` (SQS hands it out again; the rest of that session's group
 * waits, other sessions do not). A permanent one is sent to the dead-letter queue with its
 * reason and acknowledged, so it is not retried again and again.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { readDeadLetterQueueConfig } from '../lib/config.ts';
import { deadlineFromRemaining, enrichDependenciesFromEnv } from '../lib/enrich/dependencies.ts';
import { enrichCall } from '../lib/enrich/enrich.ts';
import { observeWith } from '../lib/enrich/observe.ts';
import { isPermanent, OutOfTimeError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { count, countFailure, countWith, errorNameOf, METRIC, metrics } from '../lib/metrics.ts';
import { sendToDeadLetterQueue } from '../lib/queue/dead-letter.ts';
import { parseEnrichmentMessage } from '../lib/queue/message.ts';

const deps = { ...enrichDependenciesFromEnv(), observe: observeWith(logger, metrics) };
const { deadLetterQueueUrl } = readDeadLetterQueueConfig();
const sqs = new SQSClient({});
const processor = new SqsFifoPartialProcessorAsync();

/** A message is not started with less than this share of the invocation's time left. */
const MIN_SHARE_LEFT_TO_START = 0.25;

/** Per-invocation state the record handler needs. */
interface BatchContext {
  context: Context;
  /** Remaining milliseconds when the batch started: close to the function's timeout. */
  startRemainingMs: number;
}

async function handleRecord(record: SQSRecord, batch: BatchContext): Promise<void> {
  logger.appendKeys({ messageId: record.messageId });
  try {
    const remaining = batch.context.getRemainingTimeInMillis();
    if (remaining < batch.startRemainingMs * MIN_SHARE_LEFT_TO_START) {
      throw new OutOfTimeError(`only ${remaining} ms left in this invocation; left for a later one`);
    }
    const message = parseEnrichmentMessage(record.body);
    logger.appendKeys({ sessionId: message.sessionId });
    const deadline = deadlineFromRemaining(remaining);
    const result = await enrichCall(message, deps, {
      deadline,
      // Downloads stop at the same deadline, leaving the reserve to clean up and answer.
      signal: AbortSignal.timeout(Math.max(1, Math.floor(deadline - Date.now()))),
    });
    logger.info('call enriched', {
      trigger: message.trigger,
      status: result.status,
      recordings: result.recordings.length,
    });
  } catch (error) {
    countFailure(error);
    if (!isPermanent(error)) {
      logger.warn('enrichment failed; SQS will retry', { error });
      throw error;
    }
    // If this send fails it throws, and the record is retried rather than lost.
    await sendToDeadLetterQueue(sqs, deadLetterQueueUrl, record, error);
    countWith(METRIC.DeadLettered, 'errorName', errorNameOf(error));
    logger.error('enrichment failed for good; sent to the dead-letter queue', { error });
  } finally {
    logger.removeKeys(['messageId', 'sessionId']);
  }
}

async function enrichHandler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  count(METRIC.MessagesReceived, event.Records?.length ?? 0);
  const batch: BatchContext = { context, startRemainingMs: context.getRemainingTimeInMillis() };
  return processPartialResponse(event, (record: SQSRecord) => handleRecord(record, batch), processor, {
    context,
    // One failing session must not hold back the other sessions' messages in this batch.
    skipGroupOnError: true,
    // Report every failure in batchItemFailures, even when all failed, rather than throwing.
    throwOnFullBatchFailure: false,
  });
}

/** The Lambda entry point (event source: the enrichment queue, ReportBatchItemFailures). */
export const handler = middy(enrichHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
