/**
 * Issue 8, items 6–8, end to end on real parts: the real `enrichCall` handler against the
 * CometChat simulator over HTTP (whose request log holds each raw request path), the real `enrich`
 * consumer dead-lettering into a real queue emulator (fauxqs), and the real `webhook` handler
 * queueing into it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { httpApiEvent } from '../../dev/webhook-server.ts';
import { rejectionOf } from '../support/errors.ts';
import { type FifoQueues, sqsEvent, startFifoQueues } from '../support/fifo-queues.ts';
import {
  type EnrichCallHandler,
  importHandler,
  type QueueConsumerHandler,
  type WebhookHandler,
} from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

const QUEUE = 'refusals-enrich.fifo';
const DLQ = 'refusals-enrich-dlq.fifo';
const CREDENTIALS = 'cometchat:W3bh00kPassw0rd';

let stack: LocalStack;
let queues: FifoQueues;
let output: OutputCapture;
let enrichCall: EnrichCallHandler;

const simulator = () => {
  if (!stack.simulator) throw new Error('the stack runs without its simulator');
  return stack.simulator;
};
const apiPaths = () => simulator().requests.map((r) => r.path);
const waiting = (name: string) => queues.waiting(name);

/** Applies the stack's and the queues' environment, then imports a fresh copy of `path`. */
async function load<T>(path: string): Promise<T> {
  stack.applyEnv();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    ENRICH_QUEUE_URL: queues.url(QUEUE),
    ENRICH_DLQ_URL: queues.url(DLQ),
    WEBHOOK_BASIC_AUTH: CREDENTIALS,
  });
  return importHandler<T>(path);
}

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: [] } });
  queues = await startFifoQueues(QUEUE, DLQ);
  enrichCall = await load<EnrichCallHandler>('functions/enrich-call.ts');
});

afterAll(async () => {
  output?.stop();
  await queues?.close();
  await stack?.close();
});

beforeEach(async () => {
  simulator().resetRequests();
  await queues.reset();
});

describe('CometChat refusing the request itself (issue 8.6)', () => {
  it.each([
    ['a 400 with another error code', 400, { error: { code: 'ERR_BAD_REQUEST', message: 'Bad request.' } }],
    ['a 422', 422, { error: { code: 'ERR_UNPROCESSABLE_ENTITY', message: 'Unprocessable.' } }],
  ])('is CometChatRequestError after one request on %s', async (_label, status, body) => {
    const sessionId = `v1.us.refused.${randomUUID()}`;
    simulator().failNext({ sessionId }, { kind: 'status', status, body });

    const error = await rejectionOf(enrichCall({ sessionId }, lambdaContext('enrichCall')));

    expect(error.name).toBe('CometChatRequestError');
    expect(simulator().requests).toEqual([
      { method: 'GET', path: `/v3/calls/${encodeURIComponent(sessionId)}`, status, kind: 'get-call' },
    ]);
  });

  it('stays CallNotFoundError on the bare 400 {} the Get Call reference documents', async () => {
    const sessionId = `v1.us.missing.${randomUUID()}`;
    simulator().failNext({ sessionId }, { kind: 'status', status: 400, body: {} });

    const error = await rejectionOf(enrichCall({ sessionId }, lambdaContext('enrichCall')));

    expect(error.name).toBe('CallNotFoundError');
    expect(apiPaths()).toHaveLength(1);
  });

  it('is dead-lettered by the queue consumer at once, not handed back to SQS', async () => {
    const consumer = await load<QueueConsumerHandler>('functions/queue-consumer.ts');
    const sessionId = `v1.us.refused.${randomUUID()}`;
    simulator().failNext({ sessionId }, { kind: 'status', status: 422, body: {} });
    const body = JSON.stringify({ sessionId, trigger: 'call_ended', eventKey: 'k' });

    const response = await consumer(sqsEvent(body, sessionId, QUEUE), lambdaContext('enrich', 30_000));

    expect(response.batchItemFailures).toEqual([]);
    expect(apiPaths()).toHaveLength(1);
    const dead = await waiting(DLQ);
    expect(dead).toHaveLength(1);
    expect(JSON.stringify(dead[0])).toContain('CometChatRequestError');
  });
});

describe('a session id reaches exactly its own URL (issue 8.7)', () => {
  it.each(['.', '..'])('refuses %j with InvalidInputError before any request', async (sessionId) => {
    const error = await rejectionOf(enrichCall({ sessionId }, lambdaContext('enrichCall')));

    expect(error.name).toBe('InvalidInputError');
    expect(simulator().requests).toEqual([]);
  });

  it.each([
    ['a/../b', 'a%2F..%2Fb'],
    ['x?y#z', 'x%3Fy%23z'],
    ['%2e', '%252e'],
    ['%2e%2e', '%252e%252e'],
    ['a b', 'a%20b'],
    ['./..', '.%2F..'],
  ])('sends %j to /v3/calls/%s and nowhere else', async (sessionId, segment) => {
    const error = await rejectionOf(enrichCall({ sessionId }, lambdaContext('enrichCall')));

    // The simulator has no such call: it answered its own 404 for that very path.
    expect(error.name).toBe('CallNotFoundError');
    expect(simulator().requests).toEqual([
      { method: 'GET', path: `/v3/calls/${segment}`, status: 404, kind: 'get-call' },
    ]);
  });
});

describe("the webhook's duplicate check drops nothing real (issue 8.8)", () => {
  const fixture = JSON.parse(
    readFileSync(new URL('../fixtures/webhooks/recording-generated.json', import.meta.url), 'utf8'),
  ) as { data: Record<string, unknown> } & Record<string, unknown>;
  let webhook: WebhookHandler;

  beforeAll(async () => {
    webhook = await load<WebhookHandler>('functions/webhook.ts');
  });

  /** A recording_generated delivery for `sessionId`, posted through the real handler. */
  async function deliver(sessionId: string, data: Record<string, unknown>) {
    const envelope = {
      ...fixture,
      appId: stack.env.COMETCHAT_APP_ID,
      data: { ...fixture.data, sessionId, ...data },
    };
    const response = await webhook(post(JSON.stringify(envelope)), lambdaContext('webhook', 6_000));
    expect(response.statusCode).toBe(200);
    return JSON.parse(response.body ?? 'null');
  }

  const queued = async () => (await waiting(QUEUE)).map((m) => JSON.parse(m.body).sessionId as string);

  it.each([
    ['the same startTime', '1696937627'],
    ['no startTime', undefined],
  ])(
    'queues two recording_generated for different files of one session with %s',
    async (_label, startTime) => {
      const sessionId = `v1.us.two-files.${randomUUID()}`;

      await deliver(sessionId, {
        startTime,
        recording_url: 'https://recordings-us.cometchat.io/app/one.mp4?sig=1',
      });
      await deliver(sessionId, {
        startTime,
        recording_url: 'https://recordings-us.cometchat.io/app/two.mp4?sig=1',
      });

      expect(await queued()).toEqual([sessionId, sessionId]);
    },
  );

  it('still queues a redelivery of one file once, whatever its signed query', async () => {
    const sessionId = `v1.us.redelivered.${randomUUID()}`;
    const url = 'https://recordings-us.cometchat.io/app/one.mp4';

    await deliver(sessionId, { recording_url: `${url}?Signature=a` });
    expect(await deliver(sessionId, { recording_url: `${url}?Signature=b` })).toEqual({
      accepted: true,
      duplicate: true,
    });

    expect(await queued()).toEqual([sessionId]);
  });
});

/** The HTTP API v2 event of an authenticated webhook POST. */
function post(body: string): APIGatewayProxyEventV2 {
  const bytes = Buffer.from(body, 'utf8');
  return httpApiEvent(
    {
      method: 'POST',
      url: '/webhooks/cometchat',
      headers: {
        host: 'abc123.execute-api.us-east-1.amazonaws.com',
        authorization: `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`,
        'content-type': 'application/json',
        'content-length': String(bytes.length),
      },
      httpVersion: '1.1',
      socket: { remoteAddress: '203.0.113.9' } as never,
    },
    bytes,
    'POST /webhooks/cometchat',
  );
}
