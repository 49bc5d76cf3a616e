/**
 * The real `webhook` handler (middy, Powertools, the real SQS client) driven with API Gateway
 * HTTP API v2 events built from the fixtures. SQS has no maintained emulator that speaks its
 * current protocol, so the SQS client is mocked at the SDK boundary (and SSM, for the one test
 * that reads the credentials from a parameter); nothing else is.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { SAMPLE_APP_ID } from '../../dev/simulator/sample-calls.ts';
import { httpApiEvent } from '../../dev/webhook-server.ts';
import { deduplicationIdFor } from '../../lib/queue/message.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/cometchat-call-archive-test-enrich.fifo';
const CREDENTIALS = 'cometchat:W3bh00kPassw0rd';
const BASIC = `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`;
const ENV = {
  COMETCHAT_APP_ID: SAMPLE_APP_ID,
  WEBHOOK_BASIC_AUTH: CREDENTIALS,
  ENRICH_QUEUE_URL: QUEUE_URL,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};

const sqs = mockClient(SQSClient);
const ssm = mockClient(SSMClient);
let handler: Handler;
let output: OutputCapture;

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

async function loadHandler(env: Record<string, string | undefined> = {}): Promise<Handler> {
  for (const [name, value] of Object.entries({ ...ENV, ...env })) vi.stubEnv(name, value);
  return importHandler<Handler>('functions/webhook.ts');
}

const post = (body: string | Buffer, options?: RequestOptions, fn: Handler = handler) =>
  fn(event(body, options), lambdaContext('webhook', 6_000));
const bodyOf = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(response.body ?? 'null');
const sent = () => sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);

beforeAll(async () => {
  output = captureOutput();
  handler = await loadHandler();
});

beforeEach(() => {
  sqs.reset();
  ssm.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: randomUUID(), MD5OfMessageBody: '', SequenceNumber: '1' });
});

afterAll(() => {
  output?.stop();
  sqs.restore();
  ssm.restore();
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
    const last = trigger === 'recording_generated' ? data.startTime : data.destroyed_at;
    const eventKey = `${envelope.webhook}:${trigger}:${data.sessionId}:${last}`;

    const response = await post(JSON.stringify(envelope));

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({ accepted: true });
    expect(sent()).toEqual([
      {
        QueueUrl: QUEUE_URL,
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
    expect(JSON.parse(sent()[0]?.MessageBody ?? '{}').sessionId).toBe(
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
      expect(sqs.calls()).toHaveLength(0);
    });

    it('asks for Basic credentials with the realm on a 401', async () => {
      const response = await post(JSON.stringify(freshCallEnded()), { authorization: null });

      expect(response.headers).toMatchObject({ 'www-authenticate': 'Basic realm="cometchat-webhooks"' });
    });

    it('a duplicate delivery: queued once, then answered without calling SQS', async () => {
      const body = JSON.stringify(freshCallEnded());
      const first = await post(body);
      sqs.resetHistory();

      const second = await post(body);

      expect(bodyOf(first)).toEqual({ accepted: true });
      expect(second.statusCode).toBe(200);
      expect(bodyOf(second)).toEqual({ accepted: true, duplicate: true });
      expect(sqs.calls()).toHaveLength(0);
    });
  });

  it('answers 503 while SQS refuses, remembers nothing, and queues on the retry', async () => {
    const body = JSON.stringify(freshCallEnded());
    sqs
      .on(SendMessageCommand)
      .rejectsOnce(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' }));

    const failed = await post(body);
    const retried = await post(body);

    expect(failed.statusCode).toBe(503);
    expect(bodyOf(failed)).toEqual({ message: 'Service Unavailable' });
    expect(retried.statusCode).toBe(200);
    expect(bodyOf(retried)).toEqual({ accepted: true });
    expect(sent()).toHaveLength(2);
    expect(sent()[1]).toEqual(sent()[0]);
  });

  it('answers only after SQS has accepted the message', async () => {
    let release: () => void = () => {};
    sqs
      .on(SendMessageCommand)
      .callsFake(() => new Promise((resolve) => (release = () => resolve({ MessageId: 'late' }))));
    let answered = false;

    const pending = post(JSON.stringify(freshCallEnded())).then((response) => {
      answered = true;
      return response;
    });
    await vi.waitFor(() => expect(sent()).toHaveLength(1));
    await Promise.resolve();

    expect(answered).toBe(false);
    release();
    expect((await pending).statusCode).toBe(200);
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
      expect(sqs.calls()).toHaveLength(0);
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
