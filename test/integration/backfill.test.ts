/**
 * The real backfill handler (and, for pacing and reconciliation, the use case with its real adapters)
 * against dynalite + s3rver + the CometChat simulator holding several hundred calls, over real
 * sockets. SQS and Step Functions have no emulator that speaks their current APIs here, so their
 * clients are mocked at the SDK boundary (aws-sdk-client-mock) and record what was sent.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { ensureTable } from '../../dev/local-aws.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import {
  type CometChatSimulator,
  type SimulatedCall,
  startCometChatSimulator,
} from '../../dev/simulator/index.ts';
import { type BackfillResult, backfill } from '../../lib/backfill/backfill.ts';
import { backfillFromEnv } from '../../lib/backfill/dependencies.ts';
import { normaliseCall } from '../../lib/calls/normalise.ts';
import { BackfillInputError, StorageError } from '../../lib/errors.ts';
import { type CallStore, createCallStore } from '../../lib/store/call-store.ts';
import { generateCalls, sessionIdOf } from '../support/generated-calls.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';
import { fakeClock } from '../unit/backfill/fake-clock.ts';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<BackfillResult>;

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/archive-test-enrich.fifo';
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:archive-test-backfill';
const HOUR = 3600;
/** The newest call was initiated two minutes before the suite started. */
const NEWEST = Math.floor(Date.now() / 1000) - 120;
/** 400 calls three minutes apart (20 hours: all inside the default 24-hour look-back)… */
const RECENT = generateCalls({ count: 400, newest: NEWEST, spacingSeconds: 180, inProgress: 3 });
/** …and 20 from two days ago, which no default window reaches. */
const OLD = generateCalls({ count: 20, newest: NEWEST - 48 * HOUR, spacingSeconds: 60, label: 'old' });
const CALLS = [...RECENT, ...OLD];
/** Every 7th recent call is already archived with its final status; every 11th only as ongoing. */
const STORED_FINAL = RECENT.filter((_, i) => i >= 3 && i % 7 === 0);
const STORED_ONGOING = RECENT.filter((_, i) => i >= 3 && i % 11 === 0 && i % 7 !== 0);
const ELIGIBLE = RECENT.filter((call) => !STORED_FINAL.includes(call)).map(sessionIdOf);
/** The oldest of the three calls still in progress: where the checkpoint has to stop. */
const OLDEST_IN_PROGRESS = RECENT[2]?.raw.initiatedAt as number;

let stack: LocalStack;
let documents: DynamoDBDocumentClient;
let output: OutputCapture;
const sqs = mockClient(SQSClient);
const sfn = mockClient(SFNClient);
const simulators: CometChatSimulator[] = [];
let tables = 0;

/** Every SendMessageBatch input the mock received. */
function batches(): SendMessageBatchCommandInput[] {
  return sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
}

/** Session ids of every message sent, in order. */
function enqueuedIds(): string[] {
  return batches().flatMap((b) => (b.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}').sessionId));
}

/** SQS accepts every entry. */
function acceptEverything(): void {
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((e) => ({
      Id: e.Id,
      MessageId: `m-${e.Id}`,
      MD5OfMessageBody: 'x',
    })),
    Failed: [],
  }));
}

/** A table of its own for one test, holding the archived calls; returns its store. */
async function freshTable(): Promise<{ tableName: string; store: CallStore }> {
  tables += 1;
  const tableName = `backfill-${tables}`;
  await ensureTable(stack.clients.dynamodb, tableName);
  const store = createCallStore({ tableName, client: documents });
  for (const [calls, status] of [
    [STORED_FINAL, 'ended'],
    [STORED_ONGOING, 'ongoing'],
  ] as const) {
    await Promise.all(
      calls.map((call) => store.save(normaliseCall({ ...call.raw, status }).call, { previous: undefined })),
    );
  }
  return { tableName, store };
}

/** A simulator of its own (tests that change the calls, or run on a virtual clock), closed after the test. */
async function ownSimulator(calls: SimulatedCall[], clock?: () => number): Promise<CometChatSimulator> {
  const simulator = await startCometChatSimulator({ calls, ...(clock && { clock }) });
  simulators.push(simulator);
  return simulator;
}

/** Imports a fresh copy of the handler with `env` applied on top of the stack's environment. */
async function loadHandler(env: Record<string, string>): Promise<Handler> {
  stack.applyEnv();
  Object.assign(process.env, {
    ENRICH_QUEUE_URL: QUEUE_URL,
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...env,
  });
  return importHandler<Handler>('functions/backfill.ts');
}

const invoke = (handler: Handler, event: unknown = {}) => handler(event, lambdaContext('backfill', 120_000));

const unix = (iso: string | null) => (iso === null ? undefined : Date.parse(iso) / 1000);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: CALLS } });
  documents = DynamoDBDocumentClient.from(stack.clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
});

afterAll(async () => {
  output?.stop();
  sqs.restore();
  sfn.restore();
  await stack?.close();
});

beforeEach(() => {
  sqs.reset();
  sfn.reset();
  acceptEverything();
  stack.simulator?.resetRequests();
});

afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

describe('backfill handler on the local stack', () => {
  it('enqueues every eligible call exactly once, skips archived ones, and stops the checkpoint at the oldest call in progress', async () => {
    const { tableName, store } = await freshTable();
    const handler = await loadHandler({ CALLS_TABLE: tableName });

    const result = await invoke(handler);

    expect(result).toMatchObject({
      pages: 5,
      listed: 400,
      skipped: STORED_FINAL.length,
      enqueued: ELIGIBLE.length,
      complete: true,
      checkpointAdvanced: true,
    });
    expect(enqueuedIds()).toEqual(ELIGIBLE);
    expect(new Set(enqueuedIds()).size).toBe(ELIGIBLE.length);
    expect(unix(result.checkpoint)).toBe(OLDEST_IN_PROGRESS);
    expect((await store.getCheckpoint('list-calls'))?.highWaterMark).toBe(OLDEST_IN_PROGRESS);
    expect(unix(result.to)).toBeGreaterThanOrEqual(NEWEST);
    expect(unix(result.from)).toBe((unix(result.to) as number) - 24 * HOUR);
  });

  it('sends FIFO messages grouped by session and deduplicated by the digest of the event key, ten at a time', async () => {
    const { tableName } = await freshTable();
    const handler = await loadHandler({ CALLS_TABLE: tableName });

    await invoke(handler);

    const sent = batches();
    expect(sent.every((b) => b.QueueUrl === QUEUE_URL && (b.Entries?.length ?? 0) <= 10)).toBe(true);
    expect(sent).toHaveLength(Math.ceil(ELIGIBLE.length / 10));
    const ongoing = sessionIdOf(RECENT[0] as SimulatedCall);
    const entry = sent[0]?.Entries?.[0];
    expect(JSON.parse(entry?.MessageBody ?? '')).toEqual({
      sessionId: ongoing,
      trigger: 'backfill',
      eventKey: `backfill:${ongoing}:ongoing`,
    });
    expect(entry?.MessageGroupId).toBe(ongoing);
    expect(entry?.MessageDeduplicationId).toBe(sha256(`backfill:${ongoing}:ongoing`));
    expect(output.text()).not.toContain(stack.env.COMETCHAT_API_KEY);
  });

  it('loses nothing and enqueues nothing twice when new calls shift the pages mid-walk', async () => {
    const simulator = await ownSimulator(CALLS);
    const { tableName } = await freshTable();
    const handler = await loadHandler({ CALLS_TABLE: tableName, COMETCHAT_BASE_URL: simulator.baseUrl });
    const arrivals = generateCalls({ count: 30, newest: NEWEST + 100, spacingSeconds: 1, label: 'arrival' });
    simulator.onListCalls(({ answered }) => {
      // After page 2 is served, 30 calls arrive at the front: page 2's last 30 reappear on page 3.
      if (answered === 2) for (const call of arrivals) simulator.addCall(call);
    });

    const first = await invoke(handler);
    simulator.onListCalls(undefined);
    const firstRun = enqueuedIds();
    sqs.resetHistory();
    const second = await invoke(handler);

    expect(firstRun).toHaveLength(new Set(firstRun).size);
    expect(new Set(firstRun)).toEqual(new Set(ELIGIBLE));
    expect(first).toMatchObject({ complete: true, listed: 400, enqueued: ELIGIBLE.length });
    // The calls that arrived behind the walk are in the next run's window, thanks to the checkpoint.
    const secondRun = enqueuedIds();
    expect(secondRun).toHaveLength(new Set(secondRun).size);
    expect(secondRun).toEqual(expect.arrayContaining(arrivals.map(sessionIdOf)));
    expect(second.complete).toBe(true);
  });

  it('keeps the checkpoint when enqueueing fails, and the next run covers everything', async () => {
    const { tableName, store } = await freshTable();
    const earlier = NEWEST - 30 * HOUR;
    await store.putCheckpoint('list-calls', earlier);
    const handler = await loadHandler({ CALLS_TABLE: tableName });
    // SQS refuses the batch that holds the first call of page 3.
    const pageThree = sessionIdOf(CALLS[200] as SimulatedCall);
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      if ((input.Entries ?? []).some((e) => e.MessageBody?.includes(pageThree))) {
        throw Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError' });
      }
      return {
        Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
        Failed: [],
      };
    });

    const failure = await invoke(handler).catch((error: unknown) => error);
    const firstRun = enqueuedIds();

    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe(StorageError.name);
    expect((await store.getCheckpoint('list-calls'))?.highWaterMark).toBe(earlier);

    acceptEverything();
    sqs.resetHistory();
    const result = await invoke(handler);

    expect(new Set([...firstRun, ...enqueuedIds()])).toEqual(new Set(ELIGIBLE));
    expect(new Set(enqueuedIds())).toEqual(new Set(ELIGIBLE));
    expect(result).toMatchObject({ complete: true, checkpointAdvanced: true });
    expect((await store.getCheckpoint('list-calls'))?.highWaterMark).toBe(OLDEST_IN_PROGRESS);
  });

  it('on a dry run, lists the eligible calls, enqueues nothing and leaves the checkpoint alone', async () => {
    const { tableName, store } = await freshTable();
    const handler = await loadHandler({ CALLS_TABLE: tableName });

    const result = await invoke(handler, { dryRun: true });

    expect(result).toMatchObject({ dryRun: true, enqueued: 0, eligible: ELIGIBLE.length, checkpoint: null });
    expect(result.sessionIds).toEqual(ELIGIBLE);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(await store.getCheckpoint('list-calls')).toBeUndefined();
  });

  it.each([
    ['an unreadable from', { from: 'last tuesday' }],
    ['a to in milliseconds', { to: Date.now() }],
    ['from after to', { from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' }],
    ['a dryRun that is not a boolean', { dryRun: 'perhaps' }],
    ['a string event', 'backfill'],
  ])('refuses %s with BackfillInputError before asking CometChat anything', async (_what, event) => {
    const { tableName } = await freshTable();
    const handler = await loadHandler({ CALLS_TABLE: tableName });

    const error = await invoke(handler, event).catch((e: unknown) => e);

    expect((error as Error).name).toBe(BackfillInputError.name);
    expect(stack.simulator?.requests.filter((r) => r.kind === 'list-calls')).toHaveLength(0);
  });

  it('treats its Scheduled Event as {}', async () => {
    const { tableName } = await freshTable();
    const handler = await loadHandler({ CALLS_TABLE: tableName });

    const result = await invoke(handler, {
      version: '0',
      id: 'cdc73f9d-aea9-11e3-9d5a-835b769c0d9c',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/archive-test-backfill'],
      detail: {},
    });

    expect(result).toMatchObject({ complete: true, enqueued: ELIGIBLE.length });
  });

  it('streams a backlog over the threshold into a manifest in S3 and starts the state machine once with it', async () => {
    const { tableName } = await freshTable();
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:archive-test-backfill:${input.name}`,
      startDate: new Date(),
    }));
    const handler = await loadHandler({
      CALLS_TABLE: tableName,
      BACKFILL_QUEUE_THRESHOLD: '100',
      BACKFILL_STATE_MACHINE_ARN: STATE_MACHINE,
    });

    const result = await invoke(handler);

    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    const start = starts[0]?.args[0].input;
    const input = JSON.parse(start?.input ?? '{}');
    expect(start?.stateMachineArn).toBe(STATE_MACHINE);
    expect(input.manifestKey).toMatch(/^backfill\/manifests\/backfill-\d{8}T\d{6}Z-[0-9a-f]{8}\.jsonl$/);
    expect(input.manifest).toEqual({ bucket: stack.bucket, key: input.manifestKey });
    expect(result).toMatchObject({
      enqueued: 0,
      manifest: { bucket: stack.bucket, key: input.manifestKey, count: ELIGIBLE.length },
      execution: `arn:aws:states:us-east-1:123456789012:execution:archive-test-backfill:${start?.name}`,
      checkpointAdvanced: true,
    });
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.bucket, Key: input.manifestKey }),
    );
    const lines = ((await object.Body?.transformToString()) ?? '').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(ELIGIBLE.map((sessionId) => ({ sessionId })));
    const listed = await stack.clients.s3.send(
      new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: 'backfill/manifests/' }),
    );
    expect(listed.Contents?.map((o) => o.Key)).toEqual([input.manifestKey]);
  });
});

describe('backfill use case with the real adapters and a virtual clock', () => {
  it('paces List Calls to the budget: one request per interval, never more than the budget in any minute', async () => {
    const simulator = await ownSimulator(CALLS);
    const { tableName } = await freshTable();
    const clock = fakeClock(Date.now());
    const start = clock.now();
    const requestTimes: number[] = [];
    simulator.onListCalls(() => requestTimes.push(clock.now()));
    stack.applyEnv();
    const { deps, settings } = backfillFromEnv(
      {
        ...stack.env,
        CALLS_TABLE: tableName,
        COMETCHAT_BASE_URL: simulator.baseUrl,
        ENRICH_QUEUE_URL: QUEUE_URL,
        COMETCHAT_REQUESTS_PER_MINUTE: '30',
      },
      { dynamodb: documents, sqs: new SQSClient({}), clock },
    );

    const result = await backfill({}, deps, { ...settings, perPage: 10 });

    const pages = Math.ceil(CALLS.length / 10);
    // No call has a transcript: the late-transcript walk reads one (empty) page.
    const requests = pages + 1;
    expect(result).toMatchObject({ pages, transcriptPages: 1, complete: true, enqueued: ELIGIBLE.length });
    // Counted at the wire: what the simulator answered.
    expect(simulator.requests.filter((r) => r.kind === 'list-calls')).toHaveLength(requests);
    expect(requestTimes).toHaveLength(requests);
    // 30 a minute, both walks on one budget: the first at once, then one every 2 s.
    expect(clock.now() - start).toBe((requests - 1) * 2000);
    for (const t of requestTimes) {
      expect(requestTimes.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(30);
    }
  });

  it('enqueues a call archived as final again when List Calls shows a recording the archive lacks, and only then', async () => {
    const [lacking, whole] = generateCalls({ count: 2, newest: NEWEST - 60, label: 'reconcile' }).map(
      (call): SimulatedCall => ({
        raw: { ...call.raw, status: 'ended', hasRecording: true },
        recordings: [{ rid: 'r1', bytes: 1024 }],
      }),
    ) as [SimulatedCall, SimulatedCall];
    const simulator = await ownSimulator([lacking, whole]);
    const { tableName, store } = await freshTable();
    const entry = {
      rid: 'r1',
      sourceUrl: 'https://example.invalid/r1.mp4',
      bucket: stack.bucket,
      key: 'recordings/r1.mp4',
      bytes: 1024,
      sha256: '0'.repeat(64),
      copiedAt: new Date().toISOString(),
    };
    await store.save(normaliseCall(lacking.raw).call, { previous: undefined });
    await store.save({ ...normaliseCall(whole.raw).call, recordings: [entry] }, { previous: undefined });
    const { deps, settings } = backfillFromEnv(
      {
        ...stack.env,
        CALLS_TABLE: tableName,
        COMETCHAT_BASE_URL: simulator.baseUrl,
        ENRICH_QUEUE_URL: QUEUE_URL,
      },
      { dynamodb: documents, sqs: new SQSClient({}) },
    );

    const result = await backfill({}, deps, settings);

    expect(enqueuedIds()).toEqual([sessionIdOf(lacking)]);
    expect(result).toMatchObject({ listed: 2, skipped: 1, reconciled: 1, enqueued: 1 });
  });

  it('skips by stored status: a call archived as final is not enqueued, one archived as ongoing is', async () => {
    const { tableName } = await freshTable();
    const { deps, settings } = backfillFromEnv(
      { ...stack.env, CALLS_TABLE: tableName, ENRICH_QUEUE_URL: QUEUE_URL },
      { dynamodb: documents, sqs: new SQSClient({}) },
    );

    await backfill({}, deps, settings);

    const sent = new Set(enqueuedIds());
    expect(STORED_FINAL.every((c) => !sent.has(sessionIdOf(c)))).toBe(true);
    expect(STORED_ONGOING.every((c) => sent.has(sessionIdOf(c)))).toBe(true);
  });

  it('enqueues a transcript that appears six hours after the call ended, though the window has long left the call', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    const clock = fakeClock(t0 * 1000);
    // Both ended ten minutes before the first run; `call`'s transcript is produced six hours after
    // it ended, `whole`'s at once (and is archived).
    const [call, whole] = generateCalls({ count: 2, newest: t0 - 665, spacingSeconds: 7, label: 'late' }) as [
      SimulatedCall,
      SimulatedCall,
    ];
    const endedAt = call.raw.endedAt as number;
    call.transcripts = [
      { tid: 'six-hours-later', startTime: endedAt - 30, availableFrom: (endedAt + 6 * HOUR) * 1000 },
    ];
    whole.transcripts = [{ tid: 'at-once', startTime: endedAt - 30 }];
    const filtered: Record<string, string>[] = [];
    const simulator = await ownSimulator([call, whole], () => clock.now());
    simulator.onListCalls(({ query }) => filtered.push(query));
    const { tableName, store } = await freshTable();
    await store.save(normaliseCall(call.raw).call, { previous: undefined });
    await store.save(
      { ...normaliseCall(whole.raw).call, transcripts: [transcriptEntry('at-once')] },
      { previous: undefined },
    );
    const { deps, settings } = backfillFromEnv(
      {
        ...stack.env,
        CALLS_TABLE: tableName,
        COMETCHAT_BASE_URL: simulator.baseUrl,
        ENRICH_QUEUE_URL: QUEUE_URL,
      },
      { dynamodb: documents, sqs: new SQSClient({}), clock },
    );
    const run = async (hoursLater: number) => {
      clock.advance(t0 * 1000 + hoursLater * HOUR * 1000 - clock.now());
      sqs.resetHistory();
      filtered.length = 0;
      const result = await backfill({}, deps, settings);
      const lastWalk = (await store.getCheckpoint('late-transcripts'))?.highWaterMark;
      return { result, enqueued: enqueuedIds(), requests: [...filtered], lastWalk };
    };

    const atOnce = await run(0);
    const beforeIt = await run(5);
    const afterIt = await run(6 + 20 / 60);
    await store.save(
      { ...normaliseCall(call.raw).call, transcripts: [transcriptEntry('six-hours-later')] },
      { previous: await store.load(sessionIdOf(call)) },
    );
    const archived = await run(7 + 20 / 60);

    // The first two runs' windows hold the call; neither listing shows a transcript the archive lacks.
    expect(atOnce.result).toMatchObject({ listed: 2, skipped: 2, enqueued: 0, transcriptListed: 1 });
    expect(beforeIt.result).toMatchObject({ listed: 2, skipped: 2, enqueued: 0, transcriptListed: 1 });
    // Six hours on, the window (the last checkpoint less an hour) starts hours after the call.
    expect(unix(afterIt.result.from)).toBeGreaterThan(endedAt);
    expect(afterIt.enqueued).toEqual([sessionIdOf(call)]);
    expect(afterIt.result).toMatchObject({
      listed: 0,
      enqueued: 1,
      transcriptListed: 2,
      transcriptRechecked: 1,
      transcriptComplete: true,
    });
    // Counted at the wire: one List Calls page for the window, one with hasTranscription=true.
    expect(afterIt.requests.map((q) => q.hasTranscription)).toEqual([undefined, 'true']);
    expect(afterIt.result).toMatchObject({ pages: 1, transcriptPages: 1 });
    // Its own checkpoint: the next run watches calls that ended up to a day before this one.
    expect(afterIt.lastWalk).toBe(t0 + 6 * HOUR + 20 * 60);
    // Once the archive holds it, the listing matches and nothing is enqueued.
    expect(archived.enqueued).toEqual([]);
    expect(archived.result).toMatchObject({ transcriptListed: 2, transcriptRechecked: 0 });
  });
});

/** A transcript as the call item holds it once copied. */
function transcriptEntry(tid: string) {
  return {
    tid,
    sourceUrl: `https://transcripts.example.invalid/${tid}.json`,
    bucket: stack.bucket,
    key: `recordings/${tid}.json`,
    bytes: 64,
    sha256: '0'.repeat(64),
    copiedAt: new Date().toISOString(),
  };
}
