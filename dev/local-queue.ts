/**
 * A local stand-in for SQS FIFO queues, for `npm start` only: a node:http server speaking the
 * subset of the SQS JSON protocol the project sends (SendMessage, SendMessageBatch), so the real
 * SQS client is used unchanged with AWS_ENDPOINT_URL_SQS pointing here. A poller in the same
 * process hands a consumed queue's messages to a consumer (the real `enrich` handler) as
 * real-shaped SQS events, one batch at a time.
 *
 * Semantics kept: FIFO order per message group, one group's messages never in flight twice,
 * MessageDeduplicationId dropped within 5 minutes, partial batch responses, a redrive to
 * `<name>` 's dead-letter queue after `maxReceiveCount` receives. Not kept: visibility
 * timeouts (a failed message waits `retryDelayMs`), content-based deduplication, ReceiveMessage.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const DEDUPE_WINDOW_MS = 5 * 60_000;

/** A message as the local queue holds it. */
export interface LocalMessage {
  messageId: string;
  body: string;
  groupId: string;
  deduplicationId: string;
  sequenceNumber: string;
  sentAt: number;
  /** Epoch ms from which a message that failed may be handed out again. */
  visibleAt: number;
  receiveCount: number;
  attributes: Record<string, { DataType: string; StringValue?: string }>;
}

/** What the consumer receives and answers (the `enrich` handler, wrapped with a context). */
export type QueueConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

/** Options for {@link startLocalQueues}. */
export interface LocalQueueOptions {
  /** Queue names (each ending `.fifo`); default the enrichment queue and its DLQ. */
  queues?: string[];
  port?: number;
  /** Wait before a failed message is handed out again. Default 2000 ms. */
  retryDelayMs?: number;
  /** Receives before a message moves to the dead-letter queue. Default 3. */
  maxReceiveCount?: number;
}

/** Running local queues. */
export interface LocalQueues {
  /** For AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  queueUrl(name: string): string;
  /** Messages waiting in `name` (the dead-letter queue's, say), oldest first. */
  messages(name: string): readonly LocalMessage[];
  /** Starts handing `name`'s messages to `consumer`; failed ones go to `deadLetterQueue` after the last try. */
  consume(name: string, consumer: QueueConsumer, deadLetterQueue?: string): void;
  /** Resolves once the consumed queue has nothing waiting and nothing in flight. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** An SQS Lambda event record for a message, shaped as Lambda delivers it. */
export function sqsRecordOf(message: LocalMessage, queueName: string): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: `${message.messageId}#${message.receiveCount}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'AIDALOCALSENDER',
      ApproximateFirstReceiveTimestamp: String(message.sentAt),
      SequenceNumber: message.sequenceNumber,
      MessageGroupId: message.groupId,
      MessageDeduplicationId: message.deduplicationId,
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.attributes).map(([name, value]) => [
        name,
        {
          dataType: value.DataType,
          stringValue: value.StringValue,
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: md5(message.body),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName}`,
    awsRegion: REGION,
  };
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

class QueueError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface SendInput {
  MessageBody?: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
  MessageAttributes?: LocalMessage['attributes'];
}

/** Starts the local queues on 127.0.0.1. */
export async function startLocalQueues(options: LocalQueueOptions = {}): Promise<LocalQueues> {
  const names = options.queues ?? ['cometchat-enrich.fifo', 'cometchat-enrich-dlq.fifo'];
  const queues = new Map(names.map((name) => [name, [] as LocalMessage[]]));
  const seen = new Map<string, number>();
  const inFlight = new Set<string>();
  let wake: NodeJS.Timeout | undefined;
  const waiters: (() => void)[] = [];
  let sequence = 0;
  let consumer: { name: string; run: QueueConsumer; deadLetterQueue: string | undefined } | undefined;
  let busy = false;

  const queueOf = (url: unknown) => {
    const name = typeof url === 'string' ? url.split('/').pop() : undefined;
    const queue = name === undefined ? undefined : queues.get(name);
    if (!name || !queue) throw new QueueError('QueueDoesNotExist', 'The specified queue does not exist.');
    return { name, queue };
  };

  function send(url: unknown, input: SendInput) {
    const { name, queue } = queueOf(url);
    if (!input.MessageBody) throw new QueueError('MissingParameter', 'MessageBody is required.');
    if (!input.MessageGroupId) throw new QueueError('MissingParameter', 'MessageGroupId is required.');
    if (!input.MessageDeduplicationId) {
      throw new QueueError('InvalidParameterValue', 'The queue has no content-based deduplication.');
    }
    const key = `${name}\n${input.MessageDeduplicationId}`;
    const now = Date.now();
    const previous = seen.get(key);
    const result = {
      MD5OfMessageBody: md5(input.MessageBody),
      SequenceNumber: String(++sequence).padStart(20, '0'),
    };
    // A duplicate is accepted and dropped, as SQS does.
    if (previous !== undefined && previous > now) return { ...result, MessageId: randomUUID() };
    seen.set(key, now + DEDUPE_WINDOW_MS);
    const message: LocalMessage = {
      messageId: randomUUID(),
      body: input.MessageBody,
      groupId: input.MessageGroupId,
      deduplicationId: input.MessageDeduplicationId,
      sequenceNumber: result.SequenceNumber,
      sentAt: now,
      visibleAt: now,
      receiveCount: 0,
      attributes: input.MessageAttributes ?? {},
    };
    queue.push(message);
    setImmediate(pump);
    return { ...result, MessageId: message.messageId };
  }

  const handlers: Record<string, (input: Record<string, unknown>) => unknown> = {
    SendMessage: (input) => send(input.QueueUrl, input as SendInput),
    SendMessageBatch: (input) => {
      const entries = (input.Entries ?? []) as (SendInput & { Id: string })[];
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of entries) {
        try {
          Successful.push({ Id: entry.Id, ...send(input.QueueUrl, entry) });
        } catch (error) {
          if (!(error instanceof QueueError) || error.type === 'QueueDoesNotExist') throw error;
          Failed.push({ Id: entry.Id, Code: error.type, Message: error.message, SenderFault: true });
        }
      }
      return { Successful, Failed };
    },
  };

  function settle() {
    const queue = consumer && queues.get(consumer.name);
    if (busy || (queue && queue.length > 0)) return;
    for (const resolve of waiters.splice(0)) resolve();
  }

  async function pump() {
    if (busy || !consumer) return;
    const { name, run, deadLetterQueue } = consumer;
    const queue = queues.get(name) ?? [];
    const now = Date.now();
    const blocked = new Set<string>();
    const batch: LocalMessage[] = [];
    for (const message of queue) {
      if (batch.length === 10) break;
      // FIFO: nothing after a group's first waiting message may overtake it.
      if (blocked.has(message.groupId) || inFlight.has(message.messageId)) continue;
      if (message.visibleAt > now) {
        blocked.add(message.groupId);
        continue;
      }
      batch.push(message);
    }
    if (batch.length === 0) {
      // Wake up when the first waiting message becomes visible. Timers may fire a little before
      // Date.now() says they should, so this re-arms until the message is really due.
      const due = Math.min(...queue.map((message) => message.visibleAt));
      if (Number.isFinite(due) && !wake) {
        wake = setTimeout(
          () => {
            wake = undefined;
            void pump();
          },
          Math.max(1, due - now + 1),
        );
      }
      return settle();
    }
    busy = true;
    for (const message of batch) {
      message.receiveCount++;
      inFlight.add(message.messageId);
    }
    let failed: Set<string>;
    try {
      const answer = await run({ Records: batch.map((message) => sqsRecordOf(message, name)) });
      failed = new Set((answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch {
      failed = new Set(batch.map((message) => message.messageId));
    }
    const retryAt = Date.now() + (options.retryDelayMs ?? 2000);
    for (const message of batch) {
      inFlight.delete(message.messageId);
      const index = queue.indexOf(message);
      if (!failed.has(message.messageId)) queue.splice(index, 1);
      else if (message.receiveCount >= (options.maxReceiveCount ?? 3) && deadLetterQueue) {
        queue.splice(index, 1);
        queues.get(deadLetterQueue)?.push(message);
      } else {
        message.visibleAt = retryAt;
      }
    }
    busy = false;
    setImmediate(pump);
  }

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    let status = 200;
    let body: unknown;
    try {
      const handler = handlers[operation];
      if (!handler)
        throw new QueueError(
          'UnsupportedOperation',
          `${operation || 'This operation'} is not supported locally.`,
        );
      body = handler(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
    } catch (error) {
      status = 400;
      const type = error instanceof QueueError ? error.type : 'InvalidParameterValue';
      body = { __type: `com.amazonaws.sqs#${type}`, message: (error as Error).message };
    }
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    queueUrl: (name) => `${endpoint}/${ACCOUNT}/${name}`,
    messages: (name) => [...(queues.get(name) ?? [])],
    consume(name, run, deadLetterQueue) {
      queueOf(`/${name}`);
      consumer = { name, run, deadLetterQueue };
      setImmediate(pump);
    },
    drained() {
      const promise = new Promise<void>((resolve) => waiters.push(resolve));
      settle();
      return promise;
    },
    async close() {
      clearTimeout(wake);
      consumer = undefined;
      for (const resolve of waiters.splice(0)) resolve();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
