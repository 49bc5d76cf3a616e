/**
 * The self-describing archive (issue 12) on the local stack: dynalite, s3rver and the CometChat
 * simulator over HTTP, driven through the real `enrichCall` handler.
 */

import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import {
  type SimulatedCall,
  type SimulatedTranscript,
  transcriptContent,
} from '../../dev/simulator/index.ts';
import { backfill } from '../../lib/backfill/backfill.ts';
import { backfillFromEnv } from '../../lib/backfill/dependencies.ts';
import type { CallItem } from '../../lib/calls/types.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';
import { createManifestStore } from '../../lib/manifest/manifest-store.ts';
import { rebuildFromManifests } from '../../lib/manifest/rebuild.ts';
import { createCallStore } from '../../lib/store/call-store.ts';
import { type CountingProxy, DYNAMODB_WRITES, startCountingProxy } from '../support/counting-proxy.ts';
import { callItems } from '../support/dynamodb.ts';
import { rejectionOf } from '../support/errors.ts';
import { type FifoQueues, sqsEvent, startFifoQueues } from '../support/fifo-queues.ts';
import { type EnrichCallHandler, importHandler, type QueueConsumerHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';
import { storedDigest } from '../support/s3.ts';
import { type S3FaultProxy, startS3FaultProxy } from '../support/s3-fault-proxy.ts';
import { awsJson, type ScriptedServer, type Step, startScriptedServer } from '../support/scripted-server.ts';

type SentEvent = { EventBusName: string; Source: string; DetailType: string; Detail: string };

// 2024-02-29T10:00:00Z
const INITIATED_AT = 1_709_200_800;
let stack: LocalStack;
let documents: DynamoDBDocumentClient;
let s3Proxy: S3FaultProxy;
let dynamoProxy: CountingProxy;
/** Stands in for EventBridge: speaks PutEvents' JSON protocol, and keeps every entry it took. */
let eventBridge: ScriptedServer;
let events: SentEvent[];
let queues: FifoQueues;
const BUS = 'archive-test-bus';
const DLQ = 'archive-test-dlq.fifo';
const QUEUE = 'archive-test-enrich.fifo';
let output: OutputCapture;
let sequence = 0;

/**
 * Serves an ended call with `recordings` small recordings (`rec-<n>-<i>`), under a session id no
 * other test uses unless `sessionId` names one to replace; returns the session id.
 */
function addCall(
  options: {
    recordings?: number;
    transcripts?: SimulatedTranscript[];
    raw?: Record<string, unknown>;
    sessionId?: string;
  } = {},
): string {
  if (options.sessionId === undefined) sequence += 1;
  const sessionId = options.sessionId ?? `v1.us.archive-test.${INITIATED_AT}.${sequence}`;
  const n = sessionId.slice(sessionId.lastIndexOf('.') + 1);
  const call: SimulatedCall = {
    raw: {
      sessionId,
      type: 'video',
      mode: 'meet',
      status: 'ended',
      receiverType: 'group',
      initiator: 'uid-1',
      receiver: 'group-1',
      initiatedAt: INITIATED_AT,
      startedAt: INITIATED_AT + 5,
      endedAt: INITIATED_AT + 305,
      hasRecording: (options.recordings ?? 0) > 0,
      participants: [
        { uid: 'uid-1', name: 'One', isJoined: true, joinedAt: INITIATED_AT + 5, leftAt: INITIATED_AT + 305 },
        { uid: 'uid-2', name: 'Two', isJoined: true, joinedAt: INITIATED_AT + 6, leftAt: INITIATED_AT + 300 },
      ],
      ...options.raw,
    },
    recordings: Array.from({ length: options.recordings ?? 0 }, (_, i) => ({
      rid: `rec-${n}-${i}`,
      bytes: 2048 + i,
    })),
    ...(options.transcripts && { transcripts: options.transcripts }),
  };
  stack.simulator?.addCall(call);
  return sessionId;
}

/** The enrichCall handler, imported afresh (a cold start) with `env` over the stack's environment. */
async function loadHandler(env: Record<string, string> = {}): Promise<EnrichCallHandler> {
  stack.applyEnv();
  delete process.env.ARCHIVE_KEY_TEMPLATE;
  delete process.env.EVENT_BUS_NAME;
  process.env.AWS_ENDPOINT_URL_S3 = s3Proxy.endpoint;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoProxy.endpoint;
  Object.assign(process.env, env);
  return importHandler<EnrichCallHandler>('functions/enrich-call.ts');
}

const invoke = (handler: EnrichCallHandler, sessionId: string) =>
  handler({ sessionId }, lambdaContext('enrichCall'));

async function callItem(sessionId: string): Promise<CallItem> {
  const items = await callItems(documents, stack.tableName, sessionId);
  const call = items.find((item) => item.sk === 'CALL');
  if (!call) throw new Error(`no call item for ${sessionId}`);
  return call as unknown as CallItem;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await stack.clients.s3.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((object) => object.Key as string).sort();
}

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: [] } });
  documents = DynamoDBDocumentClient.from(stack.clients.dynamodb);
  s3Proxy = await startS3FaultProxy(stack.env.AWS_ENDPOINT_URL_S3 as string);
  dynamoProxy = await startCountingProxy(stack.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  eventBridge = await startScriptedServer();
  queues = await startFifoQueues(QUEUE, DLQ);
});

beforeEach(() => {
  events = [];
  eventBridge.script(putEvents({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }));
});

/** Answers PutEvents with `answer`, keeping the entries when it took them all. */
function putEvents(answer: { FailedEntryCount: number; Entries: object[] }): Step {
  return awsJson(200, answer, (text) => {
    if (answer.FailedEntryCount === 0) events.push(...(JSON.parse(text) as { Entries: SentEvent[] }).Entries);
  });
}

const refused = putEvents({
  FailedEntryCount: 1,
  Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try later' }],
});

/** The environment that turns events on, sending them to the stand-in. */
const withBus = () => ({ EVENT_BUS_NAME: BUS, AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.origin });

afterAll(async () => {
  output?.stop();
  await queues?.close();
  await eventBridge?.close();
  await s3Proxy?.close();
  await dynamoProxy?.close();
  await stack?.close();
});

async function readObject(key: string): Promise<string> {
  const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return (await object.Body?.transformToString('utf-8')) ?? '';
}

async function tagsOf(key: string): Promise<Record<string, string>> {
  const { TagSet = [] } = await stack.clients.s3.send(
    new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }),
  );
  return Object.fromEntries(TagSet.map((tag) => [tag.Key, tag.Value]));
}

/** Every call and participant item in the table, in key order. */
async function archiveItems(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items
    .filter((item) => item.entity === 'call' || item.entity === 'participant')
    .sort((a, b) => `${a.pk}\u0000${a.sk}`.localeCompare(`${b.pk}\u0000${b.sk}`));
}

/** Deletes every item of the table: the table is lost. */
async function emptyTable(): Promise<void> {
  const { Items = [] } = await documents.send(new ScanCommand({ TableName: stack.tableName }));
  for (let i = 0; i < Items.length; i += 25) {
    await documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [stack.tableName]: Items.slice(i, i + 25).map((item) => ({
            DeleteRequest: { Key: { pk: item.pk, sk: item.sk } },
          })),
        },
      }),
    );
  }
}

describe('ARCHIVE_KEY_TEMPLATE', () => {
  it('puts every file of a call in the folder the template names, by the UTC day it was initiated', async () => {
    const handler = await loadHandler({ ARCHIVE_KEY_TEMPLATE: '{appId}/{yyyy}/{mm}/{dd}/{sessionId}' });
    const sessionId = addCall({ recordings: 2 });

    const result = await invoke(handler, sessionId);

    const folder = `recordings/${stack.simulator?.appId}/2024/02/29/${sessionId}/`;
    expect(result.recordings.map((r) => r.key)).toEqual([
      `${folder}rec-${sequence}-0.mp4`,
      `${folder}rec-${sequence}-1.mp4`,
    ]);
    const stored = await keysUnder(folder);
    for (const recording of result.recordings) {
      expect(stored).toContain(recording.key);
      expect(await storedDigest(stack.clients.s3, stack.bucket, recording.key)).toEqual({
        bytes: recording.bytes,
        sha256: recording.sha256,
      });
    }
    expect(await keysUnder(`recordings/${sessionId}/`)).toEqual([]);
    expect((await callItem(sessionId)).recordings.map((r) => r.key)).toEqual(
      result.recordings.map((r) => r.key),
    );
  });

  it('keeps a stored call in its folder when the template changes later', async () => {
    const sessionId = addCall({ recordings: 1 });
    const first = await invoke(await loadHandler({ ARCHIVE_KEY_TEMPLATE: 'a/{sessionId}' }), sessionId);
    addCall({ sessionId, recordings: 2 });

    const second = await invoke(await loadHandler({ ARCHIVE_KEY_TEMPLATE: 'b/{sessionId}' }), sessionId);

    const folder = `recordings/a/${sessionId}/`;
    expect(first.recordings.map((r) => r.key)).toEqual([`${folder}rec-${sequence}-0.mp4`]);
    expect(second.recordings.map((r) => [r.key, r.copied])).toEqual([
      [`${folder}rec-${sequence}-0.mp4`, false],
      [`${folder}rec-${sequence}-1.mp4`, true],
    ]);
    expect(await keysUnder('recordings/b/')).toEqual([]);
  });

  it.each([
    ['without {sessionId}', '{yyyy}/{mm}'],
    ['with an unknown placeholder', '{yyyy}/{hh}/{sessionId}'],
    ['with a parent segment', '../{sessionId}'],
    ['too long for S3 keys', `${'x'.repeat(800)}/{sessionId}`],
  ])('is refused at start-up %s, naming the variable', async (_, template) => {
    const error = await rejectionOf(loadHandler({ ARCHIVE_KEY_TEMPLATE: template }));

    expect(error).toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/ARCHIVE_KEY_TEMPLATE/),
    });
  });
});

describe('the manifest (call.json)', () => {
  it('is written after the files it names: the call, its files with sha256, the raw response without signatures', async () => {
    const handler = await loadHandler();
    const sessionId = addCall({
      recordings: 2,
      raw: {
        tags: ['support'],
        metaData: [{ link: 'https://files.cometchat.io/notes.txt?Signature=abc&Expires=99#frag' }],
      },
    });
    s3Proxy.reset();

    const result = await invoke(handler, sessionId);

    const key = `recordings/${sessionId}/call.json`;
    const text = await readObject(key);
    const manifest = JSON.parse(text);
    const call = await callItem(sessionId);
    expect(manifest.manifestVersion).toBe(1);
    expect(manifest.call).toMatchObject({ sessionId, status: 'ended', revision: call.revision });
    expect(manifest.call.participants).toEqual(call.participants);
    expect(manifest.call.recordings).toEqual(call.recordings);
    expect(manifest.call.recordings.map((r: { key: string; sha256: string }) => [r.key, r.sha256])).toEqual(
      result.recordings.map((r) => [r.key, r.sha256]),
    );
    expect(manifest.call.transcripts).toEqual([]);
    expect(manifest.response).toMatchObject({ sessionId, tags: ['support'], hasRecording: true });
    expect(manifest.response.metaData).toEqual([{ link: 'https://files.cometchat.io/notes.txt' }]);
    expect(manifest.response.recordings).toHaveLength(2);
    for (const recording of manifest.response.recordings) {
      expect(recording.recording_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/recordings\/[^?#]+$/);
    }
    expect(text).not.toMatch(/Signature|Expires|Key-Pair-Id|[?#]/);
    expect(call).toMatchObject({ manifestKey: key, publishedRevision: call.revision });
    expect(await tagsOf(key)).toEqual({
      sha256: (await storedDigest(stack.clients.s3, stack.bucket, key)).sha256,
      hold: 'false',
    });
    // The manifest comes after every recording and its tag; only the call's analytics record
    // (written from the committed call, untagged) follows it.
    const sent = s3Proxy.events.filter((e) => e.phase === '>').map((e) => e.op);
    expect(sent.filter((op) => op === 'PutObject')).toHaveLength(4);
    expect(sent.slice(-4)).toEqual(['GetObjectTagging', 'PutObject', 'PutObjectTagging', 'PutObject']);
  });

  it('is not written again, nor anything else, when an unchanged call is enriched again', async () => {
    const handler = await loadHandler();
    const sessionId = addCall({ recordings: 1 });
    await invoke(handler, sessionId);
    const before = await readObject(`recordings/${sessionId}/call.json`);
    s3Proxy.reset();
    dynamoProxy.reset();

    await invoke(handler, sessionId);

    expect(s3Proxy.count('PutObject') + s3Proxy.count('PutObjectTagging')).toBe(0);
    expect(s3Proxy.count('CreateMultipartUpload')).toBe(0);
    expect(dynamoProxy.count(...DYNAMODB_WRITES)).toBe(0);
    expect(await readObject(`recordings/${sessionId}/call.json`)).toBe(before);
  });

  it('is rewritten when the call changes', async () => {
    const handler = await loadHandler();
    const sessionId = addCall();
    await invoke(handler, sessionId);
    addCall({ sessionId, recordings: 1 });

    await invoke(handler, sessionId);

    const manifest = JSON.parse(await readObject(`recordings/${sessionId}/call.json`));
    expect(manifest.call.revision).toBe(2);
    expect(manifest.call.recordings).toHaveLength(1);
    expect(await callItem(sessionId)).toMatchObject({ revision: 2, publishedRevision: 2 });
  });

  it('fails the run retryably when it cannot be written, and the next run writes it', async () => {
    const handler = await loadHandler();
    const sessionId = addCall();
    s3Proxy.reset();
    s3Proxy.failOn('PutObject', 1, 500, 'InternalError');

    const error = await rejectionOf(invoke(handler, sessionId));

    expect(error.name).toBe('StorageError');
    expect(await callItem(sessionId)).toMatchObject({ revision: 1 });
    expect(await callItem(sessionId)).not.toHaveProperty('publishedRevision');
    expect(await keysUnder(`recordings/${sessionId}/`)).toEqual([]);
    s3Proxy.reset();

    await invoke(handler, sessionId);

    const manifest = JSON.parse(await readObject(`recordings/${sessionId}/call.json`));
    expect(manifest.call).toMatchObject({ sessionId, revision: 1 });
    expect(await callItem(sessionId)).toMatchObject({ revision: 1, publishedRevision: 1 });
  });
});

describe('rebuild from S3', () => {
  it('puts back every call item and index item from the manifests alone, once the table is lost', async () => {
    const handler = await loadHandler({ ARCHIVE_KEY_TEMPLATE: '{yyyy}/{mm}/{sessionId}' });
    for (const recordings of [0, 1, 2]) await invoke(handler, addCall({ recordings }));
    // A transcript whose tid is `call` is stored as …/transcripts/call.json: not a manifest.
    await invoke(handler, addCall({ transcripts: [{ tid: 'call' }] }));
    const before = await archiveItems();
    expect(before.filter((item) => item.entity === 'call').length).toBeGreaterThanOrEqual(3);
    await emptyTable();
    expect(await archiveItems()).toEqual([]);

    const result = await rebuildFromManifests(
      {
        manifests: createManifestStore({ s3: stack.clients.s3, bucket: stack.bucket }),
        store: createCallStore({ tableName: stack.tableName, client: documents }),
      },
      'recordings/',
    );

    expect(result.failed).toEqual([]);
    expect(result.restored).toBe(before.filter((item) => item.entity === 'call').length);
    expect(await archiveItems()).toEqual(before);
  });

  it('leaves a call the table holds at a later revision as it is', async () => {
    const handler = await loadHandler();
    const sessionId = addCall();
    await invoke(handler, sessionId);
    const manifests = createManifestStore({ s3: stack.clients.s3, bucket: stack.bucket });
    const old = await manifests.get(`recordings/${sessionId}/call.json`);
    addCall({ sessionId, recordings: 1 });
    await invoke(handler, sessionId);
    const latest = await callItems(documents, stack.tableName, sessionId);
    await manifests.put(`recordings/${sessionId}/call.json`, old as never);

    const result = await rebuildFromManifests(
      { manifests, store: createCallStore({ tableName: stack.tableName, client: documents }) },
      `recordings/${sessionId}/`,
    );

    expect(result).toMatchObject({ manifests: 1, restored: 0, newer: 1, failed: [] });
    expect(await callItems(documents, stack.tableName, sessionId)).toEqual(latest);
  });
});

describe('events (EVENT_BUS_NAME)', () => {
  it('sends CallArchived once per change of the call, and none when nothing changed', async () => {
    const handler = await loadHandler(withBus());
    const sessionId = addCall({ recordings: 1 });

    const first = await invoke(handler, sessionId);
    await invoke(handler, sessionId);
    addCall({ sessionId, recordings: 2 });
    const third = await invoke(handler, sessionId);

    expect(events.map((e) => [e.EventBusName, e.Source, e.DetailType])).toEqual([
      [BUS, 'cometchat-call-archive', 'CallArchived'],
      [BUS, 'cometchat-call-archive', 'CallArchived'],
    ]);
    const details = events.map((e) => JSON.parse(e.Detail));
    const file = ({ rid, bucket, key, bytes, sha256 }: EnrichmentResult['recordings'][number]) => ({
      rid,
      bucket,
      key,
      bytes,
      sha256,
    });
    const manifest = { bucket: stack.bucket, key: `recordings/${sessionId}/call.json` };
    expect(details[0]).toEqual({
      sessionId,
      status: 'ended',
      initiatedAt: INITIATED_AT,
      participants: 2,
      recordings: first.recordings.map(file),
      transcripts: [],
      manifest,
    });
    expect(details[1]).toMatchObject({ sessionId, recordings: third.recordings.map(file), manifest });
  });

  it('fails the run retryably when the event is not taken after the commit, and the retry sends it', async () => {
    const handler = await loadHandler(withBus());
    const sessionId = addCall({ recordings: 1 });
    eventBridge.script(refused);

    const error = await rejectionOf(invoke(handler, sessionId));

    expect(error.name).toBe('StorageError');
    expect(events).toEqual([]);
    expect(await callItem(sessionId)).toMatchObject({ revision: 1 });
    expect(await callItem(sessionId)).not.toHaveProperty('publishedRevision');
    eventBridge.script(putEvents({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] }));

    const result = await invoke(handler, sessionId);

    expect(result.recordings.map((r) => r.copied)).toEqual([false]);
    expect(events.map((e) => [e.DetailType, JSON.parse(e.Detail).sessionId])).toEqual([
      ['CallArchived', sessionId],
    ]);
    expect(await callItem(sessionId)).toMatchObject({ revision: 1, publishedRevision: 1 });
    await invoke(handler, sessionId);
    expect(events).toHaveLength(1);
  });

  it('sends none without EVENT_BUS_NAME', async () => {
    const handler = await loadHandler({ AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.origin });
    const before = eventBridge.requests.length;

    await invoke(handler, addCall({ recordings: 1 }));

    expect(eventBridge.requests.length).toBe(before);
  });

  it('sends CallArchiveFailed when the queue consumer dead-letters a message', async () => {
    const consumer = await loadConsumer();
    const sessionId = `v1.us.archive-test.refused.${randomUUID()}`;
    stack.simulator?.failNext({ sessionId }, { kind: 'status', status: 422, body: {} });
    const body = JSON.stringify({ sessionId, trigger: 'call_ended', eventKey: 'k' });

    const response = await consumer(sqsEvent(body, sessionId, QUEUE), lambdaContext('enrich', 30_000));

    expect(response.batchItemFailures).toEqual([]);
    expect(await queues.waiting(DLQ)).toHaveLength(1);
    expect(events.map((e) => [e.EventBusName, e.DetailType])).toEqual([[BUS, 'CallArchiveFailed']]);
    expect(JSON.parse(events[0]?.Detail ?? '{}')).toEqual({
      sessionId,
      errorName: 'CometChatRequestError',
      errorMessage: expect.stringContaining('422'),
    });
  });

  it('puts no secret and no signed URL in any event', async () => {
    const handler = await loadHandler(withBus());
    const sessionId = addCall({
      recordings: 2,
      raw: { metaData: [{ link: 'https://files.cometchat.io/n.txt?Signature=abc' }] },
    });
    await invoke(handler, sessionId);
    const consumer = await loadConsumer();
    const refusedId = `v1.us.archive-test.refused.${randomUUID()}`;
    stack.simulator?.failNext({ sessionId: refusedId }, { kind: 'status', status: 422, body: {} });
    await consumer(
      sqsEvent(JSON.stringify({ sessionId: refusedId }), refusedId, QUEUE),
      lambdaContext('enrich', 30_000),
    );

    expect(events.map((e) => e.DetailType)).toEqual(['CallArchived', 'CallArchiveFailed']);
    const text = JSON.stringify(events);
    for (const secret of [
      stack.simulator?.apiKey,
      'Signature',
      'Expires',
      'Key-Pair-Id',
      '?',
      'recording_url',
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

/** The `enrich` queue consumer, dead-lettering into the queue emulator, with events on. */
async function loadConsumer(): Promise<QueueConsumerHandler> {
  stack.applyEnv();
  Object.assign(process.env, {
    ...withBus(),
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    ENRICH_DLQ_URL: queues.url(DLQ),
  });
  return importHandler<QueueConsumerHandler>('functions/queue-consumer.ts');
}

/** `n` transcripts `t-<i>`, the later the newer. */
const transcripts = (n: number, extra: Partial<SimulatedTranscript> = {}): SimulatedTranscript[] =>
  Array.from({ length: n }, (_, i) => ({
    tid: `t-${i}`,
    startTime: INITIATED_AT + 10 * i,
    endTime: INITIATED_AT + 10 * i + 8,
    ...extra,
  }));

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('transcripts', () => {
  it('archives all 7 of a call whose Get Call lists only the 5 newest, paging the transcriptions endpoint', async () => {
    const handler = await loadHandler();
    const sessionId = addCall({ recordings: 1, transcripts: transcripts(7) });
    stack.simulator?.resetRequests();

    const result = await invoke(handler, sessionId);

    expect(stack.simulator?.requests.filter((r) => r.kind === 'list-transcriptions')).toHaveLength(1);
    expect(result.transcripts.map((t) => [t.tid, t.key, t.copied])).toEqual(
      Array.from({ length: 7 }, (_, i) => [
        `t-${i}`,
        `recordings/${sessionId}/transcripts/t-${i}.json`,
        true,
      ]),
    );
    for (const transcript of result.transcripts) {
      const expected = transcriptContent(sessionId, `${transcript.tid}.json`);
      expect(transcript).toMatchObject({ bytes: expected.length, sha256: sha256(expected) });
      expect(await readObject(transcript.key)).toBe(expected.toString('utf8'));
      expect(await tagsOf(transcript.key)).toEqual({ sha256: transcript.sha256, hold: 'false' });
    }
    const call = await callItem(sessionId);
    expect(call.hasTranscription).toBe(true);
    expect(call.transcripts.map((t) => [t.tid, t.key, t.bytes, t.sha256, t.contentType])).toEqual(
      result.transcripts.map((t) => [t.tid, t.key, t.bytes, t.sha256, 'application/json']),
    );
    for (const entry of call.transcripts) expect(entry.sourceUrl).not.toMatch(/[?#]/);
    const manifest = JSON.parse(await readObject(`recordings/${sessionId}/call.json`));
    expect(manifest.call.transcripts).toEqual(call.transcripts);
    expect(manifest.response.transcriptions).toHaveLength(5);
  });

  it('reads no transcriptions page for a call Get Call shows whole, and keeps any tid and none', async () => {
    const handler = await loadHandler();
    const sessionId = addCall({
      transcripts: [
        { tid: 'a/b ü', startTime: INITIATED_AT },
        { startTime: INITIATED_AT + 1, urlField: 'url' },
      ],
    });
    stack.simulator?.resetRequests();

    const result = await invoke(handler, sessionId);

    expect(stack.simulator?.requests.filter((r) => r.kind === 'list-transcriptions')).toEqual([]);
    const [named, unnamed] = [...result.transcripts].sort((a, b) =>
      a.tid === 'a/b ü' ? -1 : b.tid === 'a/b ü' ? 1 : 0,
    );
    expect(named?.key).toBe(`recordings/${sessionId}/transcripts/a%2Fb%20%C3%BC.json`);
    expect(unnamed?.tid).toMatch(/^url-[0-9a-f]{32}$/);
    const again = await invoke(handler, sessionId);
    expect(again.transcripts.map((t) => [t.tid, t.copied])).toEqual(
      result.transcripts.map((t) => [t.tid, false]),
    );
  });

  it('downloads nothing again and writes nothing when an unchanged call with transcripts is enriched again', async () => {
    const handler = await loadHandler();
    const sessionId = addCall({ transcripts: transcripts(6) });
    await invoke(handler, sessionId);
    stack.simulator?.resetRequests();
    s3Proxy.reset();
    dynamoProxy.reset();

    const result = await invoke(handler, sessionId);

    expect(result.transcripts.every((t) => !t.copied)).toBe(true);
    expect(stack.simulator?.requests.filter((r) => r.kind === 'transcript')).toEqual([]);
    expect(s3Proxy.count('PutObject') + s3Proxy.count('PutObjectTagging')).toBe(0);
    expect(dynamoProxy.count(...DYNAMODB_WRITES)).toBe(0);
  });

  it('fetches fresh URLs once after a 403 and copies the transcript', async () => {
    const handler = await loadHandler();
    const sessionId = addCall({ transcripts: transcripts(2) });
    stack.simulator?.failNextRecording('t-1.json', { kind: 'expire' });
    stack.simulator?.resetRequests();

    const result = await invoke(handler, sessionId);

    expect(result.transcripts.map((t) => t.copied)).toEqual([true, true]);
    expect(stack.simulator?.requests.filter((r) => r.kind === 'get-call')).toHaveLength(2);
    expect(stack.simulator?.requests.filter((r) => r.kind === 'transcript').map((r) => r.status)).toContain(
      403,
    );
  });

  it('refuses a transcript URL the policy refuses, with RecordingRejectedError and nothing stored', async () => {
    const handler = await loadHandler();
    const sessionId = addCall({
      transcripts: [{ tid: 'evil', url: 'https://transcripts.example.com/evil.json?Signature=s' }],
    });

    const error = await rejectionOf(invoke(handler, sessionId));

    expect(error.name).toBe('RecordingRejectedError');
    expect(error.message).not.toContain('Signature');
    expect(await callItems(documents, stack.tableName, sessionId)).toEqual([]);
    expect(await keysUnder(`recordings/${sessionId}/`)).toEqual([]);
  });

  it('archives a transcript that appears after the call was first archived, on the next run', async () => {
    const handler = await loadHandler(withBus());
    const sessionId = addCall({ raw: { hasTranscription: false } });
    const first = await invoke(handler, sessionId);
    stack.simulator?.updateCall(sessionId, { hasTranscription: undefined });
    stack.simulator?.addTranscripts(sessionId, transcripts(1));

    const second = await invoke(handler, sessionId);

    expect(first.transcripts).toEqual([]);
    expect(second.transcripts.map((t) => [t.tid, t.copied])).toEqual([['t-0', true]]);
    expect(await callItem(sessionId)).toMatchObject({
      hasTranscription: true,
      revision: 2,
      publishedRevision: 2,
    });
    const archived = events.map((e) => JSON.parse(e.Detail)).filter((d) => d.sessionId === sessionId);
    expect(archived.map((d) => d.transcripts.length)).toEqual([0, 1]);
  });
});

describe('reconciliation', () => {
  it("picks up a transcript that appears after the call was archived: the backfill's List Calls shows it", async () => {
    const handler = await loadHandler();
    const initiatedAt = Math.floor(Date.now() / 1000) - 2 * 3600;
    const sessionId = addCall({
      raw: {
        initiatedAt,
        startedAt: initiatedAt + 5,
        endedAt: initiatedAt + 305,
        hasTranscription: undefined,
      },
      transcripts: [{ tid: 'late', startTime: initiatedAt + 10, availableFrom: Date.now() + 3_600_000 }],
    });
    const first = await invoke(handler, sessionId);
    expect(first.transcripts).toEqual([]);
    // The transcript is produced now; no webhook says so.
    stack.simulator?.addTranscripts(sessionId, [{ tid: 'late-2', startTime: initiatedAt + 20 }]);
    const sqs = new SQSClient({ endpoint: queues.endpoint, region: 'us-east-1' });
    const { deps, settings } = backfillFromEnv(
      { ...stack.env, ENRICH_QUEUE_URL: queues.url(QUEUE) },
      { dynamodb: documents, sqs },
    );

    const result = await backfill({}, deps, settings);

    expect(result).toMatchObject({ reconciled: 1, enqueued: 1 });
    const messages = await queues.waiting(QUEUE);
    expect(messages.map((m) => JSON.parse(m.body).sessionId)).toEqual([sessionId]);
    const consumer = await loadConsumer();
    const consumed = await consumer(
      sqsEvent(messages[0]?.body ?? '', sessionId, QUEUE),
      lambdaContext('enrich', 30_000),
    );
    expect(consumed.batchItemFailures).toEqual([]);
    expect((await callItem(sessionId)).transcripts.map((t) => t.tid)).toEqual(['late-2']);
    sqs.destroy();
  });
});
