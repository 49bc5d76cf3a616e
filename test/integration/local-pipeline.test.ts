/**
 * What `npm start` runs: the dev webhook server, the local SQS queues and the real handlers,
 * with nothing mocked. A webhook POSTed over real HTTP ends up as a call in dynalite; the test
 * waits on the local queue draining, not on a timer.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_DEAD_LETTER_QUEUE, type LocalPipeline, startLocalPipeline } from '../../dev/local-pipeline.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import { fireWebhook } from '../../dev/webhook-sender.ts';
import { callItems } from '../support/dynamodb.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

const SAMPLES = sampleCalls(Date.now());
const GROUP = SAMPLES[2]?.raw.sessionId as string;

let stack: LocalStack;
let pipeline: LocalPipeline;
let documents: DynamoDBDocumentClient;
let output: OutputCapture;

const itemsOf = (sessionId: string) => callItems(documents, stack.tableName, sessionId);

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: SAMPLES } });
  vi.resetModules();
  pipeline = await startLocalPipeline(stack, { retryDelayMs: 50, maxReceiveCount: 2 });
  documents = DynamoDBDocumentClient.from(stack.clients.dynamodb);
});

afterAll(async () => {
  output?.stop();
  await pipeline?.close();
  await stack?.close();
});

describe('local pipeline (npm start)', () => {
  it('serves the webhook on /webhooks/cometchat and turns a call_ended into a stored call', async () => {
    const answer = await fireWebhook(pipeline.webhookUrl, 'call_ended', GROUP, pipeline.basicAuth);
    await pipeline.drained();

    expect(pipeline.webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/cometchat$/);
    expect(answer).toEqual({ status: 200, body: { accepted: true } });
    const items = await itemsOf(GROUP);
    expect(items.find((item) => item.sk === 'CALL')).toMatchObject({ sessionId: GROUP });
    expect(items.find((item) => item.sk === 'CALL')?.recordings).toHaveLength(2);
  });

  it('answers a redelivery as a duplicate and enriches nothing more', async () => {
    stack.simulator?.resetRequests();
    const at = Math.floor(Date.now() / 1000);

    const first = await fireWebhook(pipeline.webhookUrl, 'meeting_ended', GROUP, pipeline.basicAuth, { at });
    const again = await fireWebhook(pipeline.webhookUrl, 'meeting_ended', GROUP, pipeline.basicAuth, { at });
    await pipeline.drained();

    expect(first.body).toEqual({ accepted: true });
    expect(again.body).toEqual({ accepted: true, duplicate: true });
    expect(stack.simulator?.requests.filter((request) => request.kind === 'get-call')).toHaveLength(1);
  });

  it('refuses wrong credentials with 401 over HTTP', async () => {
    const answer = await fireWebhook(pipeline.webhookUrl, 'call_ended', GROUP, 'cometchat:not-the-password');

    expect(answer.status).toBe(401);
  });

  it('answers 404 off the webhook route, as HTTP API does', async () => {
    const response = await fetch(pipeline.webhookUrl.replace('/webhooks/cometchat', '/other'), {
      method: 'POST',
    });

    expect(response.status).toBe(404);
  });

  it("parks an unknown session in the local dead-letter queue with the consumer's reason", async () => {
    const unknown = `v1.us.${stack.simulator?.appId}.${randomUUID()}`;

    const answer = await fireWebhook(pipeline.webhookUrl, 'call_ended', unknown, pipeline.basicAuth);
    await pipeline.drained();

    expect(answer.status).toBe(200);
    const dead = (await pipeline.queues.messages(LOCAL_DEAD_LETTER_QUEUE)).filter((m) =>
      m.body.includes(unknown),
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]?.attributes.errorName?.StringValue).toBe('CallNotFoundError');
    expect(dead[0]?.groupId).toBe(unknown);
  });

  it('retries a failing call locally, then redrives it to the dead-letter queue after the last receive', async () => {
    const sessionId = `v1.us.${stack.simulator?.appId}.${randomUUID()}`;
    stack.simulator?.addCall({ raw: { ...(SAMPLES[0]?.raw ?? {}), sessionId } });
    stack.simulator?.failNext(
      { sessionId },
      ...Array.from({ length: 8 }, () => ({ kind: 'status' as const, status: 503 })),
    );

    await fireWebhook(pipeline.webhookUrl, 'call_ended', sessionId, pipeline.basicAuth);
    await pipeline.drained();

    const dead = (await pipeline.queues.messages(LOCAL_DEAD_LETTER_QUEUE)).filter((m) =>
      m.body.includes(sessionId),
    );
    expect(dead).toHaveLength(1);
    // Handled twice (maxReceiveCount 2); fauxqs also counts the third receive, which redrove it.
    expect(dead[0]?.receiveCount).toBe(3);
    expect(await itemsOf(sessionId)).toEqual([]);
  });
});
