/**
 * webhook → queue → enrich, end to end on the local stack (dynalite, s3rver, the CometChat
 * simulator over real HTTP). The SQS client is the one thing mocked, at the SDK boundary: the
 * messages the real webhook handler sends are captured and handed to the real enrich handler
 * as a Lambda SQS event, exactly as the event source mapping would.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { sqsRecordOf } from '../../dev/local-queue.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import { httpApiEvent } from '../../dev/webhook-server.ts';
import { WIND_DOWN_MS } from '../../lib/time-budget.ts';
import { callItems } from '../support/dynamodb.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

type Webhook = (
  event: APIGatewayProxyEventV2,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;
type Enrich = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/cometchat-call-archive-test-enrich.fifo';
const DLQ_URL =
  'https://sqs.us-east-1.amazonaws.com/123456789012/cometchat-call-archive-test-enrich-dlq.fifo';
const CREDENTIALS = 'cometchat:Pipe1ineSecret';
const SAMPLES = sampleCalls(Date.now());
const sessionOf = (index: number) => SAMPLES[index]?.raw.sessionId as string;
const AUDIO = sessionOf(0);
const GROUP = sessionOf(2);

const sqs = mockClient(SQSClient);
let stack: LocalStack;
let webhook: Webhook;
let enrich: Enrich;
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

async function deliver(body: string): Promise<APIGatewayProxyStructuredResultV2> {
  const headers = {
    authorization: `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`,
    'content-type': 'application/json',
  };
  const request = httpApiEvent(
    { method: 'POST', url: '/webhooks/cometchat', headers, httpVersion: '1.1', socket: {} as never },
    Buffer.from(body),
    'POST /webhooks/cometchat',
  );
  return webhook(request, lambdaContext('webhook', 6_000));
}

const sentTo = (queueUrl: string) =>
  sqs
    .commandCalls(SendMessageCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.QueueUrl === queueUrl);

/** The Lambda SQS event for messages the webhook sent, as the event source mapping delivers them. */
function sqsEvent(inputs: SendMessageCommandInput[], receiveCount = 1): SQSEvent {
  return {
    Records: inputs.map((input) =>
      sqsRecordOf(
        {
          messageId: randomUUID(),
          body: input.MessageBody ?? '',
          groupId: input.MessageGroupId ?? '',
          deduplicationId: input.MessageDeduplicationId ?? '',
          sequenceNumber: String(Date.now()),
          sentAt: Date.now(),
          visibleAt: Date.now(),
          receiveCount,
          attributes: {},
        },
        'cometchat-call-archive-test-enrich.fifo',
      ),
    ),
  };
}

/** Delivers webhooks for `sessionIds` and returns the messages they queued. */
async function queuedFor(
  ...deliveries: [fixture: string, sessionId: string][]
): Promise<SendMessageCommandInput[]> {
  const before = sentTo(QUEUE_URL).length;
  for (const [fixture, sessionId] of deliveries) {
    const response = await deliver(envelope(fixture, sessionId));
    expect(JSON.parse(response.body ?? '')).toEqual({ accepted: true });
  }
  return sentTo(QUEUE_URL).slice(before);
}

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
  stack.applyEnv();
  Object.assign(process.env, {
    ENRICH_QUEUE_URL: QUEUE_URL,
    ENRICH_DLQ_URL: DLQ_URL,
    WEBHOOK_BASIC_AUTH: CREDENTIALS,
    // As serverless.yml sets it: Powertools reads its namespace from here.
    POWERTOOLS_METRICS_NAMESPACE: 'CometChatCallArchive',
  });
  webhook = await importHandler<Webhook>('functions/webhook.ts');
  enrich = await importHandler<Enrich>('functions/queue-consumer.ts', { fresh: false });
  documents = DynamoDBDocumentClient.from(stack.clients.dynamodb);
});

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: randomUUID() });
});

afterAll(async () => {
  output?.stop();
  sqs.restore();
  await stack?.close();
});

describe('webhook → queue → enrich', () => {
  it('archives the calls CometChat announced: DynamoDB items and S3 recordings', async () => {
    const messages = await queuedFor(['call-ended', AUDIO], ['recording-generated', GROUP]);

    const response = await enrich(sqsEvent(messages), lambdaContext('enrich'));

    expect(response).toEqual({ batchItemFailures: [] });
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
    expect(sentTo(DLQ_URL)).toHaveLength(0);
  });

  it('sends a session CometChat does not know to the DLQ with its reason, and acknowledges it', async () => {
    const unknown = `v1.us.${stack.simulator?.appId}.${randomUUID()}`;
    const messages = await queuedFor(['call-ended', unknown]);
    const event = sqsEvent(messages, 2);

    const response = await enrich(event, lambdaContext('enrich'));

    expect(response).toEqual({ batchItemFailures: [] });
    const [dead] = sentTo(DLQ_URL);
    expect(sentTo(DLQ_URL)).toHaveLength(1);
    expect(dead).toMatchObject({
      MessageBody: messages[0]?.MessageBody,
      MessageGroupId: unknown,
      MessageDeduplicationId: event.Records[0]?.messageId,
      MessageAttributes: {
        errorName: { DataType: 'String', StringValue: 'CallNotFoundError' },
        sourceMessageId: { DataType: 'String', StringValue: event.Records[0]?.messageId },
        approximateReceiveCount: { DataType: 'Number', StringValue: '2' },
      },
    });
    expect(dead?.MessageAttributes?.errorMessage?.StringValue).toBeTruthy();
    expect(await itemsOf(unknown)).toEqual([]);
  });

  it('reports a call CometChat keeps failing (503 × 4) in batchItemFailures, not the DLQ', async () => {
    const sessionId = newCall();
    const messages = await queuedFor(['meeting-ended', sessionId]);
    stack.simulator?.failNext(
      { sessionId },
      ...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })),
    );
    const event = sqsEvent(messages);

    const response = await enrich(event, lambdaContext('enrich'));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
    expect(sentTo(DLQ_URL)).toHaveLength(0);
  });

  it("holds back only the failing session's group; other sessions in the batch go through", async () => {
    const failing = newCall();
    const passing = newCall();
    stack.simulator?.failNext(
      { sessionId: failing },
      ...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })),
    );
    const messages = await queuedFor(
      ['call-ended', failing],
      ['recording-generated', failing],
      ['call-ended', passing],
    );
    const event = sqsEvent(messages);

    const response = await enrich(event, lambdaContext('enrich'));

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([
      event.Records[0]?.messageId,
      event.Records[1]?.messageId,
    ]);
    expect((await itemsOf(passing)).some((item) => item.sk === 'CALL')).toBe(true);
    expect(await itemsOf(failing)).toEqual([]);
  });

  it('dead-letters a message that is not JSON as InvalidInputError', async () => {
    const event = sqsEvent([{ QueueUrl: QUEUE_URL, MessageBody: 'not json', MessageGroupId: 'g' }]);

    const response = await enrich(event, lambdaContext('enrich'));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sentTo(DLQ_URL)[0]?.MessageAttributes?.errorName?.StringValue).toBe('InvalidInputError');
  });

  it('keeps a permanent failure for retry when the DLQ refuses it: never lost', async () => {
    const unknown = `v1.us.${stack.simulator?.appId}.${randomUUID()}`;
    const messages = await queuedFor(['call-ended', unknown]);
    sqs.on(SendMessageCommand, { QueueUrl: DLQ_URL }).rejects(new Error('AccessDenied'));
    const event = sqsEvent(messages);

    const response = await enrich(event, lambdaContext('enrich'));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
  });

  it('leaves a message for a later invocation when too little time is left to start it', async () => {
    const messages = await queuedFor(['call-ended', newCall()]);
    stack.simulator?.resetRequests();
    const event = sqsEvent(messages);

    // Less than the wind-down the invocation keeps for itself: no time to start anything.
    const response = await enrich(event, lambdaContext('enrich', WIND_DOWN_MS / 2));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
    expect(stack.simulator?.requests).toHaveLength(0);
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
