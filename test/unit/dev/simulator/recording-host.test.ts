import { createServer, type IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  type CometChatSimulator,
  type CometChatSimulatorOptions,
  recordingStream,
} from '../../../../dev/simulator/index.ts';
import { type Pacer, parseRange, serveFile } from '../../../../dev/simulator/recording-host.ts';
import { closeAfterTest, start as startSimulator } from './started.ts';

type Json = Record<string, unknown>;

const SIZE = 300_007;

/** A simulator with one call: r1 (SIZE bytes) and r2 (1,000 bytes). */
function start(options: CometChatSimulatorOptions = {}): Promise<CometChatSimulator> {
  return startSimulator({
    calls: [
      {
        raw: { sessionId: 's1', status: 'ended', initiatedAt: 1_700_000_000 },
        recordings: [
          { rid: 'r1', bytes: SIZE },
          { rid: 'r2', bytes: 1_000 },
        ],
      },
    ],
    ...options,
  });
}

/** Fresh URLs from Get Call, by rid. */
async function urls(sim: CometChatSimulator): Promise<Record<string, string>> {
  const response = await fetch(`${sim.baseUrl}/calls/s1`, { headers: { apikey: sim.apiKey } });
  const { data } = (await response.json()) as { data: { recordings: Json[] } };
  return Object.fromEntries(data.recordings.map((r) => [String(r.rid), String(r.recording_url)]));
}

interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** True when the body ended normally. */
  complete: boolean;
}

/** node:http rather than fetch, so a cut body is returned as far as it came rather than thrown. */
function get(
  url: string,
  headers: Record<string, string> = {},
  method: 'GET' | 'HEAD' = 'GET',
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => {});
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          complete: res.complete,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const whole = (rid: string, bytes: number, version?: number) =>
  bytesOf(recordingStream(rid, bytes, version === undefined ? {} : { version }));

describe('recordingStream slices', () => {
  it('starts anywhere, block-aligned or not, with the bytes the whole stream has there', async () => {
    const all = await whole('r', 100_000);

    for (const start of [0, 1, 15, 16, 17, 65_535, 65_536, 99_999, 100_000]) {
      expect((await bytesOf(recordingStream('r', 100_000, { start }))).equals(all.subarray(start))).toBe(
        true,
      );
    }
  });

  it('gives each version other content, version 0 being the original', async () => {
    const original = await whole('r', 5_000);

    expect((await whole('r', 5_000, 0)).equals(original)).toBe(true);
    expect((await whole('r', 5_000, 1)).equals(original)).toBe(false);
    expect((await whole('r', 5_000, 2)).equals(await whole('r', 5_000, 1))).toBe(false);
  });

  it('rejects a start outside the recording', () => {
    expect(() => recordingStream('r', 10, { start: 11 })).toThrow(RangeError);
    expect(() => recordingStream('r', 10, { start: -1 })).toThrow(RangeError);
  });
});

describe('parseRange', () => {
  it.each([
    ['bytes=0-99', { start: 0, end: 100 }],
    ['bytes=100-', { start: 100, end: 1000 }],
    ['bytes=-100', { start: 900, end: 1000 }],
    ['bytes=-5000', { start: 0, end: 1000 }],
    ['bytes=990-5000', { start: 990, end: 1000 }],
    ['bytes=1000-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-4', undefined],
    ['bytes=0-1,5-6', undefined],
    ['items=0-1', undefined],
    ['bytes=-', undefined],
  ])('reads %s of 1000 bytes', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });
});

describe('recording host: ranges', () => {
  it('answers a range with 206, Content-Range over the total, and exactly those bytes', async () => {
    const sim = await start();
    const { r1 = '' } = await urls(sim);
    const all = await whole('r1', SIZE);

    const got = await get(r1, { range: 'bytes=65530-131071' });

    expect(got.status).toBe(206);
    expect(got.headers['content-range']).toBe(`bytes 65530-131071/${SIZE}`);
    expect(got.headers['content-length']).toBe(String(131_072 - 65_530));
    expect(got.headers['accept-ranges']).toBe('bytes');
    expect(got.body.equals(all.subarray(65_530, 131_072))).toBe(true);
  });

  it('serves open-ended and suffix ranges, and clamps a range past the end', async () => {
    const sim = await start();
    const { r1 = '' } = await urls(sim);
    const all = await whole('r1', SIZE);

    const open = await get(r1, { range: 'bytes=300000-' });
    const suffix = await get(r1, { range: 'bytes=-10' });
    const past = await get(r1, { range: `bytes=300000-${SIZE * 2}` });

    expect([open.status, open.headers['content-range']]).toEqual([206, `bytes 300000-300006/${SIZE}`]);
    expect(open.body.equals(all.subarray(300_000))).toBe(true);
    expect([suffix.status, suffix.headers['content-range']]).toEqual([206, `bytes 299997-300006/${SIZE}`]);
    expect(suffix.body.equals(all.subarray(SIZE - 10))).toBe(true);
    expect(past.body.equals(all.subarray(300_000))).toBe(true);
  });

  it('answers 416 with the total for a range that starts at or past the end', async () => {
    const sim = await start();
    const { r1 = '' } = await urls(sim);

    const got = await get(r1, { range: `bytes=${SIZE}-` });

    expect(got.status).toBe(416);
    expect(got.headers['content-range']).toBe(`bytes */${SIZE}`);
    expect(got.body.length).toBe(0);
  });

  it('answers HEAD with a range with the 206 head and no body', async () => {
    const sim = await start();
    const { r1 = '' } = await urls(sim);

    const got = await get(r1, { range: 'bytes=0-9' }, 'HEAD');

    expect([got.status, got.headers['content-range'], got.headers['content-length']]).toEqual([
      206,
      `bytes 0-9/${SIZE}`,
      '10',
    ]);
    expect(got.body.length).toBe(0);
    expect(sim.bytesServed()).toBe(0);
  });

  it('serves the whole file with 200 for a multi-range request it does not support', async () => {
    const sim = await start();
    const { r1 = '' } = await urls(sim);

    const got = await get(r1, { range: 'bytes=0-1,5-6' });

    expect([got.status, got.body.length]).toEqual([200, SIZE]);
  });

  it('ignores Range with 200 and the whole file when the host serves without ranges', async () => {
    const sim = await start({ recordingHost: { ranges: false } });
    const { r1 = '' } = await urls(sim);

    const got = await get(r1, { range: 'bytes=0-9' });

    expect(got.status).toBe(200);
    expect(got.headers['accept-ranges']).toBeUndefined();
    expect(got.headers['content-range']).toBeUndefined();
    expect(got.body.equals(await whole('r1', SIZE))).toBe(true);
  });

  it('switches ranges off for one file only, and back on', async () => {
    const sim = await start();
    sim.configureRecordingHost({ ranges: false }, 'r1');
    const { r1 = '', r2 = '' } = await urls(sim);

    const off = await get(r1, { range: 'bytes=0-9' });
    const other = await get(r2, { range: 'bytes=0-9' });
    sim.configureRecordingHost({ ranges: true }, 'r1');
    const on = await get(r1, { range: 'bytes=0-9' });

    expect([off.status, other.status, on.status]).toEqual([200, 206, 206]);
  });

  it('serves without Content-Length, chunked, when told to, the body still whole', async () => {
    const sim = await start({ recordingHost: { contentLength: false } });
    const { r1 = '' } = await urls(sim);

    const got = await get(r1);
    const head = await get(r1, {}, 'HEAD');

    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBeUndefined();
    expect(got.headers['transfer-encoding']).toBe('chunked');
    expect(got.complete).toBe(true);
    expect(got.body.equals(await whole('r1', SIZE))).toBe(true);
    expect(head.headers['content-length']).toBeUndefined();
  });

  it('truncates a ranged response: the range’s length promised, afterBytes sent, the connection cut', async () => {
    const sim = await start();
    sim.failNextRecording('r1', { kind: 'truncate', afterBytes: 1_000 });
    const { r1 = '' } = await urls(sim);
    const all = await whole('r1', SIZE);

    const cut = await get(r1, { range: 'bytes=100000-199999' });
    const again = await get(r1, { range: 'bytes=100000-199999' });

    expect([cut.status, cut.headers['content-length'], cut.complete]).toEqual([206, '100000', false]);
    expect(cut.body.equals(all.subarray(100_000, 101_000))).toBe(true);
    expect([again.complete, again.body.length]).toEqual([true, 100_000]);
  });
});

describe('recording host: validators and changed content', () => {
  it('sends the same strong ETag and Last-Modified on every request for unchanged content', async () => {
    const sim = await start();
    const { r1 = '', r2 = '' } = await urls(sim);

    const [a, b, other] = await Promise.all([get(r1, {}, 'HEAD'), get(r1, { range: 'bytes=0-0' }), get(r2)]);

    expect(a.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(b.headers.etag).toBe(a.headers.etag);
    expect(b.headers['last-modified']).toBe(a.headers['last-modified']);
    expect(other.headers.etag).not.toBe(a.headers.etag);
    expect(sim.recordingFile('r1')).toMatchObject({
      bytes: SIZE,
      etag: a.headers.etag,
      lastModified: a.headers['last-modified'],
    });
  });

  it('serves new content with a new ETag and a later Last-Modified after replaceRecordingContent', async () => {
    const clock = () => Date.UTC(2026, 10, 30, 12);
    const sim = await start({ clock });
    const { r1 = '' } = await urls(sim);
    const before = await get(r1);

    sim.replaceRecordingContent('r1');
    const after = await get(r1);

    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(Date.parse(String(after.headers['last-modified']))).toBeGreaterThan(
      Date.parse(String(before.headers['last-modified'])),
    );
    expect(after.body.equals(before.body)).toBe(false);
    expect(after.body.equals(await bytesOf(sim.recordingFile('r1').content()))).toBe(true);
    expect(after.body.equals(await whole('r1', SIZE, 1))).toBe(true);
  });

  it('can change the size with the content', async () => {
    const sim = await start();
    const { r1 = '' } = await urls(sim);

    sim.replaceRecordingContent('r1', 5_000);
    const got = await get(r1, { range: 'bytes=4990-' });

    expect(got.headers['content-range']).toBe('bytes 4990-4999/5000');
    expect(got.body.equals((await bytesOf(sim.recordingFile('r1').content())).subarray(4_990))).toBe(true);
  });

  it('honours If-Range: the range while the ETag or date holds, the whole new file once it changed', async () => {
    const sim = await start();
    const { r1 = '' } = await urls(sim);
    const { etag, lastModified } = sim.recordingFile('r1');

    const byTag = await get(r1, { range: 'bytes=0-9', 'if-range': etag });
    const byDate = await get(r1, { range: 'bytes=0-9', 'if-range': lastModified });
    sim.replaceRecordingContent('r1');
    const changed = await get(r1, { range: 'bytes=0-9', 'if-range': etag });

    expect([byTag.status, byDate.status]).toEqual([206, 206]);
    expect(changed.status).toBe(200);
    expect(changed.body.length).toBe(SIZE);
  });

  it('answers 412 when If-Match names another ETag', async () => {
    const sim = await start();
    const { r1 = '' } = await urls(sim);
    const { etag } = sim.recordingFile('r1');
    sim.replaceRecordingContent('r1');

    const stale = await get(r1, { 'if-match': etag });
    const fresh = await get(r1, { 'if-match': sim.recordingFile('r1').etag, range: 'bytes=0-0' });

    expect([stale.status, stale.body.length]).toEqual([412, 0]);
    expect(fresh.status).toBe(206);
  });
});

describe('recording host: expiring URLs', () => {
  it('refuses every URL issued so far for one recording with 403; Get Call then issues one that works', async () => {
    const sim = await start();
    const old = await urls(sim);

    sim.expireRecordingUrls('r1');
    const fresh = await urls(sim);
    const results = await Promise.all([get(old.r1 ?? ''), get(old.r2 ?? ''), get(fresh.r1 ?? '')]);

    expect(results.map((r) => r.status)).toEqual([403, 200, 200]);
    expect(results[0]?.body.toString()).toContain('<Code>AccessDenied</Code>');
  });

  it('expires every recording’s URLs at once without a rid', async () => {
    const sim = await start();
    const old = await urls(sim);

    sim.expireRecordingUrls();
    const results = await Promise.all([get(old.r1 ?? ''), get(old.r2 ?? '')]);

    expect(results.map((r) => r.status)).toEqual([403, 403]);
  });

  it('expires mid-copy by script: two requests pass, the third and later ones with that URL get 403', async () => {
    const sim = await start();
    sim.failNextRecording('r1', { kind: 'pass' }, { kind: 'pass' }, { kind: 'expire' });
    const { r1 = '' } = await urls(sim);

    const statuses = [];
    for (const range of ['bytes=0-9', 'bytes=10-19', 'bytes=20-29', 'bytes=20-29']) {
      statuses.push((await get(r1, { range })).status);
    }
    const refreshed = await get((await urls(sim)).r1 ?? '', { range: 'bytes=20-29' });

    expect(statuses).toEqual([206, 206, 403, 403]);
    expect(refreshed.status).toBe(206);
  });
});

describe('recording host: request hook and parts in flight', () => {
  it('applies the fault a hook returns to every request without a queued one', async () => {
    const sim = await start();
    sim.failNextRecording('r1', { kind: 'pass' });
    const seen: unknown[] = [];
    sim.onRecordingRequest((request) => {
      seen.push(request);
      return { kind: 'status', status: 401 };
    });
    const { r1 = '' } = await urls(sim);

    const statuses = [];
    for (const range of ['bytes=0-9', 'bytes=10-19', undefined]) {
      statuses.push((await get(r1, range === undefined ? {} : { range })).status);
    }
    sim.onRecordingRequest(undefined);
    const after = await get(r1);

    expect(statuses).toEqual([206, 401, 401]);
    expect(seen).toEqual([
      { rid: 'r1', range: 'bytes=10-19', index: 0 },
      { rid: 'r1', range: undefined, index: 1 },
    ]);
    expect(after.status).toBe(200);
  });

  it('counts the most bodies streaming at once', async () => {
    const sim = await start();
    sim.failNextRecording(
      'r1',
      ...Array.from({ length: 3 }, () => ({ kind: 'stall' as const, afterBytes: 1_000 })),
    );
    const { r1 = '' } = await urls(sim);
    const aborted = new AbortController();

    const downloads = [0, 1, 2].map((part) =>
      fetch(r1, { headers: { range: `bytes=${part * 10_000}-` }, signal: aborted.signal }).then((r) =>
        r.arrayBuffer(),
      ),
    );
    await sim.waitForBytesServed(3_000, 'r1');
    aborted.abort();
    await Promise.allSettled(downloads);
    await get(r1, { range: 'bytes=0-9' });

    expect(sim.mostRecordingsAtOnce()).toBe(3);
    sim.resetRequests();
    expect(sim.mostRecordingsAtOnce()).toBeLessThanOrEqual(1);
  });
});

describe('recording host: bytes served', () => {
  it('counts body bytes per file and in total, ranges and cuts as sent, HEAD as none', async () => {
    const sim = await start();
    sim.failNextRecording('r2', { kind: 'truncate', afterBytes: 300 });
    const { r1 = '', r2 = '' } = await urls(sim);

    await get(r1, { range: 'bytes=0-99' });
    await get(r1, { range: 'bytes=1000-' });
    await get(r1, {}, 'HEAD');
    await get(r2);

    expect(sim.bytesServed('r1')).toBe(100 + SIZE - 1_000);
    expect(sim.bytesServed('r2')).toBe(300);
    expect(sim.bytesServed()).toBe(100 + SIZE - 1_000 + 300);
    expect(sim.requests.filter((r) => r.kind === 'recording')).toEqual([
      {
        method: 'GET',
        path: '/recordings/s1/r1.mp4',
        status: 206,
        kind: 'recording',
        rid: 'r1',
        range: 'bytes=0-99',
        bytes: 100,
      },
      expect.objectContaining({ status: 206, range: 'bytes=1000-', bytes: SIZE - 1_000 }),
      expect.objectContaining({ method: 'HEAD', status: 200, bytes: 0 }),
      expect.objectContaining({ rid: 'r2', status: 200, bytes: 300 }),
    ]);
    sim.resetRequests();
    expect(sim.bytesServed()).toBe(0);
  });

  it('lets a test wait for bytes served, to cut a transfer part way without polling', async () => {
    const sim = await start({ recordingHost: { bytesPerSecond: 1024 * 1024 } });
    const { r1 = '' } = await urls(sim);
    const aborted = new AbortController();

    const download = fetch(r1, { signal: aborted.signal }).then((r) => r.arrayBuffer());
    await sim.waitForBytesServed(100_000, 'r1');
    aborted.abort();

    await expect(download).rejects.toThrow();
    expect(sim.bytesServed('r1')).toBeGreaterThanOrEqual(100_000);
    expect(sim.bytesServed('r1')).toBeLessThan(SIZE);
  });

  it('stalls once: afterBytes sent, then nothing until the client gives up; then whole again', async () => {
    const sim = await start();
    sim.failNextRecording('r1', { kind: 'stall', afterBytes: 5_000 });
    const { r1 = '' } = await urls(sim);
    const aborted = new AbortController();

    const stalled = fetch(r1, { signal: aborted.signal }).then((r) => r.arrayBuffer());
    await sim.waitForBytesServed(5_000, 'r1');
    aborted.abort();
    await expect(stalled).rejects.toThrow();
    const again = await get(r1);

    expect(sim.requests.map((r) => r.bytes)).toEqual([undefined, 5_000, SIZE]);
    expect(again.complete).toBe(true);
  });

  it('fails a wait for bytes when the simulator closes first', async () => {
    const sim = await start();

    const waiting = sim.waitForBytesServed(1);
    await sim.close();

    await expect(waiting).rejects.toThrow('closed');
  });

  it('serves whole under a per-connection speed limit', async () => {
    const sim = await start({ recordingHost: { bytesPerSecond: 64 * 1024 * 1024 } });
    const { r1 = '' } = await urls(sim);

    const got = await get(r1);

    expect(got.body.equals(await whole('r1', SIZE))).toBe(true);
    expect(sim.bytesServed('r1')).toBe(SIZE);
  });

  it('rejects a speed limit that is not positive', async () => {
    const sim = await start();

    expect(() => sim.configureRecordingHost({ bytesPerSecond: 0 })).toThrow(RangeError);
  });
});

describe('serveFile pacing', () => {
  /** A clock that never moves: each wait asked for is how far ahead of the start that write is due. */
  function frozenPacer(): Pacer & { waits: number[] } {
    const waits: number[] = [];
    return {
      waits,
      now: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
      },
    };
  }

  async function servePaced(pacers: Pacer[], bytesPerSecond: number, size: number): Promise<Got[]> {
    let next = 0;
    const server = createServer((req, res) => {
      const pacer = pacers[next++];
      serveFile(
        req,
        res,
        {
          size,
          contentType: 'application/octet-stream',
          etag: '"x"',
          lastModified: 0,
          read: (start, end) => recordingStream('paced', end, { start }),
        },
        { bytesPerSecond, ...(pacer ? { pacer } : {}) },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closeAfterTest({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return Promise.all(pacers.map(() => get(url)));
  }

  it('schedules each write at bytes sent / rate, so the body takes size / rate', async () => {
    const pacer = frozenPacer();
    const rate = 100_000;

    const [got] = await servePaced([pacer], rate, 250_000);

    expect(got?.body.length).toBe(250_000);
    const last = pacer.waits.at(-1) ?? 0;
    // Every slice but the first waits; the last is due one slice short of size / rate.
    expect(last).toBeLessThan((250_000 * 1000) / rate);
    expect(last).toBeGreaterThanOrEqual(((250_000 - 64 * 1024) * 1000) / rate);
    expect(pacer.waits).toEqual([...pacer.waits].sort((a, b) => a - b));
  });

  it('paces each connection on its own schedule, so two at once each get the full rate', async () => {
    const pacers = [frozenPacer(), frozenPacer()];

    await servePaced(pacers, 100_000, 250_000);

    const [a, b] = pacers.map((p) => p.waits.at(-1) ?? 0);
    expect(a).toBeGreaterThan(2_000 - 700);
    expect(b).toBe(a);
  });
});
