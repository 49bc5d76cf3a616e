/**
 * Sending enrichment messages: one at a time (the webhook, which must answer only once SQS has
 * the message) or in batches of ten (the backfill), retrying the entries a batch reports as
 * failed. SDK exceptions become `StorageError` here, with the SDK's error as `cause`.
 */
import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { backoffDelayMs, sleep } from '../backoff.ts';
import { StorageError } from '../errors.ts';
import { type EnrichmentMessage, toQueueMessage } from './message.ts';

/** The part of the SQS client this module uses, so callers may hand in their own. */
export type QueueClient = Pick<SQSClient, 'send'>;

/** SendMessageBatch takes at most ten entries. */
export const MAX_BATCH_ENTRIES = 10;

/** Per-call limits: the invocation's abort signal. */
export interface SendOptions {
  signal?: AbortSignal;
}

/** Retry settings for {@link enqueueEnrichments}. */
export interface EnqueueOptions extends SendOptions {
  /** Tries per entry, the first included. Default 3. */
  maxAttempts?: number;
  /** Cap of the first (jittered) wait before retrying failed entries; doubles each time. Default 200 ms. */
  baseDelayMs?: number;
  /** A number in [0, 1); default `Math.random`. */
  random?: () => number;
}

/** The longest wait between two tries of a batch. */
const MAX_DELAY_MS = 5_000;

/** What {@link enqueueEnrichments} did. */
export interface EnqueueResult {
  /** Messages SQS accepted (a FIFO queue accepts, and then drops, a duplicate within 5 minutes). */
  enqueued: number;
}

/** Sends one message; resolves once SQS has accepted it. Throws `StorageError` otherwise. */
export async function enqueueEnrichment(
  client: QueueClient,
  queueUrl: string,
  message: EnrichmentMessage,
  options: SendOptions = {},
): Promise<void> {
  try {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toQueueMessage(message) }), {
      abortSignal: options.signal,
    });
  } catch (cause) {
    throw new StorageError('could not send the message to the enrichment queue', { cause });
  }
}

/**
 * Sends `messages` in order, ten per SendMessageBatch, retrying entries SQS failed for a reason
 * of its own (not `SenderFault`) with jittered exponential backoff. Resolves when every message was
 * accepted; throws `StorageError` naming how many were not. Safe to repeat: a FIFO queue drops
 * a repeated deduplication id within 5 minutes, and enrichment is idempotent beyond that.
 */
export async function enqueueEnrichments(
  client: QueueClient,
  queueUrl: string,
  messages: readonly EnrichmentMessage[],
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const baseDelayMs = options.baseDelayMs ?? 200;
  const random = options.random ?? Math.random;
  let enqueued = 0;
  const failures: BatchResultErrorEntry[] = [];
  // One batch at a time: batches sent in parallel could reorder one session's messages.
  for (let start = 0; start < messages.length; start += MAX_BATCH_ENTRIES) {
    let pending: SendMessageBatchRequestEntry[] = messages
      .slice(start, start + MAX_BATCH_ENTRIES)
      .map((message, index) => ({ Id: `m${start + index}`, ...toQueueMessage(message) }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      let result: Awaited<ReturnType<typeof sendBatch>>;
      try {
        result = await sendBatch(client, queueUrl, pending, options.signal);
      } catch (cause) {
        throw new StorageError(
          `could not send to the enrichment queue after ${enqueued} of ${messages.length} messages`,
          { cause },
        );
      }
      enqueued += result.Successful?.length ?? 0;
      const failed = result.Failed ?? [];
      const retryable = failed.filter((entry) => !entry.SenderFault);
      failures.push(...failed.filter((entry) => entry.SenderFault));
      if (retryable.length === 0) break;
      if (attempt >= maxAttempts) {
        failures.push(...retryable);
        break;
      }
      const retryIds = new Set(retryable.map((entry) => entry.Id));
      pending = pending.filter((entry) => retryIds.has(entry.Id));
      try {
        await sleep(backoffDelayMs(attempt - 1, baseDelayMs, MAX_DELAY_MS, random), options.signal);
      } catch (cause) {
        throw new StorageError(
          `stopped sending to the enrichment queue after ${enqueued} of ${messages.length} messages`,
          {
            cause,
          },
        );
      }
    }
  }
  if (failures.length > 0) {
    const codes = [...new Set(failures.map((entry) => entry.Code ?? 'unknown'))].join(', ');
    throw new StorageError(
      `${failures.length} of ${messages.length} messages could not be enqueued (${codes}); ${enqueued} were`,
    );
  }
  return { enqueued };
}

function sendBatch(
  client: QueueClient,
  queueUrl: string,
  entries: SendMessageBatchRequestEntry[],
  signal: AbortSignal | undefined,
) {
  return client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }), {
    abortSignal: signal,
  });
}
