/**
 * The real `webhook` handler (middy, Powertools, the real SQS client) driven with API Gateway
 * HTTP API v2 events built from the fixtures, sending to a real FIFO queue (fauxqs) through a
 * proxy that counts SQS requests at the wire and can refuse or hold one (faults fauxqs itself
 * cannot make). SSM is mocked at the SDK boundary for the two tests that read the credentials
 * from a parameter: npm test has no SSM emulator (the moto suite reads real SecureStrings).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalQueues, startLocalQueues } from '../../dev/local-queue.ts';
import { SAMPLE_APP_ID } from '../../dev/simulator/sample-calls.ts';
import { httpApiEvent } from '../../dev/webhook-server.ts';
import { deduplicationIdFor } from '../../lib/queue/message.ts';
import { eventKeyOf } from '../../lib/webhook/event-key.ts';
import { forwardRequest } from '../support/counting-proxy.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;

const QUEUE = 'cometchat-call-archive-test-enrich.fifo';
const CREDENTIALS = 'cometchat:W3bh00kPassw0rd';
const BASIC = `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`;
const ENV = {
  COMETCHAT_APP_ID: SAMPLE_APP_ID,
  WEBHOOK_BASIC_AUTH: CREDENTIALS,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};

const ssm = mockClient(SSMClient);
let queues: LocalQueues;
let sqsProxy: SqsProxy;
let handler: Handler;
let output: OutputCapture;

/** What happens to one request reaching the proxy instead of it being passed on at once. */
type Fault = (req: IncomingMessage, res: ServerResponse, pass: () => void) => void;

/** fauxqs behind a proxy: the webhook's SQS requests, counted, with faults on demand. */
interface SqsProxy {
  readonly endpoint: string;
  /** SQS requests that reached the proxy since the last reset. */
  readonly requests: number;
  /** The next requests meet these faults, one each, in order. */
  faults: Fault[];
  reset(): void;
  close(): Promise<void>;
}

async function startSqsProxy(target: string): Promise<SqsProxy> {
  const upstream = new URL(target);
  let requests = 0;
  const faults: Fault[] = [];
  const server = createServer((req, res) => {
    requests += 1;
    const fault = faults.shift();
    const pass = () => forwardRequest(upstream, req, res);
    if (fault) fault(req, res, pass);
    else pass();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    faults,
    reset: () => {
      requests = 0;
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The connection drops before SQS answers (the SDK sees a network error). */
const reset: Fault = (req) => req.socket.destroy();

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8');
const fixtureObject = (name: string) => JSON.parse(fixture(name)) as Record<string, unknown>;

/** A call_ended envelope for a session no other test uses (the handler remembers event keys). */
function freshCallEnded(): Record<string, unknown> {
  const envelope = fixtureObject('call-ended');
  (envelope.data as Record<string, unknown>).sessionId = `v1.us.${SAMPLE_APP_ID}.${randomUUID()}`;
  return envelope;
}

interface RequestOptions {
  method?: string;
  authorization?: string | null;
  contentType?: string | null;
  headers?: Record<string, string>;
}

/** The HTTP API v2 event for a request, built as the dev server builds it from a socket. */
function event(body: string | Buffer, options: RequestOptions = {}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {
    host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'user-agent': 'CometChat-Webhooks',
    ...options.headers,
  };
  if (options.authorization !== null) headers.authorization = options.authorization ?? BASIC;
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  headers['content-length'] ??= String(bytes.length);
  const method = options.method ?? 'POST';
  return httpApiEvent(
    {
      method,
      url: '/webhooks/cometchat',
      headers,
      httpVersion: '1.1',
      socket: { remoteAddress: '203.0.113.9' } as never,
    },
    bytes,
    `${method} /webhooks/cometchat`,
  );
}

/** The queue's URL on the proxy's host (the SQS client sends to a queue URL's own host). */
const queueUrl = () => `${sqsProxy.endpoint}${new URL(queues.queueUrl(QUEUE)).pathname}`;

async function loadHandler(env: Record<string, string | undefined> = {}): Promise<Handler> {
  const sqsEnv = { AWS_ENDPOINT_URL_SQS: sqsProxy.endpoint, ENRICH_QUEUE_URL: queueUrl() };
  for (const [name, value] of Object.entries({ ...ENV, ...sqsEnv, ...env })) vi.stubEnv(name, value);
  return importHandler<Handler>('functions/webhook.ts');
}

const post = (body: string | Buffer, options?: RequestOptions, fn: Handler = handler) =>
  fn(event(body, options), lambdaContext('webhook', 6_000));
const bodyOf = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(response.body ?? 'null');
/** What the queue holds now, as the webhook sent it. */
const sent = async () =>
  (await queues.messages(QUEUE)).map((message) => ({
    MessageBody: message.body,
    MessageGroupId: message.groupId,
    MessageDeduplicationId: message.deduplicationId,
  }));

beforeAll(async () => {
  output = captureOutput();
  queues = await startLocalQueues({ queues: [QUEUE] });
  sqsProxy = await startSqsProxy(queues.endpoint);
  // Not stubbed: the SDK reads these at each request, after vitest has unstubbed a test's env.
  Object.assign(process.env, {
    AWS_REGION: ENV.AWS_REGION,
    AWS_ACCESS_KEY_ID: ENV.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: ENV.AWS_SECRET_ACCESS_KEY,
    AWS_ENDPOINT_URL_SQS: sqsProxy.endpoint,
  });
  handler = await loadHandler();
});

beforeEach(async () => {
  ssm.reset();
  const direct = new SQSClient({
    endpoint: queues.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await direct.send(new PurgeQueueCommand({ QueueUrl: queues.queueUrl(QUEUE) }));
  direct.destroy();
  sqsProxy.reset();
});

afterAll(async () => {
  output?.stop();
  ssm.restore();
  await sqsProxy?.close();
  await queues?.close();
});

describe('webhook handler', () => {
  it.each([
    ['call-ended', 'call_ended'],
    ['meeting-ended', 'meeting_ended'],
    ['recording-generated', 'recording_generated'],
  ])('queues %s and answers 200 accepted', async (name, trigger) => {
    const envelope = fixtureObject(name);
    const data = envelope.data as Record<string, unknown>;
    data.sessionId = `v1.us.${SAMPLE_APP_ID}.${randomUUID()}`;
    const eventKey = eventKeyOf({ trigger, data, webhook: envelope.webhook }, data.sessionId as string);

    const response = await post(JSON.stringify(envelope));

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({ accepted: true });
    expect(await sent()).toEqual([
      {
        MessageBody: JSON.stringify({ sessionId: data.sessionId, trigger, eventKey }),
        MessageGroupId: data.sessionId,
        MessageDeduplicationId: deduplicationIdFor(eventKey),
      },
    ]);
  });

  it('decodes a base64-encoded body (a non-text content type)', async () => {
    const envelope = freshCallEnded();
    const request = event(JSON.stringify(envelope), { contentType: 'application/octet-stream' });

    const response = await handler(request, lambdaContext('webhook'));

    expect(request.isBase64Encoded).toBe(true);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse((await sent())[0]?.MessageBody ?? '{}').sessionId).toBe(
      (envelope.data as Record<string, unknown>).sessionId,
    );
  });

  describe('bad input: the answer, and nothing queued', () => {
    const oversized = () => {
      const envelope = freshCallEnded();
      envelope.padding = 'x'.repeat(256 * 1024);
      return JSON.stringify(envelope);
    };

    it.each<[string, () => string | Buffer, RequestOptions, number, Record<string, unknown>]>([
      [
        'bad JSON',
        () => '{"trigger":"call_ended",',
        {},
        400,
        { message: 'Bad Request', reason: 'the body is not valid JSON' },
      ],
      ['an empty body', () => '', {}, 400, { message: 'Bad Request', reason: 'the body is not valid JSON' }],
      [
        'a missing session id',
        () => {
          const envelope = freshCallEnded();
          delete (envelope.data as Record<string, unknown>).sessionId;
          return JSON.stringify(envelope);
        },
        {},
        400,
        { message: 'Bad Request', reason: 'data.sessionId is missing' },
      ],
      [
        'a session id that is not a string',
        () => JSON.stringify({ ...freshCallEnded(), data: { sessionId: 12, destroyed_at: 1 } }),
        {},
        400,
        { message: 'Bad Request', reason: 'data.sessionId must be a string, got a number' },
      ],
      [
        'missing credentials',
        () => JSON.stringify(freshCallEnded()),
        { authorization: null },
        401,
        { message: 'Unauthorized' },
      ],
      [
        'a wrong password',
        () => JSON.stringify(freshCallEnded()),
        { authorization: `Basic ${Buffer.from('cometchat:wrong').toString('base64')}` },
        401,
        { message: 'Unauthorized' },
      ],
      [
        'a malformed Authorization header',
        () => JSON.stringify(freshCallEnded()),
        { authorization: 'Basic %%%' },
        401,
        { message: 'Unauthorized' },
      ],
      [
        'bad JSON without credentials (auth is checked first)',
        () => '{not json',
        { authorization: null },
        401,
        { message: 'Unauthorized' },
      ],
      ['a foreign appId', () => fixture('foreign-app'), {}, 403, { message: 'Forbidden' }],
      [
        'a body over 256 KiB',
        oversized,
        {},
        413,
        { message: 'Payload Too Large', reason: expect.stringMatching(/over the limit of 262144/) },
      ],
      [
        'a body over 256 KiB only once base64-decoded',
        () => Buffer.from(oversized()),
        { contentType: 'application/octet-stream', headers: { 'content-length': '0' } },
        413,
        { message: 'Payload Too Large', reason: expect.stringMatching(/over the limit/) },
      ],
      ['a GET', () => '', { method: 'GET' }, 405, { message: 'Method Not Allowed' }],
      [
        'an ignored trigger (call_busy)',
        () => fixture('call-busy'),
        {},
        200,
        { accepted: false, reason: 'trigger "call_busy" is not archived' },
      ],
      [
        'an ignored trigger with no data.sessionId (call_initiated)',
        () => fixture('call-initiated'),
        {},
        200,
        { accepted: false, reason: 'trigger "call_initiated" is not archived' },
      ],
    ])('%s', async (_label, body, options, status, answer) => {
      const response = await post(body(), options);

      expect(response.statusCode).toBe(status);
      expect(bodyOf(response)).toEqual(answer);
      expect(sqsProxy.requests).toBe(0);
      expect(await sent()).toEqual([]);
    });

    it('asks for Basic credentials with the realm on a 401', async () => {
      const response = await post(JSON.stringify(freshCallEnded()), { authorization: null });

      expect(response.headers).toMatchObject({ 'www-authenticate': 'Basic realm="cometchat-webhooks"' });
    });

    it('a duplicate delivery: queued once, then answered without calling SQS', async () => {
      const body = JSON.stringify(freshCallEnded());
      const first = await post(body);
      sqsProxy.reset();

      const second = await post(body);

      expect(bodyOf(first)).toEqual({ accepted: true });
      expect(second.statusCode).toBe(200);
      expect(bodyOf(second)).toEqual({ accepted: true, duplicate: true });
      expect(sqsProxy.requests).toBe(0);
      expect(await sent()).toHaveLength(1);
    });
  });

  it('answers 503 while SQS refuses, remembers nothing, and queues on the retry', async () => {
    const body = JSON.stringify(freshCallEnded());
    // The webhook's client makes two attempts; both lose their connection.
    sqsProxy.faults.push(reset, reset);

    const failed = await post(body);
    const retried = await post(body);

    expect(failed.statusCode).toBe(503);
    expect(bodyOf(failed)).toEqual({ message: 'Service Unavailable' });
    expect(retried.statusCode).toBe(200);
    expect(bodyOf(retried)).toEqual({ accepted: true });
    expect(sqsProxy.requests).toBe(3);
    expect(await sent()).toHaveLength(1);
  });

  it('answers only after SQS has accepted the message', async () => {
    let release: () => void = () => {};
    // Held at the proxy until released (well within the client's 700 ms request timeout).
    sqsProxy.faults.push((_req, _res, pass) => {
      release = pass;
    });
    let answered = false;

    const pending = post(JSON.stringify(freshCallEnded())).then((response) => {
      answered = true;
      return response;
    });
    await vi.waitFor(() => expect(sqsProxy.requests).toBe(1), { interval: 5 });
    await Promise.resolve();

    expect(answered).toBe(false);
    expect(await sent()).toEqual([]);
    release();
    expect((await pending).statusCode).toBe(200);
    expect(await sent()).toHaveLength(1);
  });

  describe('with credentials in SSM', () => {
    it('reads the parameter once per container and checks against it', async () => {
      const parameterName = `/cometchat-call-archive/test/webhook-basic-auth-${randomUUID()}`;
      ssm
        .on(GetParameterCommand)
        .resolves({ Parameter: { Name: parameterName, Value: 'ssm-user:Ssm5ecret' } });
      const fromSsm = await loadHandler({
        WEBHOOK_BASIC_AUTH: undefined,
        WEBHOOK_BASIC_AUTH_PARAMETER: parameterName,
      });
      const ssmAuth = `Basic ${Buffer.from('ssm-user:Ssm5ecret').toString('base64')}`;

      const first = await post(JSON.stringify(freshCallEnded()), { authorization: ssmAuth }, fromSsm);
      const second = await post(JSON.stringify(freshCallEnded()), { authorization: BASIC }, fromSsm);
      const third = await post(JSON.stringify(freshCallEnded()), { authorization: ssmAuth }, fromSsm);

      expect([first.statusCode, second.statusCode, third.statusCode]).toEqual([200, 401, 200]);
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
      expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toMatchObject({
        Name: parameterName,
        WithDecryption: true,
      });
    });

    it('answers 500, not 401, when the parameter does not exist, and queues nothing', async () => {
      const parameterName = `/cometchat-call-archive/test/missing-${randomUUID()}`;
      ssm
        .on(GetParameterCommand)
        .rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
      const fromSsm = await loadHandler({
        WEBHOOK_BASIC_AUTH: undefined,
        WEBHOOK_BASIC_AUTH_PARAMETER: parameterName,
      });

      const response = await post(JSON.stringify(freshCallEnded()), {}, fromSsm);

      expect(response.statusCode).toBe(500);
      expect(sqsProxy.requests).toBe(0);
      expect(await sent()).toEqual([]);
    });
  });

  it('never wrote a credential to a log line, and logged each request', () => {
    const logged = output.text();

    expect(logged).toContain('webhook queued');
    expect(logged).toContain('webhook rejected');
    expect(logged).not.toContain(BASIC.slice('Basic '.length));
    expect(logged).not.toContain('W3bh00kPassw0rd');
    expect(logged).not.toContain('Ssm5ecret');
    expect(logged).not.toContain(Buffer.from('cometchat:wrong').toString('base64'));
  });
});
