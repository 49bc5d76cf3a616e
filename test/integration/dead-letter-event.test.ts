/**
 * CallArchiveFailed when SQS itself dead-letters (contract "Events"): a message that keeps failing
 * retryably reaches its last allowed receive, the real `enrich` consumer announces it, and the
 * queue's redrive (fauxqs, real HTTP) moves it to the dead-letter queue. EventBridge is a stand-in
 * speaking PutEvents' protocol; CometChat is the simulator answering 503.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalQueues, startLocalQueues } from '../../dev/local-queue.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';
import { awsJson, type ScriptedServer, type Step, startScriptedServer } from '../support/scripted-server.ts';

type Consumer = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
interface SentEvent {
  EventBusName: string;
  DetailType: string;
  Detail: string;
}

const QUEUE = 'dead-letter-event-enrich.fifo';
const DLQ = 'dead-letter-event-enrich-dlq.fifo';
const BUS = 'dead-letter-event-bus';
/** The redrive's maxReceiveCount, told to the consumer as serverless.yml tells it. */
const MAX_RECEIVES = 2;
/** Get Call answers 503 this many times per receive: the client's own retries, all refused. */
const FAULTS_PER_RECEIVE = 4;
let stack: LocalStack;
let queues: LocalQueues;
let sqs: SQSClient;
let eventBridge: ScriptedServer;
let events: SentEvent[];
let output: OutputCapture;

/** Answers PutEvents with `answer`, keeping the entries when it took them all. */
function putEvents(answer: { FailedEntryCount: number; Entries: object[] }): Step {
  return awsJson(200, answer, (text) => {
    if (answer.FailedEntryCount === 0) events.push(...(JSON.parse(text) as { Entries: SentEvent[] }).Entries);
  });
}

/** Queues a message for a call whose Get Call fails (503) on every receive the queue allows. */
async function sendFailingCall(): Promise<string> {
  const sessionId = `v1.us.${stack.simulator?.appId}.${randomUUID()}`;
  stack.simulator?.addCall({
    raw: {
      sessionId,
      type: 'audio',
      mode: 'call',
      status: 'ended',
      initiatedAt: 1_750_000_000,
      participants: [],
    },
  });
  stack.simulator?.failNext(
    { sessionId },
    ...Array.from({ length: FAULTS_PER_RECEIVE * MAX_RECEIVES }, () => ({
      kind: 'status' as const,
      status: 503,
    })),
  );
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.queueUrl(QUEUE),
      MessageBody: JSON.stringify({ sessionId, trigger: 'call_ended', eventKey: sessionId }),
      MessageGroupId: sessionId,
      MessageDeduplicationId: randomUUID(),
    }),
  );
  return sessionId;
}

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: [] } });
  eventBridge = await startScriptedServer();
  // Under a second, a failed message is visible again at once: the receives come back to back.
  queues = await startLocalQueues({ queues: [QUEUE, DLQ], retryDelayMs: 0, maxReceiveCount: MAX_RECEIVES });
  ({ sqs } = queues);
  stack.applyEnv();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    ENRICH_DLQ_URL: queues.queueUrl(DLQ),
    ENRICH_MAX_RECEIVE_COUNT: String(MAX_RECEIVES),
    EVENT_BUS_NAME: BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.origin,
  });
  const consumer = await importHandler<Consumer>('functions/queue-consumer.ts');
  await queues.consume(QUEUE, (event) => consumer(event, lambdaContext('enrich', 60_000)), DLQ);
}, 60_000);

beforeEach(() => {
  events = [];
  eventBridge.script(putEvents({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }));
});

afterAll(async () => {
  output?.stop();
  await queues?.close();
  await eventBridge?.close();
  await stack?.close();
  delete process.env.EVENT_BUS_NAME;
  delete process.env.ENRICH_MAX_RECEIVE_COUNT;
});

describe('a message SQS dead-letters after its last receive', () => {
  it('is announced once, with CallArchiveFailed naming the session and the error', async () => {
    const sessionId = await sendFailingCall();

    await queues.drained();

    expect(await queues.messages(QUEUE)).toEqual([]);
    expect((await queues.messages(DLQ)).map((m) => JSON.parse(m.body).sessionId)).toEqual([sessionId]);
    expect(events.map((e) => [e.EventBusName, e.DetailType])).toEqual([[BUS, 'CallArchiveFailed']]);
    expect(JSON.parse(events[0]?.Detail ?? '{}')).toEqual({
      sessionId,
      errorName: 'CometChatUnavailableError',
      errorMessage: expect.any(String),
    });
  }, 60_000);

  it('still goes to the dead-letter queue when the announcement is refused (the record stays failed)', async () => {
    eventBridge.script(putEvents({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] }));
    const before = (await queues.messages(DLQ)).length;
    const sessionId = await sendFailingCall();

    await queues.drained();

    expect(await queues.messages(QUEUE)).toEqual([]);
    expect((await queues.messages(DLQ)).slice(before).map((m) => JSON.parse(m.body).sessionId)).toEqual([
      sessionId,
    ]);
    expect(events).toEqual([]);
  }, 60_000);
});
