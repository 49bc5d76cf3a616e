import { describe, expect, it } from 'vitest';
import {
  type ListedCall,
  listedCallOf,
  type WalkObservation,
  type WalkSettings,
  walkCalls,
} from '../../../lib/backfill/list-walk.ts';
import { createPacer } from '../../../lib/backfill/pacer.ts';
import {
  CometChatRateLimitError,
  CometChatUnavailableError,
  InvalidCallDataError,
} from '../../../lib/errors.ts';
import { fakeClock } from './fake-clock.ts';
import { type FakeListCalls, fakeListCalls, rawCall, rawCalls } from './fake-list-calls.ts';

const NEWEST = 1_714_550_000;
const EVERYTHING = { from: 0, to: NEWEST + 3600 };
const SETTINGS: WalkSettings = { perPage: 100, maxPasses: 3, maxPages: 1000 };

interface Run {
  handed: string[];
  observations: WalkObservation[];
  result: Awaited<ReturnType<typeof walkCalls>>;
}

async function walk(
  fake: FakeListCalls,
  settings: Partial<WalkSettings> = {},
  window = EVERYTHING,
  clock = fakeClock(),
  limits: Parameters<typeof walkCalls>[4] = {},
): Promise<Run> {
  const handed: string[] = [];
  const observations: WalkObservation[] = [];
  const result = await walkCalls(
    window,
    { ...SETTINGS, ...settings },
    {
      listCalls: (params) => fake.listCalls(params),
      pacer: createPacer({ ratePerMinute: 600, clock }),
      now: clock.now,
      observe: (o) => observations.push(o),
    },
    (calls: ListedCall[]) => {
      handed.push(...calls.map((c) => c.sessionId));
    },
    limits,
  );
  return { handed, observations, result };
}

const idsOf = (calls: { sessionId?: unknown }[]) => calls.map((c) => String(c.sessionId));

describe('walkCalls', () => {
  it('reads every page once and hands over every call once, stopping at total_pages', async () => {
    const fake = fakeListCalls(rawCalls(250, NEWEST));

    const { handed, result } = await walk(fake);

    expect(fake.requests.map((r) => r.page)).toEqual([1, 2, 3]);
    expect(fake.requests.every((r) => r.perPage === 100)).toBe(true);
    expect(handed).toEqual(idsOf(fake.calls));
    expect(result).toEqual({ pages: 3, passes: 1, complete: true, listed: 250 });
  });

  it('hands over only the calls of the window, plus calls with no time to place them by', async () => {
    const calls = rawCalls(10, NEWEST);
    const undated = { sessionId: 'v1.us.test.undated', status: 'ended' };
    const fake = fakeListCalls([...calls, undated]);
    const window = { from: NEWEST - 5 * 60, to: NEWEST - 2 * 60 };

    const { handed, result } = await walk(fake, {}, window);

    expect(handed).toEqual([...idsOf(calls.slice(2, 6)), 'v1.us.test.undated']);
    expect(result.listed).toBe(5);
  });

  it('loses nothing and repeats nothing when new calls push the pages on mid-walk', async () => {
    const original = rawCalls(250, NEWEST);
    const fake = fakeListCalls([...original]);
    // After page 2 is served, 60 new calls arrive at the front: page 2's tail moves to page 3.
    fake.before(3, (calls) => calls.unshift(...rawCalls(60, NEWEST + 3600, 'new')));

    const { handed, result } = await walk(fake, {}, { from: 0, to: NEWEST });

    expect(handed).toHaveLength(new Set(handed).size);
    expect(new Set(handed)).toEqual(new Set(idsOf(original)));
    expect(fake.requests.map((r) => r.page)).toEqual([1, 2, 3, 4]);
    expect(result).toMatchObject({ passes: 1, complete: true, listed: 250 });
  });

  it('walks again when calls disappear mid-walk, and finds those that slid onto pages already read', async () => {
    const fake = fakeListCalls(rawCalls(250, NEWEST));
    // Before page 3, 30 calls of page 1 go: 30 calls slide from page 3 onto page 2, already read.
    fake.before(3, (calls) => calls.splice(10, 30));

    const { handed, observations, result } = await walk(fake);

    expect(handed).toHaveLength(new Set(handed).size);
    expect(handed).toEqual(expect.arrayContaining(idsOf(fake.calls)));
    expect(handed).toHaveLength(250);
    expect(result).toMatchObject({ passes: 2, complete: true });
    expect(observations).toContainEqual(expect.objectContaining({ kind: 'repass', pass: 2 }));
  });

  it('walks again when the order changes under it without the total changing', async () => {
    const fake = fakeListCalls(rawCalls(250, NEWEST));
    // Before page 2, the last call moves to the front: it is never on a page read in this pass.
    fake.before(2, (calls) => calls.unshift(...calls.splice(-1, 1)));

    const { handed, result } = await walk(fake);

    expect(new Set(handed)).toEqual(new Set(idsOf(fake.calls)));
    expect(handed).toHaveLength(250);
    expect(result).toMatchObject({ passes: 2, complete: true, pages: 6 });
  });

  it('gives up as incomplete when the listing never holds still', async () => {
    const fake = fakeListCalls(rawCalls(250, NEWEST));
    for (let n = 2; n <= 20; n++) fake.before(n, (calls) => calls.splice(0, 1));

    const { result } = await walk(fake, { maxPasses: 2 });

    expect(result).toMatchObject({ passes: 2, complete: false, incompleteReason: 'unstable' });
  });

  it('without pagination metadata, stops at a short page', async () => {
    const fake = fakeListCalls(rawCalls(250, NEWEST));
    fake.withoutPagination = true;

    const { handed, result } = await walk(fake);

    expect(fake.requests).toHaveLength(3);
    expect(handed).toHaveLength(250);
    expect(result.complete).toBe(true);
  });

  it('without pagination metadata, stops at an empty page', async () => {
    const fake = fakeListCalls(rawCalls(200, NEWEST));
    fake.withoutPagination = true;

    const { handed } = await walk(fake);

    expect(fake.requests).toHaveLength(3);
    expect(handed).toHaveLength(200);
  });

  it('stops at an empty page even when total_pages promised more', async () => {
    const fake = fakeListCalls(rawCalls(250, NEWEST));
    fake.before(3, (calls) => calls.splice(200));
    fake.before(4, (calls) => calls.push(...rawCalls(50, NEWEST - 200 * 60, 'back')));

    const { result } = await walk(fake, { maxPasses: 1 });

    expect(fake.requests.map((r) => r.page)).toEqual([1, 2, 3]);
    expect(result).toMatchObject({ complete: false, incompleteReason: 'unstable' });
  });

  it('refuses to go on when CometChat answers another page than the one asked for', async () => {
    const fake = fakeListCalls(rawCalls(250, NEWEST));
    fake.pinnedPage = 1;

    await expect(walk(fake)).rejects.toBeInstanceOf(InvalidCallDataError);
  });

  it('waits as long as CometChat asks after a 429 the client gave up on, then reads the page', async () => {
    const fake = fakeListCalls(rawCalls(150, NEWEST));
    const clock = fakeClock();
    const start = clock.now();
    let refusals = 1;
    const listCalls: FakeListCalls['listCalls'] = async (params) => {
      if (params?.page === 2 && refusals-- > 0) {
        throw new CometChatRateLimitError('List Calls page 2 was rate limited', { retryAfterSeconds: 30 });
      }
      return fake.listCalls(params);
    };

    const { handed, observations } = await walk({ ...fake, listCalls }, {}, EVERYTHING, clock);

    expect(handed).toHaveLength(150);
    expect(clock.now() - start).toBeGreaterThanOrEqual(30_000);
    expect(observations).toContainEqual({ kind: 'rate-limited', page: 2, waitMs: 30_000 });
  });

  it('passes the rate-limit error on after the last attempt, and any other error at once', async () => {
    const limited = fakeListCalls(rawCalls(10, NEWEST));
    limited.listCalls = async () => {
      throw new CometChatRateLimitError('rate limited');
    };
    const down = fakeListCalls(rawCalls(10, NEWEST));
    let calls = 0;
    down.listCalls = async () => {
      calls += 1;
      throw new CometChatUnavailableError('down');
    };

    await expect(walk(limited, { pageAttempts: 2 })).rejects.toBeInstanceOf(CometChatRateLimitError);
    await expect(walk(down)).rejects.toBeInstanceOf(CometChatUnavailableError);
    expect(calls).toBe(1);
  });

  it('stops, incomplete, when the next paced request would come after stopBy', async () => {
    const fake = fakeListCalls(rawCalls(5000, NEWEST));
    const clock = fakeClock();

    // 600/min: the first at once, then one every 100 ms up to and including the 1 s mark.
    const { result } = await walk(fake, {}, EVERYTHING, clock, { stopBy: clock.now() + 1000 });

    expect(result).toMatchObject({ complete: false, incompleteReason: 'deadline', pages: 11 });
  });

  it('stops, incomplete, at the page limit', async () => {
    const fake = fakeListCalls(rawCalls(1000, NEWEST));

    const { result } = await walk(fake, { maxPages: 4 });

    expect(result).toMatchObject({ complete: false, incompleteReason: 'max-pages', pages: 4 });
  });

  it('skips an entry without a usable session id and says so', async () => {
    const fake = fakeListCalls([rawCall('v1.us.test.a', NEWEST), { status: 'ended' }, rawCall('', NEWEST)]);

    const { handed, observations, result } = await walk(fake);

    expect(handed).toEqual(['v1.us.test.a']);
    expect(observations.filter((o) => o.kind === 'unusable-call')).toHaveLength(2);
    expect(result).toMatchObject({ passes: 1, complete: true });
  });

  it('stops when the handler throws', async () => {
    const fake = fakeListCalls(rawCalls(250, NEWEST));
    const clock = fakeClock();

    const run = walkCalls(
      EVERYTHING,
      SETTINGS,
      { listCalls: (p) => fake.listCalls(p), pacer: createPacer({ ratePerMinute: 60, clock }) },
      () => {
        throw new Error('queue down');
      },
    );

    await expect(run).rejects.toThrow('queue down');
    expect(fake.requests).toHaveLength(1);
  });

  it('sends its filters with every page, and by end places a call by endedAt (else its time) and never one without', async () => {
    const window = { from: NEWEST - 3600, to: NEWEST };
    const fake = fakeListCalls([
      ...rawCalls(150, NEWEST, 'f').map((c) => ({ ...c, hasTranscription: true })),
      { ...rawCall('v1.us.test.began-before', NEWEST - 7200), endedAt: NEWEST - 60, hasTranscription: true },
      {
        ...rawCall('v1.us.test.ended-before', NEWEST - 7200),
        endedAt: NEWEST - 3601,
        hasTranscription: true,
      },
      { sessionId: 'v1.us.test.no-time', status: 'ended', hasTranscription: true },
      rawCall('v1.us.test.no-transcripts', NEWEST - 10),
    ]);

    const { handed, result } = await walk(
      fake,
      { filters: { hasTranscription: 'true' }, placeBy: 'end' },
      window,
    );

    expect(fake.requests).toEqual([
      { page: 1, perPage: 100, filters: { hasTranscription: 'true' } },
      { page: 2, perPage: 100, filters: { hasTranscription: 'true' } },
    ]);
    // 61 of the 150, one a minute back from the newest, are inside the hour; began-before too.
    expect(handed).toHaveLength(61 + 1);
    expect(handed).toContain('v1.us.test.began-before');
    expect(handed).not.toContain('v1.us.test.ended-before');
    expect(handed).not.toContain('v1.us.test.no-time');
    expect(result).toMatchObject({ complete: true, pages: 2 });
  });
});

describe('listedCallOf', () => {
  it('normalises the status and reads the time from initiatedAt, startedAt or endedAt', () => {
    expect(listedCallOf({ sessionId: 'v1.a', status: 'Canceled', initiatedAt: '1714550000' })).toEqual({
      sessionId: 'v1.a',
      status: 'cancelled',
      listedStatus: 'cancelled',
      time: 1_714_550_000,
      files: { hasRecording: false, hasTranscription: false },
    });
    expect(listedCallOf({ sessionId: 'v1.b', status: 'ringing', startedAt: 1_714_550_000_123 })).toEqual({
      sessionId: 'v1.b',
      status: undefined,
      listedStatus: 'ringing',
      time: 1_714_550_000,
      files: { hasRecording: false, hasTranscription: false },
    });
    expect(listedCallOf({ sessionId: 'v1.c', status: 'a b', endedAt: 7 })).toMatchObject({
      listedStatus: 'unknown',
      time: 7,
    });
  });

  it('counts the distinct files listed, by id or else by URL path, and reads the flags', () => {
    const call = listedCallOf({
      sessionId: 'v1.d',
      hasRecording: 'true',
      recordings: [
        { rid: 'a', recording_url: 'https://r/x.mp4?s=1' },
        { rid: 'a', recording_url: 'https://r/x.mp4?s=2' },
        { recordingUrl: 'https://r/y.mp4?s=1' },
        { recordingUrl: 'https://r/y.mp4?s=2' },
        'junk',
      ],
      hasTranscription: true,
      transcriptions: [{ tid: 't1' }, { tid: 't2' }],
    });

    expect(call).toMatchObject({
      files: { hasRecording: true, recordings: 3, hasTranscription: true, transcripts: 2 },
    });
  });

  it('gives a reason instead of a call when the session id is unusable', () => {
    expect(listedCallOf({ sessionId: 42 })).toHaveProperty('reason');
    expect(listedCallOf({ sessionId: 'a\u0000b' })).toHaveProperty('reason');
  });
});
