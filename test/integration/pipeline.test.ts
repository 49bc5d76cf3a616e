/**
 * webhook → queue → enrich, end to end on the local stack (dynalite, s3rver, the CometChat
 * simulator over real HTTP) and a real FIFO queue (fauxqs): the real webhook handler sends to
 * it with the real SQS client, and the test plays Lambda's event source mapping (`deliverBatch`:
 * receive, hand the batch to the real enrich handler, delete what succeeded), so every message
 * crosses a real queue, and the dead-letter queue is a real one too.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  type Message,
  PurgeQueueCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import {
  deliverBatch,
  type LocalMessage,
  type LocalQueues,
  sqsRecordOf,
  startLocalQueues,
} from '../../dev/local-queue.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import { httpApiEvent } from '../../dev/webhook-server.ts';
import { callItems } from '../support/dynamodb.ts';
import { importHandler, type QueueConsumerHandler, type WebhookHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

const QUEUE = 'cometchat-call-archive-test-enrich.fifo';
const DLQ = 'cometchat-call-archive-test-enrich-dlq.fifo';
const CREDENTIALS = 'cometchat:Pipe1ineSecret';
const SAMPLES = sampleCalls(Date.now());
const sessionOf = (index: number) => SAMPLES[index]?.raw.sessionId as string;
const AUDIO = sessionOf(0);
const GROUP = sessionOf(2);

let stack: LocalStack;
let queues: LocalQueues;
let sqs: SQSClient;
let webhook: WebhookHandler;
let enrich: QueueConsumerHandler;
let documents: DynamoDBDocumentClient;
let output: OutputCapture;

function envelope(name: string, sessionId: string): string {
  const value = JSON.parse(
    readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8'),
  );
  value.data.sessionId = sessionId;
  value.appId = stack.simulator?.appId;
  return JSON.stringify(value);
}

async function deliver(fixture: string, sessionId: string): Promise<void> {
  const headers = {
    authorization: `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`,
    'content-type': 'application/json',
  };
  const request = httpApiEvent(
    { method: 'POST', url: '/webhooks/cometchat', headers, httpVersion: '1.1', socket: {} as never },
    Buffer.from(envelope(fixture, sessionId)),
    'POST /webhooks/cometchat',
  );
  const response = await webhook(request, lambdaContext('webhook', 6_000));
  expect(JSON.parse(response.body ?? '')).toEqual({ accepted: true });
}

/** What one poll of the event source mapping handed the consumer, and what it answered. */
interface Poll {
  event: SQSEvent;
  response: SQSBatchResponse;
}

/** One poll of the queue into the real enrich handler (failures visible again at once). */
async function poll(context: () => Context = () => lambdaContext('enrich')): Promise<Poll | undefined> {
  let seen: Poll | undefined;
  await deliverBatch(sqs, queues.queueUrl(QUEUE), queueArn(), async (event) => {
    const response = await enrich(event, context());
    seen = { event, response };
    return response;
  });
  return seen;
}

const queueArn = () => `arn:aws:sqs:us-east-1:000000000000:${QUEUE}`;
const waiting = (name: string) => queues.messages(name);
const bodyOf = (message: LocalMessage) => JSON.parse(message.body) as { sessionId: string };

/** A new session the simulator knows (a copy of the plain audio call). */
function newCall(): string {
  const sessionId = `v1.us.${stack.simulator?.appId}.${randomUUID()}`;
  stack.simulator?.addCall({ raw: { ...(SAMPLES[0]?.raw ?? {}), sessionId } });
  return sessionId;
}

const itemsOf = (sessionId: string) => callItems(documents, stack.tableName, sessionId);

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: SAMPLES } });
  queues = await startLocalQueues({ queues: [QUEUE, DLQ] });
  ({ sqs } = queues);
  stack.applyEnv();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    ENRICH_QUEUE_URL: queues.queueUrl(QUEUE),
    ENRICH_DLQ_URL: queues.queueUrl(DLQ),
    WEBHOOK_BASIC_AUTH: CREDENTIALS,
    // As serverless.yml's provider environment sets them.
    POWERTOOLS_SERVICE_NAME: 'cometchat-call-archive',
    POWERTOOLS_METRICS_NAMESPACE: 'CometChatCallArchive',
  });
  webhook = await importHandler<WebhookHandler>('functions/webhook.ts');
  enrich = await importHandler<QueueConsumerHandler>('functions/queue-consumer.ts', { fresh: false });
  documents = DynamoDBDocumentClient.from(stack.clients.dynamodb);
});

beforeEach(async () => {
  // Each test starts from empty queues: a message a test leaves for a retry is not the next one's.
  for (const name of [QUEUE, DLQ]) await sqs.send(new PurgeQueueCommand({ QueueUrl: queues.queueUrl(name) }));
});

afterAll(async () => {
  output?.stop();
  await queues?.close();
  await stack?.close();
});

describe('webhook → queue → enrich', () => {
  it('archives the calls CometChat announced: DynamoDB items and S3 recordings', async () => {
    await deliver('call-ended', AUDIO);
    await deliver('recording-generated', GROUP);

    const batch = await poll();

    expect(batch?.event.Records).toHaveLength(2);
    expect(batch?.response).toEqual({ batchItemFailures: [] });
    expect(await waiting(QUEUE)).toEqual([]);
    const audio = await itemsOf(AUDIO);
    expect(audio.find((item) => item.sk === 'CALL')).toMatchObject({ sessionId: AUDIO, status: 'ended' });
    expect(audio.filter((item) => item.entity === 'participant')).toHaveLength(2);
    const recordings = (await itemsOf(GROUP)).find((item) => item.sk === 'CALL')?.recordings as Record<
      string,
      unknown
    >[];
    expect(recordings).toHaveLength(2);
    for (const recording of recordings) {
      const head = await stack.clients.s3.send(
        new HeadObjectCommand({ Bucket: stack.bucket, Key: recording.key as string }),
      );
      expect(head.ContentLength).toBe(recording.bytes);
    }
    expect(await waiting(DLQ)).toEqual([]);
  });

  it('sends a session CometChat does not know to the DLQ with its reason, and acknowledges it', async () => {
    const unknown = `v1.us.${stack.simulator?.appId}.${randomUUID()}`;
    await deliver('call-ended', unknown);
    const [queued] = await waiting(QUEUE);

    const batch = await poll();

    expect(batch?.response).toEqual({ batchItemFailures: [] });
    expect(await waiting(QUEUE)).toEqual([]);
    const dead = await waiting(DLQ);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      body: queued?.body,
      groupId: unknown,
      deduplicationId: queued?.messageId,
      attributes: {
        errorName: { DataType: 'String', StringValue: 'CallNotFoundError' },
        sourceMessageId: { DataType: 'String', StringValue: queued?.messageId },
        approximateReceiveCount: { DataType: 'Number', StringValue: '1' },
      },
    });
    expect(dead[0]?.attributes.errorMessage?.StringValue).toBeTruthy();
    expect(await itemsOf(unknown)).toEqual([]);
  });

  it('leaves a call CometChat keeps failing (503 × 4) in the queue for a retry, not the DLQ', async () => {
    const sessionId = newCall();
    await deliver('meeting-ended', sessionId);
    stack.simulator?.failNext(
      { sessionId },
      ...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })),
    );

    const batch = await poll();

    expect(batch?.response).toEqual({
      batchItemFailures: [{ itemIdentifier: batch?.event.Records[0]?.messageId }],
    });
    expect(
      (await waiting(QUEUE)).map((message) => [bodyOf(message).sessionId, message.receiveCount]),
    ).toEqual([[sessionId, 1]]);
    expect(await waiting(DLQ)).toEqual([]);
  });

  it("holds back only the failing session's group; other sessions in the batch go through", async () => {
    const failing = newCall();
    const passing = newCall();
    stack.simulator?.failNext(
      { sessionId: failing },
      ...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })),
    );
    await deliver('call-ended', failing);
    await deliver('recording-generated', failing);
    await deliver('call-ended', passing);
    // AWS may deliver a group's messages together in one batch; fauxqs hands out one message per
    // group per receive. So the batch is the queued messages as AWS could deliver them.
    const asReceived = (await waiting(QUEUE)).map(
      (message): Message => ({
        MessageId: message.messageId,
        ReceiptHandle: message.messageId,
        Body: message.body,
        Attributes: {
          ApproximateReceiveCount: '1',
          ...(message.groupId && { MessageGroupId: message.groupId }),
          ...(message.deduplicationId && { MessageDeduplicationId: message.deduplicationId }),
        },
      }),
    );
    const event: SQSEvent = { Records: asReceived.map((message) => sqsRecordOf(message, queueArn())) };

    const response = await enrich(event, lambdaContext('enrich'));

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([
      event.Records[0]?.messageId,
      event.Records[1]?.messageId,
    ]);
    expect((await itemsOf(passing)).some((item) => item.sk === 'CALL')).toBe(true);
    expect(await itemsOf(failing)).toEqual([]);
  });

  it('dead-letters a message that is not JSON as InvalidInputError', async () => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl(QUEUE),
        MessageBody: 'not json',
        MessageGroupId: 'g',
        MessageDeduplicationId: randomUUID(),
      }),
    );

    const batch = await poll();

    expect(batch?.response).toEqual({ batchItemFailures: [] });
    expect((await waiting(DLQ)).map((message) => message.attributes.errorName?.StringValue)).toEqual([
      'InvalidInputError',
    ]);
  });

  it('keeps a permanent failure for retry when the DLQ refuses it: never lost', async () => {
    const unknown = `v1.us.${stack.simulator?.appId}.${randomUUID()}`;
    await deliver('call-ended', unknown);
    // A dead-letter queue that is gone refuses the send, as one the role may not write to would.
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queues.queueUrl(DLQ) }));

    try {
      const batch = await poll();

      expect(batch?.response).toEqual({
        batchItemFailures: [{ itemIdentifier: batch?.event.Records[0]?.messageId }],
      });
      expect((await waiting(QUEUE)).map((message) => bodyOf(message).sessionId)).toEqual([unknown]);
    } finally {
      await sqs.send(new CreateQueueCommand({ QueueName: DLQ, Attributes: { FifoQueue: 'true' } }));
    }
  });

  it('leaves a message for a later invocation when too little time is left to start it', async () => {
    const sessionId = newCall();
    await deliver('call-ended', sessionId);
    stack.simulator?.resetRequests();
    // No more than the wind-down Lambda keeps back: nothing may start.
    const context = () => Object.assign(lambdaContext('enrich'), { getRemainingTimeInMillis: () => 1_000 });

    const batch = await poll(context);

    expect(batch?.response).toEqual({
      batchItemFailures: [{ itemIdentifier: batch?.event.Records[0]?.messageId }],
    });
    expect(stack.simulator?.requests).toHaveLength(0);
    expect((await waiting(QUEUE)).map((message) => bodyOf(message).sessionId)).toEqual([sessionId]);
  });

  it('logged the session id on the enrichment lines and counted what it did', () => {
    const lines = output.lines().filter((line) => line.startsWith('{'));
    const enriched = lines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.message === 'call enriched');
    expect(enriched.length).toBeGreaterThan(0);
    expect(enriched.every((entry) => typeof entry.sessionId === 'string')).toBe(true);
    const emf = lines.filter((line) => line.includes('"CometChatCallArchive"')).join('\n');
    for (const metric of [
      'CallsEnriched',
      'RecordingsCopied',
      'RecordingBytes',
      'EnrichmentFailures',
      'WebhookAccepted',
    ]) {
      expect(emf).toContain(`"${metric}"`);
    }
    expect(emf).toContain('"errorName":"CallNotFoundError"');
  });
});
