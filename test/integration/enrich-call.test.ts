import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { recordingStream } from '../../dev/simulator/index.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import type { CallItem } from '../../lib/calls/types.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';
import { type CountingProxy, DYNAMODB_WRITES, startCountingProxy } from '../support/counting-proxy.ts';
import { callItems } from '../support/dynamodb.ts';
import { rejectionOf } from '../support/errors.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';
import { digestOf } from '../support/s3.ts';
import { type ScriptedServer, startScriptedServer } from '../support/scripted-server.ts';

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

    expect(result).toEqual({
      sessionId: AUDIO,
      status: 'ended',
      participants: 2,
      recordings: [],
      transcripts: [],
    });
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
      expect(object.Metadata).toMatchObject({ rid: recording.rid });
      const { TagSet } = await stack.clients.s3.send(
        new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: recording.key }),
      );
      expect(TagSet).toContainEqual({ Key: 'sha256', Value: recording.sha256 });
      expect(await sha256Of(object.Body as AsyncIterable<Uint8Array>)).toBe(recording.sha256);
    }
    const items = await itemsOf(GROUP);
    const participants = items.filter((i) => i.entity === 'participant');
    const devicesPerUid = new Map<unknown, number>();
    for (const p of participants) devicesPerUid.set(p.uid, (devicesPerUid.get(p.uid) ?? 0) + 1);
    expect(Math.max(...devicesPerUid.values())).toBe(2);
    const call = items.find((i) => i.sk === 'CALL') as unknown as CallItem;
    expect(call.participants).toHaveLength(participants.length);
    expect(call.recordings.map((r) => [r.rid, r.key, r.sha256])).toEqual(
      result.recordings.map((r) => [r.rid, r.key, r.sha256]),
    );
    for (const entry of call.recordings) expect(entry.sourceUrl).not.toContain('?');
    expect(JSON.stringify(items)).not.toMatch(/Signature|Expires|Key-Pair-Id/);
    expect(call).toMatchObject({ hasRecording: true, hasTranscription: true });
    expect(call.transcripts.map((t) => t.tid)).toEqual(result.transcripts.map((t) => t.tid));
    expect(result.transcripts).toHaveLength(7);
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
    // Every request for the file ends early, so the copier's own retries of a part cannot help.
    stack.simulator?.onRecordingRequest((request) =>
      request.rid === big.rid ? { kind: 'truncate', afterBytes: 1000 } : undefined,
    );

    const error = await rejectionOf(invoke({ sessionId }));
    stack.simulator?.onRecordingRequest(undefined);

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

  describe('nothing dropped, limits named', () => {
    const participantsOf = (count: number, uid: (i: number) => string) =>
      Array.from({ length: count }, (_, i) => ({
        uid: uid(i),
        name: `Participant ${i}`,
        deviceId: `device-${i % 4}`,
        isJoined: false,
        state: 'ended',
        joinedAt: NOW / 1000 - 3600 + i,
        leftAt: NOW / 1000 - 60,
        totalAudioMinutes: 58,
        totalVideoMinutes: 58,
      }));

    it('stores a call of 200 participant entries and 20 recordings whole', async () => {
      const sessionId = `${GROUP}-large`;
      const call = structuredClone(SAMPLES[2]);
      if (!call) throw new Error('sample missing');
      call.raw.sessionId = sessionId;
      call.raw.participants = participantsOf(200, (i) => `cometchat-uid-${i % 50}`);
      call.recordings = Array.from({ length: 20 }, (_, i) => ({ rid: `large-${i}`, bytes: 1000 + i }));
      stack.simulator?.addCall(call);

      const result = await invoke({ sessionId });

      expect(result).toMatchObject({ participants: 200 });
      expect(result.recordings).toHaveLength(20);
      const items = await itemsOf(sessionId);
      const stored = items.find((i) => i.sk === 'CALL') as unknown as CallItem;
      expect(stored.participants).toHaveLength(200);
      expect(stored.recordings).toHaveLength(20);
      expect(items.filter((i) => i.entity === 'participant')).toHaveLength(200);
    });

    it('refuses 1,000 participants with 250-byte ids as InvalidCallDataError, before any copy or write', async () => {
      const sessionId = `${GROUP}-too-large`;
      const call = structuredClone(SAMPLES[2]);
      if (!call) throw new Error('sample missing');
      call.raw.sessionId = sessionId;
      call.raw.participants = participantsOf(1000, (i) => `${i}`.padStart(250, 'u'));
      stack.simulator?.addCall(call);
      stack.simulator?.resetRequests();
      dynamoProxy.reset();

      const error = await rejectionOf(invoke({ sessionId }));

      expect(error.name).toBe('InvalidCallDataError');
      expect(error.message).toMatch(/400 KB item limit/);
      expect(stack.simulator?.requests.filter((r) => r.kind === 'recording')).toHaveLength(0);
      expect(dynamoProxy.count(...DYNAMODB_WRITES)).toBe(0);
      expect(await itemsOf(sessionId)).toEqual([]);
    });
  });

  describe('against a scripted CometChat', () => {
    let scripted: ScriptedServer;
    let scriptedHandler: Handler;
    /** What Get Call answers next; each answer is taken in turn, the last one repeats. */
    let answers: Record<string, unknown>[] = [];
    let served = 0;
    const fileUrl = (name: string) => `${scripted.origin}/files/${name}?Signature=s3cr3t`;
    const bytesOf = (path: string) => Buffer.from(`recording at ${path}`.repeat(100));

    beforeAll(async () => {
      scripted = await startScriptedServer();
      scripted.script((req, res) => {
        const path = (req.url ?? '').split('?')[0] ?? '';
        if (path.startsWith('/v3/calls/')) {
          const answer = answers[Math.min(served++, answers.length - 1)];
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: answer }));
          return;
        }
        const body = bytesOf(path);
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(body.length) });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
      scriptedHandler = await loadHandler({
        COMETCHAT_BASE_URL: `${scripted.origin}/v3`,
        RECORDING_ALLOWED_HOSTS: new URL(scripted.origin).host,
      });
    });

    afterAll(async () => {
      await scripted?.close();
    });

    const callWith = (sessionId: string, fields: Record<string, unknown>) => ({
      sessionId,
      type: 'video',
      mode: 'call',
      status: 'ended',
      initiatedAt: 1_715_932_000,
      startedAt: 1_715_932_004,
      endedAt: 1_715_932_316,
      participants: [{ uid: 'cometchat-uid-1', deviceId: 'd1', joinedAt: 1_715_932_004 }],
      ...fields,
    });
    const answer = (...next: Record<string, unknown>[]) => {
      answers = next;
      served = 0;
    };
    const storedCall = async (sessionId: string) =>
      (await itemsOf(sessionId)).find((i) => i.sk === 'CALL') as unknown as CallItem | undefined;

    it('archives recordings whatever their rid holds, and one without a rid under an id from its path', async () => {
      const sessionId = 'v1.us.scripted.rids';
      const long = 'r'.repeat(129);
      answer(
        callWith(sessionId, {
          hasRecording: true,
          recordings: [
            { rid: 'a/b', recording_url: fileUrl('a-b.mp4') },
            { rid: 'ünï', recording_url: fileUrl('uni.mp4') },
            { rid: long, recording_url: fileUrl('long.mp4') },
            { recording_url: fileUrl('no-rid.mp4') },
          ],
        }),
      );

      const result = await invoke({ sessionId }, scriptedHandler);

      const stored = await storedCall(sessionId);
      expect(result.recordings).toHaveLength(4);
      expect(stored?.recordings.map((r) => r.rid)).toEqual(result.recordings.map((r) => r.rid));
      expect(result.recordings.map((r) => r.rid)).toEqual(expect.arrayContaining(['a/b', 'ünï', long]));
      expect(result.recordings.find((r) => r.rid.startsWith('url-'))).toBeDefined();
      for (const recording of result.recordings) {
        const object = await stack.clients.s3.send(
          new GetObjectCommand({ Bucket: stack.bucket, Key: recording.key }),
        );
        expect(await sha256Of(object.Body as AsyncIterable<Uint8Array>)).toBe(recording.sha256);
        expect(recording.key.startsWith(`recordings/${sessionId}/`)).toBe(true);
        expect(recording.key.slice(`recordings/${sessionId}/`.length)).not.toContain('/');
      }
      expect(JSON.stringify(stored)).not.toContain('s3cr3t');
    });

    it.each([
      ['a relative URL', '/files/r1.mp4'],
      ['an empty URL', ''],
    ])('refuses a recording with %s as RecordingRejectedError and stores nothing', async (_what, url) => {
      const sessionId = `v1.us.scripted.${url === '' ? 'empty' : 'relative'}`;
      answer(callWith(sessionId, { hasRecording: true, recordings: [{ rid: 'r1', recording_url: url }] }));

      const error = await rejectionOf(invoke({ sessionId }, scriptedHandler));

      expect(error.name).toBe('RecordingRejectedError');
      expect(await itemsOf(sessionId)).toEqual([]);
    });

    it('stores a new recording from an ended call re-fetched with older-looking times, keeping the status', async () => {
      const sessionId = 'v1.us.scripted.stale-looking';
      answer(callWith(sessionId, { recordings: [{ rid: 'r1', recording_url: fileUrl('s1.mp4') }] }));
      await invoke({ sessionId }, scriptedHandler);
      answer(
        callWith(sessionId, {
          status: 'ongoing',
          endedAt: undefined,
          participants: [],
          recordings: [{ rid: 'r2', recording_url: fileUrl('s2.mp4'), startTime: 1_715_932_005 }],
        }),
      );

      const result = await invoke({ sessionId }, scriptedHandler);

      expect(result.status).toBe('ended');
      expect(result.recordings.map((r) => [r.rid, r.copied])).toEqual([
        ['r1', false],
        ['r2', true],
      ]);
      const stored = await storedCall(sessionId);
      expect(stored).toMatchObject({ status: 'ended', endedAt: 1_715_932_316 });
      expect(stored?.participants).toHaveLength(1);
      expect(stored?.recordings.map((r) => r.rid)).toEqual(['r1', 'r2']);
    });

    it('keeps both recordings when two runs of the same call store different ones at once', async () => {
      const sessionId = 'v1.us.scripted.concurrent';
      answer(
        callWith(sessionId, { recordings: [{ rid: 'r1', recording_url: fileUrl('c1.mp4') }] }),
        callWith(sessionId, { recordings: [{ rid: 'r2', recording_url: fileUrl('c2.mp4') }] }),
      );

      const results = await Promise.all([
        invoke({ sessionId }, scriptedHandler),
        invoke({ sessionId }, scriptedHandler),
      ]);

      expect(results.flatMap((r) => r.recordings.map((x) => x.rid))).toEqual(
        expect.arrayContaining(['r1', 'r2']),
      );
      expect((await storedCall(sessionId))?.recordings.map((r) => r.rid)).toEqual(['r1', 'r2']);
      expect(Math.max(...results.map((r) => r.recordings.length))).toBe(2);
    });
  });
});
