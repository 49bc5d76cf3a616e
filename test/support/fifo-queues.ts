/**
 * What the queue consumer's integration tests share: FIFO queues on a real SQS emulator (fauxqs),
 * and the SQS event Lambda hands the consumer for one message.
 */
import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { type FauxqsServer, startFauxqs } from 'fauxqs';

/** A running emulator holding FIFO queues. */
export interface FifoQueues {
  readonly server: FauxqsServer;
  /** A queue's URL on the emulator's own address (`sqs.<region>.localhost` may not resolve). */
  url(name: string): string;
  /** The messages waiting in queue `name`. */
  waiting(name: string): NonNullable<ReturnType<FauxqsServer['inspectQueue']>>['messages']['ready'];
  close(): Promise<void>;
}

/** Starts fauxqs on an ephemeral port with FIFO queues `names`. */
export async function startFifoQueues(...names: string[]): Promise<FifoQueues> {
  const server = await startFauxqs({ port: 0, logger: false });
  for (const name of names) server.createQueue(name, { attributes: { FifoQueue: 'true' } });
  return {
    server,
    url: (name) => `${server.address}/000000000000/${name}`,
    waiting: (name) => server.inspectQueue(name)?.messages.ready ?? [],
    close: () => server.stop(),
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
