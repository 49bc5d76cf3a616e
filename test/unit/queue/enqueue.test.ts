import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueEnrichment, enqueueEnrichments } from '../../../lib/queue/enqueue.ts';
import { type EnrichmentMessage, toQueueMessage } from '../../../lib/queue/message.ts';
import { rejectionOf } from '../../support/errors.ts';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/enrich.fifo';
const sqsMock = mockClient(SQSClient);
const client = new SQSClient({ region: 'us-east-1' });

const messages = (count: number): EnrichmentMessage[] =>
  Array.from({ length: count }, (_, i) => ({
    sessionId: `v1.us.s${i}`,
    trigger: 'backfill',
    eventKey: `k${i}`,
  }));

afterEach(() => {
  sqsMock.reset();
});

describe('enqueueEnrichment', () => {
  it('sends one message with the FIFO fields to the queue', async () => {
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const [message] = messages(1) as [EnrichmentMessage];

    await enqueueEnrichment(client, QUEUE_URL, message);

    expect(sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, ...toQueueMessage(message) },
    ]);
  });

  it('turns an SDK failure into StorageError with the cause', async () => {
    const cause = Object.assign(new Error('throttled'), { name: 'RequestThrottled' });
    sqsMock.on(SendMessageCommand).rejects(cause);

    const error = await rejectionOf(
      enqueueEnrichment(client, QUEUE_URL, messages(1)[0] as EnrichmentMessage),
    );

    expect(error.name).toBe('StorageError');
    expect(error.cause).toBe(cause);
  });
});

describe('enqueueEnrichments', () => {
  it('sends 23 messages as batches of 10, 10 and 3, in order', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `id-${entry.Id}` })),
      Failed: [],
    }));
    const all = messages(23);

    const result = await enqueueEnrichments(client, QUEUE_URL, all);

    expect(result).toEqual({ enqueued: 23 });
    const batches = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(batches.map((batch) => batch.Entries?.length)).toEqual([10, 10, 3]);
    expect(batches.every((batch) => batch.QueueUrl === QUEUE_URL)).toBe(true);
    const sent = batches.flatMap((batch) => batch.Entries ?? []);
    expect(sent.map(({ Id: _id, ...entry }) => entry)).toEqual(all.map(toQueueMessage));
    expect(new Set(sent.map((entry) => entry.Id)).size).toBe(23);
  });

  it('sends nothing for no messages', async () => {
    expect(await enqueueEnrichments(client, QUEUE_URL, [])).toEqual({ enqueued: 0 });
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('retries only the entries SQS failed, then succeeds', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: 'm0', MessageId: 'a', MD5OfMessageBody: '' }],
        Failed: [
          { Id: 'm1', Code: 'InternalError', SenderFault: false },
          { Id: 'm2', Code: 'ServiceUnavailable', SenderFault: false },
        ],
      })
      .resolvesOnce({
        Successful: [
          { Id: 'm1', MessageId: 'b', MD5OfMessageBody: '' },
          { Id: 'm2', MessageId: 'c', MD5OfMessageBody: '' },
        ],
        Failed: [],
      });

    const result = await enqueueEnrichments(client, QUEUE_URL, messages(3), { baseDelayMs: 1 });

    expect(result).toEqual({ enqueued: 3 });
    const retry = sqsMock.commandCalls(SendMessageBatchCommand)[1]?.args[0].input;
    expect(retry?.Entries?.map((entry) => entry.Id)).toEqual(['m1', 'm2']);
  });

  it('does not retry an entry SQS blames on the sender, and says so', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'm0', MessageId: 'a', MD5OfMessageBody: '' }],
      Failed: [{ Id: 'm1', Code: 'InvalidParameterValue', SenderFault: true }],
    });

    const error = await rejectionOf(enqueueEnrichments(client, QUEUE_URL, messages(2), { baseDelayMs: 1 }));

    expect(error.name).toBe('StorageError');
    expect(error.message).toBe('1 of 2 messages could not be enqueued (InvalidParameterValue); 1 were');
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('gives up after maxAttempts on an entry that keeps failing', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: 'm0', Code: 'InternalError', SenderFault: false }],
    });

    const error = await rejectionOf(
      enqueueEnrichments(client, QUEUE_URL, messages(1), { maxAttempts: 3, baseDelayMs: 1 }),
    );

    expect(error.message).toMatch(/^1 of 1 messages could not be enqueued \(InternalError\)/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('turns a failed request into StorageError and stops sending', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: messages(10).map((_, i) => ({ Id: `m${i}`, MessageId: `${i}`, MD5OfMessageBody: '' })),
      })
      .rejects(new Error('socket hang up'));

    const error = await rejectionOf(enqueueEnrichments(client, QUEUE_URL, messages(25)));

    expect(error.name).toBe('StorageError');
    expect(error.message).toBe('could not send to the enrichment queue after 10 of 25 messages');
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });
});
