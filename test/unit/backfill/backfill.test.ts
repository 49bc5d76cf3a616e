import { describe, expect, it } from 'vitest';
import {
  type BackfillDependencies,
  type BackfillObservation,
  type BackfillResult,
  type BackfillSettings,
  backfill,
} from '../../../lib/backfill/backfill.ts';
import type { ManifestSink, WrittenManifest } from '../../../lib/backfill/manifest.ts';
import { createPacer } from '../../../lib/backfill/pacer.ts';
import type { CallStatus } from '../../../lib/calls/types.ts';
import { BackfillInputError, StorageError } from '../../../lib/errors.ts';
import type { EnrichmentMessage } from '../../../lib/queue/message.ts';
import { type FakeClock, fakeClock } from './fake-clock.ts';
import { type FakeListCalls, fakeListCalls, rawCall, rawCalls } from './fake-list-calls.ts';

const NOW = Date.UTC(2024, 4, 1, 12); // 2024-05-01T12:00:00Z
const NOW_S = NOW / 1000;
const HOUR = 3600;

const SETTINGS: BackfillSettings = {
  overlapSeconds: HOUR,
  lookbackSeconds: 24 * HOUR,
  holdSeconds: 24 * HOUR,
  perPage: 100,
  maxPasses: 3,
  maxPages: 1000,
  queueThreshold: 5000,
};

interface Harness {
  deps: BackfillDependencies;
  list: FakeListCalls;
  clock: FakeClock;
  /** The window's checkpoint (`list-calls`). */
  checkpoint: { highWaterMark: number; takenAt: string } | undefined;
  /** Every other checkpoint, by name (`late-transcripts`). */
  checkpoints: Map<string, { highWaterMark: number; takenAt: string }>;
  statuses: Map<string, CallStatus>;
  /** Files stored with a call in `statuses` (none when absent). */
  files: Map<string, { recordings: number; transcripts: number }>;
  enqueued: EnrichmentMessage[][];
  observations: BackfillObservation[];
  /** Makes the next enqueue throw. */
  failEnqueue: boolean;
  manifests: { lines: string[]; aborted: boolean; started: WrittenManifest[] };
}

function harness(calls: ReturnType<typeof rawCalls>, options: { manifests?: boolean } = {}): Harness {
  const clock = fakeClock(NOW);
  const list = fakeListCalls(calls);
  const h: Harness = {
    list,
    clock,
    checkpoint: undefined,
    checkpoints: new Map(),
    statuses: new Map(),
    files: new Map(),
    enqueued: [],
    observations: [],
    failEnqueue: false,
    manifests: { lines: [], aborted: false, started: [] },
    deps: undefined as unknown as BackfillDependencies,
  };
  const sink: ManifestSink = {
    open: (runId) => ({
      write: async (sessionId) => {
        h.manifests.lines.push(sessionId);
      },
      close: async () => ({
        bucket: 'archive',
        key: `backfill/manifests/${runId}.jsonl`,
        count: h.manifests.lines.length,
      }),
      abort: async () => {
        h.manifests.aborted = true;
      },
    }),
    start: async (manifest) => {
      h.manifests.started.push(manifest);
      return 'arn:aws:states:us-east-1:123456789012:execution:backfill:run';
    },
  };
  h.deps = {
    cometChat: { listCalls: (params) => list.listCalls(params) },
    store: {
      getCheckpoint: async (name) => (name === 'list-calls' ? h.checkpoint : h.checkpoints.get(name)),
      putCheckpoint: async (name, mark, now = new Date()) => {
        const held = name === 'list-calls' ? h.checkpoint : h.checkpoints.get(name);
        if (held && held.highWaterMark >= mark) return false;
        const checkpoint = { highWaterMark: mark, takenAt: now.toISOString() };
        if (name === 'list-calls') h.checkpoint = checkpoint;
        else h.checkpoints.set(name, checkpoint);
        return true;
      },
      getSummaries: async (ids) =>
        new Map(
          ids.flatMap((id) => {
            const status = h.statuses.get(id);
            const files = h.files.get(id) ?? { recordings: 0, transcripts: 0 };
            return status === undefined ? [] : [[id, { status, ...files }]];
          }),
        ),
    },
    enqueue: async (messages) => {
      if (h.failEnqueue) throw new StorageError('SQS is down');
      h.enqueued.push([...messages]);
    },
    pacer: createPacer({ ratePerMinute: 6000, clock }),
    now: clock.now,
    observe: (o) => h.observations.push(o),
    ...(options.manifests ? { manifests: sink } : {}),
  };
  return h;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const enqueuedIds = (h: Harness) => h.enqueued.flat().map((m) => m.sessionId);

describe('backfill', () => {
  it('on a first run, enqueues the last day’s calls not stored as final and moves the checkpoint to now', async () => {
    const calls = rawCalls(30, NOW_S - 60); // one a minute, the newest a minute ago
    const old = rawCall('v1.us.test.two-days-ago', NOW_S - 48 * HOUR);
    const h = harness([...calls, old]);
    h.statuses.set('v1.us.test.c0000', 'ended');
    h.statuses.set('v1.us.test.c0001', 'ongoing');

    const result = await backfill(undefined, h.deps, SETTINGS);

    expect(result).toEqual({
      from: iso(NOW_S - 24 * HOUR),
      to: iso(NOW_S),
      pages: 1,
      listed: 30,
      enqueued: 29,
      checkpoint: iso(NOW_S),
      checkpointAdvanced: true,
      skipped: 1,
      reconciled: 0,
      eligible: 29,
      transcriptFrom: iso(NOW_S - 24 * HOUR),
      transcriptPages: 1,
      transcriptListed: 0,
      transcriptRechecked: 0,
      transcriptComplete: true,
      dryRun: false,
      complete: true,
    });
    expect(enqueuedIds(h)).toEqual(calls.slice(1).map((c) => c.sessionId));
    expect(h.enqueued[0]?.[0]).toEqual({
      sessionId: 'v1.us.test.c0001',
      trigger: 'backfill',
      eventKey: 'backfill:v1.us.test.c0001:ended',
    });
  });

  it('starts the next run an overlap before the checkpoint', async () => {
    const h = harness(rawCalls(5, NOW_S - 60));
    h.checkpoint = { highWaterMark: NOW_S - 2 * HOUR, takenAt: iso(NOW_S - 2 * HOUR) };

    const result = await backfill({}, h.deps, SETTINGS);

    expect(result.from).toBe(iso(NOW_S - 3 * HOUR));
    expect(result.checkpoint).toBe(iso(NOW_S));
  });

  it('enqueues a call in progress but keeps the checkpoint at it, so the next run lists it again', async () => {
    const calls = [
      rawCall('v1.us.test.done', NOW_S - 60),
      rawCall('v1.us.test.live', NOW_S - 30 * 60, 'ongoing'),
      rawCall('v1.us.test.ringing', NOW_S - 10 * 60, 'initiated'),
    ];
    const h = harness(calls);

    const result = await backfill({}, h.deps, SETTINGS);

    expect(enqueuedIds(h)).toEqual(['v1.us.test.done', 'v1.us.test.live', 'v1.us.test.ringing']);
    expect(h.enqueued[0]?.[1]?.eventKey).toBe('backfill:v1.us.test.live:ongoing');
    expect(result.checkpoint).toBe(iso(NOW_S - 30 * 60));
  });

  it('lets a call in progress hold the checkpoint only for the hold time', async () => {
    const h = harness([rawCall('v1.us.test.stuck', NOW_S - 20 * HOUR, 'initiated')]);

    const result = await backfill({}, h.deps, { ...SETTINGS, holdSeconds: 6 * HOUR });

    expect(enqueuedIds(h)).toEqual(['v1.us.test.stuck']);
    expect(result.checkpoint).toBe(iso(NOW_S));
  });

  it('does not hold the checkpoint for a call listed in progress but stored as final', async () => {
    const h = harness([rawCall('v1.us.test.live', NOW_S - 30 * 60, 'ongoing')]);
    h.statuses.set('v1.us.test.live', 'ended');

    const result = await backfill({}, h.deps, SETTINGS);

    expect(result).toMatchObject({ enqueued: 0, skipped: 1, checkpoint: iso(NOW_S) });
    expect(h.enqueued).toEqual([]);
  });

  it('leaves the checkpoint where it was when enqueueing fails', async () => {
    const h = harness(rawCalls(5, NOW_S - 60));
    h.checkpoint = { highWaterMark: NOW_S - HOUR, takenAt: iso(NOW_S - HOUR) };
    h.failEnqueue = true;

    await expect(backfill({}, h.deps, SETTINGS)).rejects.toBeInstanceOf(StorageError);
    expect(h.checkpoint.highWaterMark).toBe(NOW_S - HOUR);
  });

  it('on a dry run, lists what it would enqueue and changes nothing', async () => {
    const h = harness(rawCalls(5, NOW_S - 60));
    h.statuses.set('v1.us.test.c0004', 'busy');

    const result = await backfill({ dryRun: true }, h.deps, SETTINGS);

    expect(result).toMatchObject({ dryRun: true, enqueued: 0, eligible: 4, skipped: 1, checkpoint: null });
    expect(result.sessionIds).toEqual([
      'v1.us.test.c0000',
      'v1.us.test.c0001',
      'v1.us.test.c0002',
      'v1.us.test.c0003',
    ]);
    expect(h.enqueued).toEqual([]);
    expect(h.checkpoint).toBeUndefined();
  });

  it('does not move the checkpoint over a gap between it and a given from', async () => {
    const h = harness(rawCalls(5, NOW_S - 60));
    h.checkpoint = { highWaterMark: NOW_S - 10 * HOUR, takenAt: iso(NOW_S - 10 * HOUR) };

    const gap = await backfill({ from: NOW_S - 2 * HOUR }, h.deps, SETTINGS);
    const joined = await backfill({ from: NOW_S - 11 * HOUR, to: NOW_S - 5 * HOUR }, h.deps, SETTINGS);

    expect(gap).toMatchObject({ checkpointAdvanced: false, checkpoint: iso(NOW_S - 10 * HOUR), enqueued: 5 });
    expect(joined).toMatchObject({ checkpointAdvanced: true, checkpoint: iso(NOW_S - 5 * HOUR) });
  });

  it('never moves the checkpoint back', async () => {
    const h = harness(rawCalls(5, NOW_S - 60));
    h.checkpoint = { highWaterMark: NOW_S - HOUR, takenAt: iso(NOW_S - HOUR) };

    const result = await backfill({ from: NOW_S - 5 * HOUR, to: NOW_S - 3 * HOUR }, h.deps, SETTINGS);

    expect(result).toMatchObject({ checkpointAdvanced: false, checkpoint: iso(NOW_S - HOUR) });
  });

  it('enqueues what an incomplete walk found but leaves the checkpoint alone', async () => {
    const h = harness(rawCalls(500, NOW_S - 60, 'c', 'ended', 1));

    const result = await backfill({}, h.deps, { ...SETTINGS, maxPages: 2 });

    expect(result).toMatchObject({
      complete: false,
      incompleteReason: 'max-pages',
      enqueued: 200,
      checkpoint: null,
    });
    expect(h.observations).toContainEqual({ kind: 'incomplete', reason: 'max-pages' });
  });

  it('streams a backlog over the threshold into a manifest and starts the state machine', async () => {
    const calls = rawCalls(250, NOW_S - 60, 'c', 'ended', 1);
    const h = harness(calls, { manifests: true });
    h.statuses.set('v1.us.test.c0007', 'ended');

    const result = await backfill({}, h.deps, { ...SETTINGS, queueThreshold: 100 }, { runId: 'run-1' });

    const expected = calls.map((c) => c.sessionId).filter((id) => id !== 'v1.us.test.c0007');
    expect(h.manifests.lines).toEqual(expected);
    expect(h.manifests.started).toEqual([
      { bucket: 'archive', key: 'backfill/manifests/run-1.jsonl', count: 249 },
    ]);
    expect(h.enqueued).toEqual([]);
    expect(result).toMatchObject({
      enqueued: 0,
      eligible: 249,
      manifest: { key: 'backfill/manifests/run-1.jsonl', count: 249 },
      execution: 'arn:aws:states:us-east-1:123456789012:execution:backfill:run',
      checkpointAdvanced: true,
    });
  });

  it('queues a backlog at the threshold, and everything when no state machine is configured', async () => {
    const calls = rawCalls(150, NOW_S - 60, 'c', 'ended', 1);
    const atThreshold = harness(calls, { manifests: true });
    const noMachine = harness(calls);

    await backfill({}, atThreshold.deps, { ...SETTINGS, queueThreshold: 150 });
    await backfill({}, noMachine.deps, { ...SETTINGS, queueThreshold: 10 });

    expect(enqueuedIds(atThreshold)).toHaveLength(150);
    expect(atThreshold.manifests.started).toEqual([]);
    expect(enqueuedIds(noMachine)).toHaveLength(150);
  });

  it('aborts the manifest upload when the walk fails', async () => {
    const calls = rawCalls(250, NOW_S - 60, 'c', 'ended', 1);
    const h = harness(calls, { manifests: true });
    const listCalls = h.list.listCalls.bind(h.list);
    let n = 0;
    h.deps.cometChat = {
      listCalls: async (params) => {
        n += 1;
        if (n === 3) throw new StorageError('boom');
        return listCalls(params);
      },
    };

    await expect(backfill({}, h.deps, { ...SETTINGS, queueThreshold: 10 })).rejects.toThrow('boom');
    expect(h.manifests.aborted).toBe(true);
    expect(h.manifests.started).toEqual([]);
  });

  it('enqueues a call stored as final again when List Calls shows files it lacks', async () => {
    const withFiles = (id: string, files: Record<string, unknown>) => ({
      ...rawCall(`v1.us.test.${id}`, NOW_S - 600),
      ...files,
    });
    const recording = (rid: string) => ({ rid, recording_url: `https://r.cometchat.io/${rid}.mp4?sig=x` });
    const h = harness([
      withFiles('more-recordings', { hasRecording: true, recordings: [recording('a'), recording('b')] }),
      withFiles('flag-only', { hasRecording: true }),
      withFiles('new-transcript', { hasTranscription: true, transcriptions: [{ tid: 't1' }] }),
      withFiles('transcript-flag', { hasTranscription: 'true' }),
      withFiles('matches', { hasRecording: true, recordings: [recording('a'), recording('a')] }),
      withFiles('fewer-listed', { hasRecording: true, recordings: [recording('a')] }),
      withFiles('no-files', { hasRecording: false, hasTranscription: false }),
      withFiles('ongoing', { hasRecording: true }),
    ]);
    for (const [id, recordings, transcripts] of [
      ['more-recordings', 1, 0],
      ['flag-only', 0, 0],
      ['new-transcript', 1, 0],
      ['transcript-flag', 0, 0],
      ['matches', 1, 0],
      ['fewer-listed', 3, 0],
      ['no-files', 0, 0],
    ] as const) {
      h.statuses.set(`v1.us.test.${id}`, 'ended');
      h.files.set(`v1.us.test.${id}`, { recordings, transcripts });
    }
    h.statuses.set('v1.us.test.ongoing', 'ongoing');

    const result = await backfill({}, h.deps, SETTINGS);

    expect(enqueuedIds(h)).toEqual(
      ['more-recordings', 'flag-only', 'new-transcript', 'transcript-flag', 'ongoing'].map(
        (id) => `v1.us.test.${id}`,
      ),
    );
    expect(result).toMatchObject({ listed: 8, skipped: 3, reconciled: 4, eligible: 5, enqueued: 5 });
  });

  it('does not enqueue a reconciled call again once the archive holds what is listed', async () => {
    const listed = {
      ...rawCall('v1.us.test.caught-up', NOW_S - 600),
      hasRecording: true,
      recordings: [{ rid: 'a' }, { rid: 'b' }],
      hasTranscription: true,
      transcriptions: [{ tid: 't' }],
    };
    const h = harness([listed]);
    h.statuses.set('v1.us.test.caught-up', 'ended');
    h.files.set('v1.us.test.caught-up', { recordings: 1, transcripts: 1 });

    const first = await backfill({}, h.deps, SETTINGS);
    h.files.set('v1.us.test.caught-up', { recordings: 2, transcripts: 1 });
    const second = await backfill({}, h.deps, SETTINGS);

    expect(first).toMatchObject({ reconciled: 1, enqueued: 1 });
    expect(second).toMatchObject({ reconciled: 0, skipped: 1, enqueued: 0 });
  });

  it('treats a Scheduled Event as {} and refuses garbage before asking CometChat anything', async () => {
    const h = harness(rawCalls(5, NOW_S - 60));

    const scheduled = await backfill(
      { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
      h.deps,
      SETTINGS,
    );
    const requests = h.list.requests.length;

    expect(scheduled.enqueued).toBe(5);
    await expect(backfill({ from: 'soon' }, h.deps, SETTINGS)).rejects.toBeInstanceOf(BackfillInputError);
    await expect(backfill({ to: 'x' }, h.deps, SETTINGS)).rejects.toBeInstanceOf(BackfillInputError);
    expect(h.list.requests).toHaveLength(requests);
  });

  it('warns when the first page says the window holds more pages than the time left allows', async () => {
    const h = harness(rawCalls(1000, NOW_S - 60, 'c', 'ended', 1));
    // One request every 10 s; of the 30 s left, 10 s are kept back for enqueueing.
    h.deps.pacer = createPacer({ ratePerMinute: 6, clock: h.clock });

    const result = await backfill({}, h.deps, SETTINGS, { deadline: NOW + 30_000 });

    expect(h.observations).toContainEqual({ kind: 'too-large', estimatedPages: 10, pagesThatFit: 3 });
    expect(result).toMatchObject({
      complete: false,
      incompleteReason: 'deadline',
      pages: 3,
      checkpoint: null,
    });
    expect(result.enqueued).toBe(300);
    // The late-transcript walk has no time left either: it asks for nothing.
    expect(result).toMatchObject({ transcriptPages: 0, transcriptComplete: false });
    expect(h.list.requests.filter((r) => r.filters !== undefined)).toEqual([]);
  });
});

describe('late transcripts', () => {
  /** A call with `listed` transcripts in its listing (`'flag'`: only `hasTranscription`), ended `endedAgo` s before NOW. */
  const transcribed = (id: string, endedAgo: number, listed: number | 'flag', lastedSeconds = 600) => ({
    ...rawCall(`v1.us.test.${id}`, NOW_S - endedAgo - lastedSeconds),
    endedAt: NOW_S - endedAgo,
    hasTranscription: true,
    ...(listed !== 'flag' && {
      transcriptions: Array.from({ length: listed }, (_, i) => ({ tid: `${id}-t${i}` })),
    }),
  });
  /** Stores calls as ended with this many transcripts each. */
  const stored = (h: Harness, transcripts: Record<string, number>) => {
    for (const [id, n] of Object.entries(transcripts)) {
      h.statuses.set(`v1.us.test.${id}`, 'ended');
      h.files.set(`v1.us.test.${id}`, { recordings: 0, transcripts: n });
    }
  };
  const ids = (...names: string[]) => names.map((n) => `v1.us.test.${n}`);
  /** The last run was ten minutes ago: the window (less the hour's overlap) covers only the last 70 minutes. */
  const recentCheckpoint = (h: Harness) => {
    h.checkpoint = { highWaterMark: NOW_S - 600, takenAt: iso(NOW_S - 600) };
  };

  it('walks List Calls with hasTranscription=true and enqueues the calls of the last day the archive may lack transcripts of', async () => {
    const h = harness([
      transcribed('new', 6 * HOUR, 1),
      transcribed('more', 6 * HOUR, 3),
      transcribed('caught-up', 6 * HOUR, 3),
      transcribed('capped', 23 * HOUR, 5),
      transcribed('flag-only', 2 * HOUR, 'flag'),
      transcribed('not-archived', 3 * HOUR, 2),
      transcribed('long-call', 20 * HOUR, 1, 10 * HOUR),
      transcribed('too-old', 25 * HOUR, 5),
      transcribed('late-beyond-a-day', 30 * HOUR, 2),
      rawCall('v1.us.test.no-transcripts', NOW_S - 3 * HOUR),
    ]);
    recentCheckpoint(h);
    stored(h, {
      new: 0,
      more: 2,
      'caught-up': 3,
      capped: 7,
      'flag-only': 1,
      'long-call': 0,
      'too-old': 5,
      'late-beyond-a-day': 0,
      'no-transcripts': 0,
    });

    const result = await backfill({}, h.deps, SETTINGS);

    expect(h.list.requests.map((r) => r.filters)).toEqual([undefined, { hasTranscription: 'true' }]);
    expect(enqueuedIds(h)).toEqual(ids('new', 'more', 'capped', 'flag-only', 'not-archived', 'long-call'));
    expect(result).toMatchObject({
      listed: 0,
      pages: 1,
      transcriptPages: 1,
      transcriptListed: 7,
      transcriptRechecked: 6,
      transcriptComplete: true,
      eligible: 6,
      enqueued: 6,
      checkpointAdvanced: true,
    });
    expect(h.observations).toContainEqual(
      expect.objectContaining({ kind: 'page', pass: 1, page: 1, walk: 'transcripts', total: 9 }),
    );
  });

  it('enqueues a call whose listing cannot be compared only while it ended less than a day before the last walk, and one whose short listing is stored not again', async () => {
    const h = harness([transcribed('capped', 20 * HOUR, 5), transcribed('short', 2 * HOUR, 2)]);
    recentCheckpoint(h);
    stored(h, { capped: 5, short: 0 });

    const runs: BackfillResult[] = [];
    for (const hoursLater of [0, 3, 5, 7]) {
      h.clock.advance(NOW + hoursLater * HOUR * 1000 - h.clock.now());
      runs.push(await backfill({}, h.deps, SETTINGS));
      stored(h, { short: 2 });
    }

    // Ended 20 h before the first run: watched by the runs at +3 h and +5 h (whose last walks
    // were within a day of its end), not by the one at +7 h.
    expect(h.enqueued.map((batch) => batch.map((m) => m.sessionId))).toEqual([
      ids('capped', 'short'),
      ids('capped'),
      ids('capped'),
    ]);
    expect(runs.map((r) => [r.transcriptFrom, r.transcriptListed, r.transcriptRechecked])).toEqual([
      [iso(NOW_S - 24 * HOUR), 2, 2],
      [iso(NOW_S - 24 * HOUR), 2, 1],
      [iso(NOW_S - 21 * HOUR), 2, 1],
      [iso(NOW_S - 19 * HOUR), 1, 0],
    ]);
  });

  it('picks up a transcript that appears just within a day of its call though the next run comes after that day', async () => {
    const h = harness([transcribed('edge', 23.5 * HOUR, 1)]);
    recentCheckpoint(h);
    stored(h, { edge: 1 });

    const before = await backfill({}, h.deps, SETTINGS);
    // Ten minutes later, 23 h 40 min after the call ended, a second transcript appears.
    h.list.calls = [transcribed('edge', 23.5 * HOUR, 2)];
    h.clock.advance(HOUR * 1000);
    const after = await backfill({}, h.deps, SETTINGS);

    expect(before).toMatchObject({ transcriptListed: 1, transcriptRechecked: 0 });
    expect(after).toMatchObject({ transcriptFrom: iso(NOW_S - 24 * HOUR), transcriptRechecked: 1 });
    expect(enqueuedIds(h)).toEqual(ids('edge'));
  });

  it('watches from a day before the last complete walk, never more than two days back, and a dry run does not move it', async () => {
    const h = harness([]);
    recentCheckpoint(h);
    h.checkpoints.set('late-transcripts', {
      highWaterMark: NOW_S - 30 * HOUR,
      takenAt: iso(NOW_S - 30 * HOUR),
    });

    const dry = await backfill({ dryRun: true }, h.deps, SETTINGS);
    const stuck = h.checkpoints.get('late-transcripts')?.highWaterMark;
    const real = await backfill({}, h.deps, SETTINGS);

    expect(dry.transcriptFrom).toBe(iso(NOW_S - 48 * HOUR));
    expect(stuck).toBe(NOW_S - 30 * HOUR);
    expect(real.transcriptFrom).toBe(iso(NOW_S - 48 * HOUR));
    expect(h.checkpoints.get('late-transcripts')?.highWaterMark).toBe(NOW_S);
  });

  it('enqueues a call the window also lists once, and one the window skips as whole when its listing is capped', async () => {
    const h = harness([
      transcribed('in-window-new', 10 * 60, 1),
      transcribed('in-window-capped', 20 * 60, 5),
    ]);
    recentCheckpoint(h);
    stored(h, { 'in-window-new': 0, 'in-window-capped': 6 });

    const result = await backfill({}, h.deps, SETTINGS);

    expect(enqueuedIds(h)).toEqual(ids('in-window-new', 'in-window-capped'));
    expect(result).toMatchObject({
      listed: 2,
      skipped: 1,
      reconciled: 1,
      transcriptListed: 2,
      transcriptRechecked: 1,
      eligible: 2,
      enqueued: 2,
    });
  });

  it('on a dry run, counts and lists the calls it would look at again, and enqueues nothing', async () => {
    const h = harness([transcribed('new', 6 * HOUR, 1)]);
    recentCheckpoint(h);
    stored(h, { new: 0 });

    const result = await backfill({ dryRun: true }, h.deps, SETTINGS);

    expect(result).toMatchObject({ dryRun: true, enqueued: 0, eligible: 1, transcriptRechecked: 1 });
    expect(result.sessionIds).toEqual(ids('new'));
    expect(h.enqueued).toEqual([]);
  });

  it('spends only the pages the window left of the run’s budget, and never holds the checkpoint', async () => {
    const h = harness([transcribed('new', 6 * HOUR, 1), ...rawCalls(3, NOW_S - 60)]);
    recentCheckpoint(h);

    const result = await backfill({}, h.deps, { ...SETTINGS, maxPages: 1 });

    expect(h.list.requests).toHaveLength(1);
    expect(result).toMatchObject({
      complete: true,
      transcriptPages: 0,
      transcriptComplete: false,
      checkpointAdvanced: true,
      enqueued: 3,
    });
    expect(h.observations).toContainEqual({ kind: 'incomplete', reason: 'max-pages', walk: 'transcripts' });
    expect(h.checkpoints.get('late-transcripts')).toBeUndefined();
  });
});
