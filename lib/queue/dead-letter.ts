/**
 * Parking a message that can never succeed: the `enrich` consumer sends it, unchanged, to the
 * dead-letter queue with the reason as message attributes, then acknowledges it, so SQS does
 * not hand it back again and again until its redrive policy gives up.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { StorageError } from '../errors.ts';
import { redactText } from '../logger.ts';
import type { QueueClient } from './enqueue.ts';

/** SQS message attribute values are limited to XML characters; the limit keeps the reason readable. */
const MAX_REASON_LENGTH = 1024;
// Characters an SQS attribute value may not hold (outside XML's Char production).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const NOT_XML_CHAR = /[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

function attributeText(value: string, fallback: string): string {
  const text = redactText(value).toWellFormed().replace(NOT_XML_CHAR, '?').slice(0, MAX_REASON_LENGTH);
  return text.trim() === '' ? fallback : text;
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/**
 * Sends `record`'s body to `deadLetterQueueUrl` with attributes `errorName`, `errorMessage`,
 * `sourceMessageId` and `approximateReceiveCount`, in the same message group. The source message
 * id is the deduplication id, so dead-lettering the same delivery twice leaves one copy. Throws
 * `StorageError` when SQS does not take it: the caller must then not acknowledge the record.
 */
export async function sendToDeadLetterQueue(
  client: QueueClient,
  deadLetterQueueUrl: string,
  record: Pick<SQSRecord, 'messageId' | 'body' | 'attributes'>,
  error: unknown,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  try {
    await client.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: record.body,
        MessageGroupId: record.attributes.MessageGroupId ?? 'dead-letter',
        MessageDeduplicationId: record.messageId,
        MessageAttributes: {
          errorName: text(attributeText(name, 'Error')),
          errorMessage: text(attributeText(message, name)),
          sourceMessageId: text(record.messageId),
          approximateReceiveCount: {
            DataType: 'Number',
            StringValue: String(Number(record.attributes.ApproximateReceiveCount) || 1),
          },
        },
      }),
      { abortSignal: options.signal },
    );
  } catch (cause) {
    throw new StorageError('could not send the message to the dead-letter queue', { cause });
  }
}
