import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalQueues, startLocalQueues } from '../../../dev/local-queue.ts';

const MAIN = 'main.fifo';
const DLQ = 'dlq.fifo';

let queues: LocalQueues;
let sqs: SQSClient;

const message = (body: string, group: string, dedupe = body) => ({
  MessageBody: body,
  MessageGroupId: group,
  MessageDeduplicationId: dedupe,
});

beforeEach(async () => {
  queues = await startLocalQueues({ queues: [MAIN, DLQ], retryDelayMs: 0, maxReceiveCount: 2 });
  // The real client, unchanged, pointed at the local queues.
  sqs = new SQSClient({
    endpoint: queues.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterEach(async () => {
  sqs.destroy();
  await queues.close();
});

/** How a TCP connection to `host:port` ends: 'connected', or the error's code. */
const tryConnect = (host: string, port: number) =>
  new Promise<string>((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });

describe('local SQS queues (fauxqs) and their event source mapping', () => {
  it("listens on 127.0.0.1 only, not on the machine's network addresses", async () => {
    const { address, port } = queues.address;
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((entry) => entry?.family === 'IPv4' && !entry.internal)
      .map((entry) => entry?.address ?? '');

    expect(address).toBe('127.0.0.1');
    expect(new URL(queues.endpoint).hostname).toBe('127.0.0.1');
    // On a machine with no non-internal IPv4 address, `external` is empty and this part proves
    // nothing; the address assertion above still does.
    const outcomes = await Promise.all(external.map((host) => tryConnect(host, port)));
    expect(outcomes).toEqual(external.map(() => 'ECONNREFUSED'));
  });

  it('accepts SendMessage from the real SQS client (body MD5 and all)', async () => {
    const answer = await sqs.send(
      new SendMessageCommand({ QueueUrl: queues.queueUrl(MAIN), ...message('a', 'g') }),
    );

    expect(answer.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await queues.messages(MAIN)).map((m) => m.body)).toEqual(['a']);
  });

  it('drops a repeated deduplication id within the window, as a FIFO queue does', async () => {
    const url = queues.queueUrl(MAIN);

    await sqs.send(new SendMessageCommand({ QueueUrl: url, ...message('first', 'g', 'same') }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, ...message('second', 'g', 'same') }));

    expect((await queues.messages(MAIN)).map((m) => m.body)).toEqual(['first']);
  });

  it('takes SendMessageBatch and reports entries without a group id as failed', async () => {
    const answer = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.queueUrl(MAIN),
        Entries: [
          { Id: 'a', ...message('a', 'g') },
          { Id: 'b', MessageBody: 'b', MessageDeduplicationId: 'b' },
        ],
      }),
    );

    expect(answer.Successful?.map((entry) => entry.Id)).toEqual(['a']);
    expect(answer.Failed).toEqual([expect.objectContaining({ Id: 'b', SenderFault: true })]);
  });

  it('says QueueDoesNotExist for an unknown queue', async () => {
    const send = sqs.send(
      new SendMessageCommand({ QueueUrl: `${queues.endpoint}/000000000000/nope.fifo`, ...message('a', 'g') }),
    );

    await expect(send).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
  });

  it("keeps a group's order through retries, and redrives a message after its last receive", async () => {
    const url = queues.queueUrl(MAIN);

    await sqs.send(new SendMessageCommand({ QueueUrl: url, ...message('bad', 'g1') }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, ...message('after-bad', 'g1') }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, ...message('other', 'g2') }));

    const events: string[][] = [];
    await queues.consume(
      MAIN,
      async (event: SQSEvent): Promise<SQSBatchResponse> => {
        events.push(event.Records.map((record) => record.body));
        // Like the FIFO batch processor: after a failure, the rest of that group fails too.
        const failedGroups = new Set<string | undefined>();
        const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
        for (const record of event.Records) {
          const group = record.attributes.MessageGroupId;
          if (record.body === 'bad' || failedGroups.has(group)) {
            failedGroups.add(group);
            batchItemFailures.push({ itemIdentifier: record.messageId });
          }
        }
        return { batchItemFailures };
      },
      DLQ,
    );
    await queues.drained();

    // fauxqs hands out one message per group per receive (AWS may hand out several, in order),
    // so 'after-bad' waits until 'bad' has left the queue.
    const lastBad = events.findLastIndex((batch) => batch.includes('bad'));
    const firstAfter = events.findIndex((batch) => batch.includes('after-bad'));
    expect(events[0]).toEqual(['bad', 'other']);
    expect(firstAfter).toBeGreaterThan(lastBad);
    expect(events.flat().filter((body) => body === 'bad')).toHaveLength(2);
    expect(events.flat().filter((body) => body === 'other')).toHaveLength(1);
    expect(await queues.messages(MAIN)).toEqual([]);
    // Handled twice; the third receive redrove it, and fauxqs counts that one too.
    expect((await queues.messages(DLQ)).map((m) => [m.body, m.receiveCount])).toEqual([['bad', 3]]);
  });

  it('delivers real-shaped SQS records', async () => {
    let received: SQSEvent | undefined;
    await queues.consume(MAIN, async (event) => {
      received = event;
      return { batchItemFailures: [] };
    });

    await sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl(MAIN), ...message('{"x":1}', 'g') }));
    await queues.drained();

    expect(received?.Records[0]).toMatchObject({
      body: '{"x":1}',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:main.fifo',
      attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'g', MessageDeduplicationId: '{"x":1}' },
    });
  });
});
