/**
 * What the queue consumer's integration tests share: FIFO queues on a real SQS emulator (fauxqs),
 * and the SQS event Lambda hands the consumer for one message.
 */
import { randomUUID } from 'node:crypto';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { type QueueState, startQueueServer } from '../../dev/local-queue.ts';

/** A running emulator holding FIFO queues, on 127.0.0.1 only. */
export interface FifoQueues {
  /** For AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  /** A queue's URL on {@link endpoint} (`sqs.<region>.localhost` may not resolve). */
  url(name: string): string;
  /** The messages waiting in queue `name`. */
  waiting(name: string): Promise<QueueState['messages']['ready']>;
  /** Empties every queue. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Starts fauxqs on an ephemeral loopback port with FIFO queues `names`. */
export async function startFifoQueues(...names: string[]): Promise<FifoQueues> {
  const server = await startQueueServer();
  const urls = new Map<string, string>();
  for (const name of names) urls.set(name, await server.createFifoQueue(name));
  const url = (name: string) => {
    const found = urls.get(name);
    if (!found) throw new Error(`no local queue ${name}`);
    return found;
  };
  return {
    endpoint: server.endpoint,
    url,
    waiting: async (name) => (await server.inspect(name)).messages.ready,
    async reset() {
      for (const name of names) await server.sqs.send(new PurgeQueueCommand({ QueueUrl: url(name) }));
    },
    close: () => server.close(),
  };
}

/** An SQS FIFO event holding one record with `body`, as Lambda hands it to the consumer. */
export function sqsEvent(body: string, groupId: string, queue: string): SQSEvent {
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: 'handle',
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'test',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
          MessageGroupId: groupId,
          MessageDeduplicationId: randomUUID(),
          SequenceNumber: '1',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
        awsRegion: 'us-east-1',
      },
    ],
  };
}
