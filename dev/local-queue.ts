/**
 * SQS FIFO queues for `npm start` and the tests: fauxqs (an SQS emulator in this process, over
 * real HTTP) holds the queues, with its own FIFO semantics (message groups, deduplication ids,
 * visibility, redrive to a dead-letter queue after `maxReceiveCount` receives), on 127.0.0.1 only.
 * The handlers' real SQS clients reach it through AWS_ENDPOINT_URL_SQS. What fauxqs does not do,
 * Lambda's event source mapping, is the poller here: it receives batches, hands them to a consumer
 * (the real `enrich` handler) as SQS events, deletes what succeeded and lets the failures come back.
 */
import type { AddressInfo } from 'node:net';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { buildApp, type FauxqsServer } from 'fauxqs';

const REGION = 'us-east-1';

/** A queue as fauxqs's inspection route describes it. */
export type QueueState = NonNullable<ReturnType<FauxqsServer['inspectQueue']>>;

/** fauxqs serving over real HTTP on the loopback only. */
export interface QueueServer {
  /** For AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  /** Where its socket is bound (127.0.0.1). */
  readonly address: AddressInfo;
  /** An SQS client on {@link endpoint}. */
  readonly sqs: SQSClient;
  /** Creates FIFO queue `name` and returns its URL on {@link endpoint}. */
  createFifoQueue(name: string): Promise<string>;
  /** Queue `name` with every message it holds, through fauxqs's inspection route. */
  inspect(name: string): Promise<QueueState>;
  close(): Promise<void>;
}

/** Starts fauxqs on 127.0.0.1 (`port` 0: an ephemeral one). */
export async function startQueueServer(port = 0): Promise<QueueServer> {
  const app = buildApp({ logger: false });
  // Not startFauxqs: it listens on 0.0.0.0, an unauthenticated SQS for the whole local network.
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const sqs = new SQSClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    endpoint,
    address,
    sqs,
    async createFifoQueue(name) {
      const { QueueUrl = '' } = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true' } }),
      );
      // The same path on the endpoint keeps every request on 127.0.0.1, whatever host fauxqs names.
      return `${endpoint}${new URL(QueueUrl).pathname}`;
    },
    async inspect(name) {
      const response = await fetch(`${endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
      if (!response.ok) throw new Error(`no local queue ${name} (HTTP ${response.status})`);
      return (await response.json()) as QueueState;
    },
    async close() {
      sqs.destroy();
      await app.close();
    },
  };
}

/** What the consumer receives and answers (the `enrich` handler, wrapped with a context). */
export type QueueConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

/** Options for {@link startLocalQueues}. */
export interface LocalQueueOptions {
  /** Queue names (each ending `.fifo`); default the enrichment queue and its DLQ. */
  queues?: string[];
  port?: number;
  /**
   * How long a failed message stays invisible before it is received again. Default 2000 ms.
   * SQS counts in whole seconds: under 1000 ms it is visible again at once.
   */
  retryDelayMs?: number;
  /** Receives before the consumed queue's redrive moves a message to its dead-letter queue. Default 3. */
  maxReceiveCount?: number;
}

/** A message as a local queue holds it now (waiting, delayed or in flight). */
export interface LocalMessage {
  messageId: string;
  body: string;
  groupId?: string;
  deduplicationId?: string;
  /** Times it has been received so far. */
  receiveCount: number;
  attributes: Record<string, { DataType: string; StringValue?: string }>;
}

/** Running local queues. */
export interface LocalQueues {
  /** For AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  /** Where the server's socket is bound (127.0.0.1: not on the network). */
  readonly address: AddressInfo;
  /** A client for these queues (closed with them), for tools and tests that send or read directly. */
  readonly sqs: SQSClient;
  /** The queue's URL on {@link endpoint}. */
  queueUrl(name: string): string;
  /** Every message `name` holds, in flight or not, oldest first. */
  messages(name: string): Promise<readonly LocalMessage[]>;
  /**
   * Plays Lambda's event source mapping for `name`: its batches go to `consumer`, one at a time.
   * With `deadLetterQueue`, the queue gets a redrive policy to it first (as infra/queues.yml has).
   */
  consume(name: string, consumer: QueueConsumer, deadLetterQueue?: string): Promise<void>;
  /** Resolves once the consumed queue holds nothing (every message handled or dead-lettered). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** A received SQS message as Lambda's event source mapping puts it in the event. */
export function sqsRecordOf(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
      ...(attributes.SequenceNumber && { SequenceNumber: attributes.SequenceNumber }),
      ...(attributes.MessageGroupId && { MessageGroupId: attributes.MessageGroupId }),
      ...(attributes.MessageDeduplicationId && {
        MessageDeduplicationId: attributes.MessageDeduplicationId,
      }),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          stringValue: value.StringValue,
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}

/**
 * One poll of Lambda's event source mapping: receive up to 10 messages from `queueUrl`, hand them
 * to `consumer`, delete those that did not fail, make the failures visible again after
 * `retryDelayMs`. Returns how many messages it received.
 */
export async function deliverBatch(
  sqs: SQSClient,
  queueUrl: string,
  queueArn: string,
  consumer: QueueConsumer,
  options: { retryDelayMs?: number; waitTimeSeconds?: number } = {},
): Promise<number> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: options.waitTimeSeconds ?? 0,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  if (Messages.length === 0) return 0;
  const event: SQSEvent = { Records: Messages.map((message) => sqsRecordOf(message, queueArn)) };
  let failed: Set<string>;
  try {
    const answer = await consumer(event);
    failed = new Set((answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
  } catch {
    failed = new Set(event.Records.map((record) => record.messageId));
  }
  const entries = (keep: boolean) =>
    Messages.filter((message) => failed.has(message.MessageId ?? '') === keep).map((message, index) => ({
      Id: String(index),
      ReceiptHandle: message.ReceiptHandle ?? '',
    }));
  const done = entries(false);
  if (done.length > 0) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done }));
  const retry = entries(true);
  if (retry.length > 0) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: retry.map((entry) => ({
          ...entry,
          VisibilityTimeout: Math.floor((options.retryDelayMs ?? 0) / 1000),
        })),
      }),
    );
  }
  return Messages.length;
}

/** Starts fauxqs on 127.0.0.1 with FIFO queues named `options.queues`. */
export async function startLocalQueues(options: LocalQueueOptions = {}): Promise<LocalQueues> {
  const names = options.queues ?? ['cometchat-enrich.fifo', 'cometchat-enrich-dlq.fifo'];
  const server = await startQueueServer(options.port ?? 0);
  const { endpoint, sqs } = server;
  const urls = new Map<string, string>();
  for (const name of names) urls.set(name, await server.createFifoQueue(name));
  const queueUrl = (name: string) => {
    const url = urls.get(name);
    if (!url) throw new Error(`no local queue ${name}`);
    return url;
  };
  let consumed: string | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  let idle = true;
  let polls = 0;
  const waiters: (() => void)[] = [];

  const messages = async (name: string): Promise<LocalMessage[]> => {
    const { ready, delayed, inflight } = (await server.inspect(name)).messages;
    return [...ready, ...delayed, ...inflight.map((entry) => entry.message)]
      .sort((a, b) => a.sentTimestamp - b.sentTimestamp)
      .map((message) => ({
        messageId: message.messageId,
        body: message.body,
        groupId: message.messageGroupId,
        deduplicationId: message.messageDeduplicationId,
        receiveCount: message.approximateReceiveCount,
        attributes: message.messageAttributes,
      }));
  };
  const settle = async () => {
    if (!consumed || !idle) return;
    const poll = polls;
    const empty = (await messages(consumed)).length === 0;
    // A poll started while the queue was being inspected may have received something since.
    if (empty && idle && poll === polls) for (const resolve of waiters.splice(0)) resolve();
  };

  return {
    endpoint,
    address: server.address,
    sqs,
    queueUrl,
    messages,
    async consume(name, consumer, deadLetterQueue) {
      if (consumed) throw new Error(`the local queues already have a consumer (${consumed})`);
      consumed = name;
      if (deadLetterQueue) {
        await sqs.send(
          new SetQueueAttributesCommand({
            QueueUrl: queueUrl(name),
            Attributes: {
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: (await server.inspect(deadLetterQueue)).arn,
                maxReceiveCount: String(options.maxReceiveCount ?? 3),
              }),
            },
          }),
        );
      }
      const queueArn = (await server.inspect(name)).arn;
      running = (async () => {
        while (!stopping) {
          polls += 1;
          idle = false;
          // A poll that fails (the server closing, say) counts as an empty one.
          const received = await deliverBatch(sqs, queueUrl(name), queueArn, consumer, {
            retryDelayMs: options.retryDelayMs ?? 2000,
            waitTimeSeconds: 1,
          }).catch(() => 0);
          idle = received === 0;
          // An inspection that fails (the server closing, say) resolves nobody.
          await settle().catch(() => undefined);
        }
      })();
    },
    drained() {
      const promise = new Promise<void>((resolve) => waiters.push(resolve));
      settle().catch(() => undefined);
      return promise;
    },
    async close() {
      stopping = true;
      await running;
      for (const resolve of waiters.splice(0)) resolve();
      await server.close();
    },
  };
}
