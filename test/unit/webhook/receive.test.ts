import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../../lib/errors.ts';
import type { EnrichmentMessage } from '../../../lib/queue/message.ts';
import type { TimeBudget } from '../../../lib/time-budget.ts';
import { WebhookAuthError } from '../../../lib/webhook/errors.ts';
import { createWebhookReceiver, type WebhookDependencies } from '../../../lib/webhook/receive.ts';
import { createRecentKeys } from '../../../lib/webhook/recent-keys.ts';

const APP_ID = 'app123';
const BUDGET: TimeBudget = { signal: new AbortController().signal, deadline: Date.now() + 4_000 };

function request(body: unknown, method = 'POST'): APIGatewayProxyEventV2 {
  return {
    headers: { authorization: 'Basic good' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method } },
  } as unknown as APIGatewayProxyEventV2;
}

const callEnded = (sessionId: string) => ({
  trigger: 'call_ended',
  appId: APP_ID,
  webhook: 'wh_1',
  data: { sessionId, destroyed_at: 1_700_000_000 },
});

/** Collaborators that record what they were asked. */
function harness(options: { enqueueFails?: boolean } = {}) {
  const queued: [EnrichmentMessage, TimeBudget][] = [];
  const metrics: string[] = [];
  const deps: WebhookDependencies = {
    appId: APP_ID,
    checkAuth: async (authorization) => {
      if (authorization !== 'Basic good') throw new WebhookAuthError('wrong credentials');
    },
    enqueue: async (message, budget) => {
      if (options.enqueueFails) throw new StorageError('SQS is down');
      queued.push([message, budget]);
    },
    recentlyQueued: createRecentKeys(),
    logger: { info: () => {}, warn: () => {}, error: () => {}, appendKeys: () => {} },
    metrics: {
      addMetric: (name: string) => void metrics.push(name),
      addDimension: (name: string, value: string) => void metrics.push(`${name}=${value}`),
    } as unknown as WebhookDependencies['metrics'],
  };
  return { deps, queued, metrics };
}

const bodyOf = (response: { body?: string }) => JSON.parse(response.body ?? '');

describe('createWebhookReceiver', () => {
  it('queues an archived trigger with the invocation budget and answers 200 accepted', async () => {
    const h = harness();
    const receive = createWebhookReceiver(h.deps);

    const response = await receive(request(callEnded('v1.us.app123.s1')), BUDGET);

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({ accepted: true });
    expect(h.queued.map(([message, budget]) => [message.sessionId, message.trigger, budget])).toEqual([
      ['v1.us.app123.s1', 'call_ended', BUDGET],
    ]);
    expect(h.metrics).toEqual(['WebhookAccepted']);
  });

  it('answers a redelivery from memory without queueing it again', async () => {
    const h = harness();
    const receive = createWebhookReceiver(h.deps);

    await receive(request(callEnded('v1.us.app123.s2')), BUDGET);
    const again = await receive(request(callEnded('v1.us.app123.s2')), BUDGET);

    expect(bodyOf(again)).toEqual({ accepted: true, duplicate: true });
    expect(h.queued).toHaveLength(1);
  });

  it('answers 503 when the queue refuses, and queues the redelivery then', async () => {
    const failing = harness({ enqueueFails: true });
    const shared = createRecentKeys();
    const first = await createWebhookReceiver({ ...failing.deps, recentlyQueued: shared })(
      request(callEnded('v1.us.app123.s3')),
      BUDGET,
    );
    const working = harness();

    const retry = await createWebhookReceiver({ ...working.deps, recentlyQueued: shared })(
      request(callEnded('v1.us.app123.s3')),
      BUDGET,
    );

    expect(first.statusCode).toBe(503);
    expect(failing.metrics).toEqual(['status=503', 'WebhookRejected']);
    expect(bodyOf(retry)).toEqual({ accepted: true });
    expect(working.queued).toHaveLength(1);
  });

  it('checks credentials before reading the body', async () => {
    const h = harness();
    const receive = createWebhookReceiver(h.deps);
    const event = { ...request('not json'), headers: { authorization: 'Basic bad' } };

    const response = await receive(event, BUDGET);

    expect(response.statusCode).toBe(401);
    expect(h.queued).toEqual([]);
  });

  it('acknowledges a trigger it does not archive, and refuses other methods and other apps', async () => {
    const h = harness();
    const receive = createWebhookReceiver(h.deps);

    const ignored = await receive(request({ trigger: 'call_busy', appId: APP_ID, data: {} }), BUDGET);
    const get = await receive(request(callEnded('v1.us.app123.s4'), 'GET'), BUDGET);
    const foreign = await receive(request({ ...callEnded('v1.us.app123.s5'), appId: 'other' }), BUDGET);

    expect(ignored.statusCode).toBe(200);
    expect(bodyOf(ignored)).toMatchObject({ accepted: false });
    expect(get.statusCode).toBe(405);
    expect(foreign.statusCode).toBe(403);
    expect(h.queued).toEqual([]);
  });
});
