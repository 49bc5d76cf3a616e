/**
 * The enrichment queue's consumer policy. Each message is enriched; a retryable failure goes
 * back in `batchItemFailures` (SQS hands it out again; the rest of that session's group waits,
 * other sessions do not); a permanent one goes to the dead-letter queue with its reason and is
 * acknowledged. A retryable failure on the queue's last allowed receive is moved to the
 * dead-letter queue by SQS's redrive, which tells no one: the consumer announces it first
 * (CallArchiveFailed). A message is not started when too little of the invocation is left to finish it.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { EnrichmentResult } from '../enrich/enrich.ts';
import { isPermanent, OutOfTimeError } from '../errors.ts';
import { count, countFailure, countWith, errorNameOf, METRIC, type MetricsSink } from '../metrics.ts';
import type { TimeBudget } from '../time-budget.ts';
import { parseEnrichmentMessage, type ReceivedMessage } from './message.ts';

/** A message is not started with less than this share of the batch's time left. */
const MIN_SHARE_LEFT_TO_START = 0.25;

/** The consumer's collaborators. */
export interface QueueConsumerDependencies {
  /** Enriches one call within `budget`. */
  enrich(message: ReceivedMessage, budget: TimeBudget): Promise<EnrichmentResult>;
  /** Parks a record that can never succeed; throws when the dead-letter queue did not take it. */
  deadLetter(record: SQSRecord, error: unknown, budget: TimeBudget): Promise<void>;
  /**
   * The queue's redrive `maxReceiveCount` (ENRICH_MAX_RECEIVE_COUNT): a record that fails on this
   * receive goes to the dead-letter queue. Unset: the consumer cannot tell the last receive.
   */
  maxReceiveCount?: number;
  /** Announces a record SQS is about to dead-letter (CallArchiveFailed); throws when not taken. */
  announceDeadLettered(record: SQSRecord, error: unknown, budget: TimeBudget): Promise<void>;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'appendKeys' | 'removeKeys'>;
  metrics: MetricsSink;
  /** Epoch ms; default `Date.now`. */
  now?: () => number;
}

/** A consumer for the enrichment queue's Lambda events (ReportBatchItemFailures). */
export function createQueueConsumer(
  deps: QueueConsumerDependencies,
): (event: SQSEvent, budget: TimeBudget) => Promise<SQSBatchResponse> {
  const now = deps.now ?? Date.now;
  const { logger, metrics } = deps;
  const processor = new SqsFifoPartialProcessorAsync();
  const isLastReceive = (record: SQSRecord) =>
    deps.maxReceiveCount !== undefined &&
    Number(record.attributes.ApproximateReceiveCount) >= deps.maxReceiveCount;

  async function handleRecord(record: SQSRecord, budget: TimeBudget, minLeftMs: number): Promise<void> {
    logger.appendKeys({ messageId: record.messageId });
    try {
      const left = budget.deadline - now();
      if (budget.signal.aborted || left <= 0 || left < minLeftMs) {
        throw new OutOfTimeError(
          `only ${Math.max(0, left)} ms left in this invocation; left for a later one`,
        );
      }
      const message = parseEnrichmentMessage(record.body);
      logger.appendKeys({ sessionId: message.sessionId });
      const result = await deps.enrich(message, budget);
      logger.info('call enriched', {
        trigger: message.trigger,
        status: result.status,
        recordings: result.recordings.length,
      });
    } catch (error) {
      countFailure(error, metrics);
      if (!isPermanent(error)) {
        if (!isLastReceive(record)) {
          logger.warn('enrichment failed; SQS will retry', { error });
          throw error;
        }
        // The record fails either way; if this send throws, its error is the record's failure.
        await deps.announceDeadLettered(record, error, budget);
        countWith(METRIC.DeadLettered, 'errorName', errorNameOf(error), metrics);
        logger.error('enrichment failed on its last receive; SQS moves it to the dead-letter queue', {
          error,
        });
        throw error;
      }
      // If this send fails it throws, and the record is retried rather than lost.
      await deps.deadLetter(record, error, budget);
      countWith(METRIC.DeadLettered, 'errorName', errorNameOf(error), metrics);
      logger.error('enrichment failed for good; sent to the dead-letter queue', { error });
    } finally {
      logger.removeKeys(['messageId', 'sessionId']);
    }
  }

  return (event, budget) => {
    count(METRIC.MessagesReceived, event.Records?.length ?? 0, metrics);
    const minLeftMs = (budget.deadline - now()) * MIN_SHARE_LEFT_TO_START;
    return processPartialResponse(
      event,
      (record: SQSRecord) => handleRecord(record, budget, minLeftMs),
      processor,
      {
        // One failing session must not hold back the other sessions' messages in this batch.
        skipGroupOnError: true,
        // Report every failure in batchItemFailures, even when all failed, rather than throwing.
        throwOnFullBatchFailure: false,
      },
    );
  };
}
