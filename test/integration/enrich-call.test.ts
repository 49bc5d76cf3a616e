import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { recordingStream } from '../../dev/simulator/index.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';
import { type CountingProxy, DYNAMODB_WRITES, startCountingProxy } from '../support/counting-proxy.ts';
import { callItems } from '../support/dynamodb.ts';
import { rejectionOf } from '../support/errors.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';
import { digestOf } from '../support/s3.ts';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<EnrichmentResult>;

const NOW = Date.now();
const SAMPLES = sampleCalls(NOW);
const sessionOf = (index: number) => SAMPLES[index]?.raw.sessionId as string;
const AUDIO = sessionOf(0);
const DOC_EXAMPLE = sessionOf(1);
const GROUP = sessionOf(2);

let stack: LocalStack;
let dynamoProxy: CountingProxy;
let handler: Handler;
let documents: DynamoDBDocumentClient;
let output: OutputCapture;

/** Imports a fresh copy of the handler with `env` applied on top of the stack's environment. */
async function loadHandler(env: Record<string, string> = {}): Promise<Handler> {
  stack.applyEnv();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoProxy.endpoint;
  Object.assign(process.env, env);
  return importHandler<Handler>('functions/enrich-call.ts');
}

const invoke = (event: unknown, fn: Handler = handler) => fn(event, lambdaContext('enrichCall'));

const itemsOf = (sessionId: string) => callItems(documents, stack.tableName, sessionId);

const sha256Of = async (stream: AsyncIterable<Uint8Array>) => (await digestOf(stream)).sha256;

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: SAMPLES } });
  dynamoProxy = await startCountingProxy(stack.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  documents = DynamoDBDocumentClient.from(stack.clients.dynamodb);
  handler = await loadHandler();
});

afterAll(async () => {
  output?.stop();
  await dynamoProxy?.close();
  await stack?.close();
});

describe('enrichCall handler on the local stack', () => {
  it('stores a plain audio call with its participants and no recordings', async () => {
    const result = await invoke({ sessionId: AUDIO });

    expect(result).toEqual({ sessionId: AUDIO, status: 'ended', participants: 2, recordings: [] });
    const items = await itemsOf(AUDIO);
    const call = items.find((i) => i.sk === 'CALL');
    expect(call).toMatchObject({ entity: 'call', sessionId: AUDIO, type: 'audio', status: 'ended' });
    expect(call?.gsi2pk).toMatch(/^DAY#\d{4}-\d{2}-\d{2}$/);
    expect(typeof call?.enrichedAt).toBe('string');
    expect(items.filter((i) => i.entity === 'participant')).toHaveLength(2);
    for (const item of items)
      for (const value of Object.values(item)) expect([null, '']).not.toContain(value);
  });

  it("stores the Get Call reference page's own example (array-shaped data)", async () => {
    const result = await invoke({ sessionId: DOC_EXAMPLE });

    expect(result).toMatchObject({ sessionId: DOC_EXAMPLE, status: 'initiated', participants: 2 });
    const participants = (await itemsOf(DOC_EXAMPLE)).filter((i) => i.entity === 'participant');
    expect(participants.map((p) => p.uid).sort()).toEqual(['cometchat-uid-1', 'cometchat-uid-2']);
    expect(participants.find((p) => p.uid === 'cometchat-uid-2')).toMatchObject({ state: 'unanswered' });
    expect(participants.find((p) => p.uid === 'cometchat-uid-1')).not.toHaveProperty('state');
  });

  it('copies both recordings of a group video call, one over 5 MiB, and keeps both devices of one uid', async () => {
    const result = await invoke({ sessionId: GROUP });

    const sample = SAMPLES[2];
    expect(result.recordings).toHaveLength(2);
    expect(result.recordings.every((r) => r.copied)).toBe(true);
    expect(Math.max(...result.recordings.map((r) => r.bytes))).toBeGreaterThan(5 * 1024 * 1024);
    for (const recording of result.recordings) {
      const expected = sample?.recordings?.find((r) => r.rid === recording.rid);
      expect(recording.sha256).toBe(await sha256Of(recordingStream(recording.rid, expected?.bytes ?? 0)));
      expect(recording.key).toBe(`recordings/${encodeURIComponent(GROUP)}/${recording.rid}.mp4`);
      const object = await stack.clients.s3.send(
        new GetObjectCommand({ Bucket: stack.bucket, Key: recording.key }),
      );
      expect(object.Metadata).toMatchObject({ sha256: recording.sha256, rid: recording.rid });
      expect(await sha256Of(object.Body as AsyncIterable<Uint8Array>)).toBe(recording.sha256);
    }
    const items = await itemsOf(GROUP);
    const participants = items.filter((i) => i.entity === 'participant');
    const devicesPerUid = new Map<unknown, number>();
    for (const p of participants) devicesPerUid.set(p.uid, (devicesPerUid.get(p.uid) ?? 0) + 1);
    expect(Math.max(...devicesPerUid.values())).toBe(2);
    const recordingItems = items.filter((i) => i.entity === 'recording');
    expect(recordingItems).toHaveLength(2);
    for (const item of recordingItems) {
      expect(item.sourceUrl).not.toContain('?');
      expect(JSON.stringify(item)).not.toMatch(/Signature|Expires|Key-Pair-Id/);
    }
    expect(items.find((i) => i.sk === 'CALL')).toMatchObject({ hasRecording: true, recordingCount: 2 });
  });

  it('re-enriching an unchanged call downloads nothing and writes nothing', async () => {
    const before = await itemsOf(GROUP);
    stack.simulator?.resetRequests();
    dynamoProxy.reset();

    const result = await invoke({ sessionId: GROUP });

    expect(result.recordings.map((r) => r.copied)).toEqual([false, false]);
    expect(stack.simulator?.requests.filter((r) => r.kind === 'recording')).toHaveLength(0);
    expect(dynamoProxy.count(...DYNAMODB_WRITES)).toBe(0);
    expect(await itemsOf(GROUP)).toEqual(before);
  });

  it('never lets a stale status overwrite an ended call', async () => {
    const before = await itemsOf(AUDIO);
    stack.simulator?.updateCall(AUDIO, { status: 'ongoing', endedAt: undefined });
    dynamoProxy.reset();

    const result = await invoke({ sessionId: AUDIO });

    expect(result.status).toBe('ended');
    expect(dynamoProxy.count(...DYNAMODB_WRITES)).toBe(0);
    expect(await itemsOf(AUDIO)).toEqual(before);
    stack.simulator?.updateCall(AUDIO, SAMPLES[0]?.raw ?? {});
  });

  it('waits out a 429 with Retry-After, then succeeds', async () => {
    stack.simulator?.resetRequests();
    stack.simulator?.failNext(
      { sessionId: AUDIO },
      { kind: 'status', status: 429, headers: { 'Retry-After': '1' } },
    );
    const started = Date.now();

    const result = await invoke({ sessionId: AUDIO });

    expect(result.status).toBe('ended');
    expect(stack.simulator?.requests.filter((r) => r.kind === 'get-call').map((r) => r.status)).toEqual([
      429, 200,
    ]);
    // The wait is a lower bound CometChat imposed, not a performance target: it cannot be shorter.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries a 5xx, then succeeds', async () => {
    stack.simulator?.resetRequests();
    stack.simulator?.failNext({ sessionId: AUDIO }, { kind: 'status', status: 503 });

    const result = await invoke({ sessionId: AUDIO });

    expect(result.status).toBe('ended');
    expect(stack.simulator?.requests.filter((r) => r.kind === 'get-call').map((r) => r.status)).toEqual([
      503, 200,
    ]);
  });

  it('throws CallNotFoundError for a session CometChat does not know', async () => {
    const error = await rejectionOf(invoke({ sessionId: 'v1.us.unknown.0000' }));

    expect(error.name).toBe('CallNotFoundError');
  });

  it.each([
    ['a null event', null],
    ['a missing sessionId', {}],
    ['an empty sessionId', { sessionId: '' }],
    ['a non-string sessionId', { sessionId: 42 }],
    ['a sessionId over 256 characters', { sessionId: 'v'.repeat(257) }],
    ['a sessionId with a control character', { sessionId: 'v1.us.abc\n.def' }],
  ])('throws InvalidInputError for %s without calling CometChat', async (_label, event) => {
    stack.simulator?.resetRequests();

    const error = await rejectionOf(invoke(event));

    expect(error.name).toBe('InvalidInputError');
    expect(stack.simulator?.requests).toHaveLength(0);
  });

  it('fetches the call again for a fresh URL when the recording host answers 403, once', async () => {
    const rid = SAMPLES[2]?.recordings?.[0]?.rid as string;
    const call = structuredClone(SAMPLES[2]);
    if (!call) throw new Error('sample missing');
    const sessionId = `${GROUP}-refresh`;
    call.raw.sessionId = sessionId;
    stack.simulator?.addCall(call);
    stack.simulator?.failNextRecording(rid, { kind: 'status', status: 403 });
    stack.simulator?.resetRequests();

    const result = await invoke({ sessionId });

    expect(result.recordings.every((r) => r.copied)).toBe(true);
    expect(stack.simulator?.requests.filter((r) => r.kind === 'get-call')).toHaveLength(2);
  });

  it('leaves no partial object after a truncated download, and a later run succeeds', async () => {
    const call = structuredClone(SAMPLES[2]);
    if (!call) throw new Error('sample missing');
    const sessionId = `${GROUP}-truncated`;
    call.raw.sessionId = sessionId;
    stack.simulator?.addCall(call);
    const big = call.recordings?.find((r) => r.bytes > 5 * 1024 * 1024);
    if (!big) throw new Error('sample has no large recording');
    stack.simulator?.failNextRecording(big.rid, { kind: 'truncate', afterBytes: 3 * 1024 * 1024 });

    const error = await rejectionOf(invoke({ sessionId }));

    expect(error.name).toBe('RecordingDownloadError');
    const key = `recordings/${encodeURIComponent(sessionId)}/${big.rid}.mp4`;
    const head = await rejectionOf(
      stack.clients.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key })),
    );
    expect(head.name).toBe('NotFound');
    expect((await itemsOf(sessionId)).find((i) => i.sk === 'CALL')).toBeUndefined();

    const retried = await invoke({ sessionId });

    expect(retried.recordings.find((r) => r.rid === big.rid)).toMatchObject({
      copied: true,
      bytes: big.bytes,
    });
  });

  describe('recording URL policy', () => {
    const policyCall = (suffix: string, url: string) => {
      const sessionId = `v1.us.policy.${suffix}`;
      stack.simulator?.addCall({
        raw: {
          ...(SAMPLES[0]?.raw ?? {}),
          sessionId,
          hasRecording: true,
          recordings: [{ rid: `rec-${suffix}`, recording_url: url, startTime: 1, endTime: 2 }],
        },
      });
      return sessionId;
    };

    it.each([
      ['a host not on the allowlist', 'https://evil.example.com/r.mp4'],
      ['the metadata address', 'http://169.254.169.254/latest/meta-data/'],
      ['a file: URL', 'file:///etc/passwd'],
      ['credentials in the URL', 'https://user:pass@recordings.cometchat.io/r.mp4'],
    ])('refuses %s with RecordingRejectedError and stores nothing', async (label, url) => {
      const sessionId = policyCall(label.replace(/\W+/g, '-'), url);

      const error = await rejectionOf(invoke({ sessionId }));

      expect(error.name).toBe('RecordingRejectedError');
      expect(await itemsOf(sessionId)).toEqual([]);
    });

    it('refuses a redirect to a private address', async () => {
      const call = structuredClone(SAMPLES[2]);
      if (!call) throw new Error('sample missing');
      const sessionId = `${GROUP}-redirect`;
      call.raw.sessionId = sessionId;
      stack.simulator?.addCall(call);
      const rid = call.recordings?.[0]?.rid as string;
      stack.simulator?.failNextRecording(rid, {
        kind: 'redirect',
        location: 'http://10.0.0.1/recording.mp4',
      });

      const error = await rejectionOf(invoke({ sessionId }));

      expect(error.name).toBe('RecordingRejectedError');
    });
  });

  describe('with a wrong API key', () => {
    it('throws CometChatAuthError after a single request', async () => {
      const wrongKey = await loadHandler({ COMETCHAT_API_KEY: 'not-the-key-0123456789' });
      stack.simulator?.resetRequests();

      const error = await rejectionOf(invoke({ sessionId: AUDIO }, wrongKey));

      expect(error.name).toBe('CometChatAuthError');
      expect(stack.simulator?.requests).toHaveLength(1);
    });
  });

  it('never wrote a secret to a log line', () => {
    const logged = output.text();
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).not.toContain(stack.simulator?.apiKey as string);
    expect(logged).not.toContain('not-the-key-0123456789');
    expect(logged).not.toMatch(/Signature=|Expires=|Key-Pair-Id=|user:pass/);
  });
});
