import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { get, type IncomingHttpHeaders, request } from 'node:http';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  type CometChatSimulator,
  recordingStream,
  type SimulatedCall,
  startCometChatSimulator,
} from '../../../../dev/simulator/index.ts';
import { SAMPLE_API_KEY, SAMPLE_APP_ID, sampleCalls } from '../../../../dev/simulator/sample-calls.ts';
import { digestOf } from '../../../support/s3.ts';
import { start } from './started.ts';

type Json = Record<string, unknown>;

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);

function call(
  sessionId: string,
  extra: Partial<SimulatedCall> = {},
  raw: Record<string, unknown> = {},
): SimulatedCall {
  return {
    raw: { sessionId, type: 'audio', mode: 'call', status: 'ended', initiatedAt: 1_700_000_000, ...raw },
    ...extra,
  };
}

async function api(
  sim: CometChatSimulator,
  path: string,
  apikey: string | null = sim.apiKey,
): Promise<{ status: number; headers: Headers; body: Json }> {
  const response = await fetch(`${sim.baseUrl}${path}`, { headers: apikey === null ? {} : { apikey } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
}

async function getCall(sim: CometChatSimulator, sessionId: string): Promise<Json> {
  const { status, body } = await api(sim, `/calls/${encodeURIComponent(sessionId)}`);
  expect(status).toBe(200);
  const data = body.data as Json | Json[];
  return Array.isArray(data) ? (data[0] as Json) : data;
}

async function recordingUrls(sim: CometChatSimulator, sessionId: string): Promise<string[]> {
  const recordings = (await getCall(sim, sessionId)).recordings as Json[];
  return recordings.map((r) => String(r.recording_url ?? r.recordingUrl));
}

interface Download {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: number;
  sha256: string;
  /** True when the body ended normally (all of Content-Length arrived). */
  complete: boolean;
  peakRssGrowth: number;
}

/** Downloads with node:http so truncated bodies can be counted rather than just rejected. */
function download(url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Download> {
  return new Promise((resolve, reject) => {
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const req = request(url, { method }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
        if (bytes % (64 * 1024 * 1024) < chunk.length) peak = Math.max(peak, process.memoryUsage().rss);
      });
      res.on('error', () => {});
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bytes,
          sha256: hash.digest('hex'),
          complete: res.complete,
          peakRssGrowth: peak - baseline,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const sha256Of = async (stream: Readable) => (await digestOf(stream)).sha256;

describe('recordingStream', () => {
  it('yields exactly the requested bytes, the same every time', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of recordingStream('rid-a', 200_003)) chunks.push(chunk as Buffer);
    const again = await sha256Of(recordingStream('rid-a', 200_003));

    expect(Buffer.concat(chunks).length).toBe(200_003);
    expect(createHash('sha256').update(Buffer.concat(chunks)).digest('hex')).toBe(again);
  });

  it('makes a shorter recording a prefix of a longer one, and differs per rid', async () => {
    const collect = async (stream: Readable) => {
      const parts: Buffer[] = [];
      for await (const chunk of stream) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    };

    const long = await collect(recordingStream('rid-a', 100_000));
    const short = await collect(recordingStream('rid-a', 70_001));
    const other = await collect(recordingStream('rid-b', 70_001));

    expect(short.equals(long.subarray(0, 70_001))).toBe(true);
    expect(other.equals(short)).toBe(false);
  });

  it('rejects a negative or fractional size', () => {
    expect(() => recordingStream('r', -1)).toThrow(RangeError);
    expect(() => recordingStream('r', 1.5)).toThrow(RangeError);
  });
});

describe('startCometChatSimulator: Get Call', () => {
  it('answers {"data": call} for the object shape, on 127.0.0.1 with the sample defaults', async () => {
    const sim = await start({ calls: [call('s-object')] });

    const { status, headers, body } = await api(sim, '/calls/s-object');

    expect(sim.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v3$/);
    expect(sim.recordingsHost).toBe(new URL(sim.baseUrl).host);
    expect([sim.appId, sim.apiKey, sim.region]).toEqual([SAMPLE_APP_ID, SAMPLE_API_KEY, 'us']);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(body).toEqual({ data: call('s-object').raw });
  });

  it('serves the reference page example exactly as published, array-shaped', async () => {
    const published = JSON.parse(
      await readFile(
        new URL('../../../fixtures/simulator/get-call-doc-example.json', import.meta.url),
        'utf8',
      ),
    ) as { data: Json[] };
    const sim = await start({ calls: sampleCalls(NOW) });

    const { status, body } = await api(sim, `/calls/${published.data[0]?.sessionId}`);

    expect(status).toBe(200);
    expect(body).toEqual(published);
  });

  it('URL-decodes the session id in the path', async () => {
    const sim = await start({ calls: [call('v1.us.app.1 x/y')] });

    const fetched = await getCall(sim, 'v1.us.app.1 x/y');

    expect(fetched.sessionId).toBe('v1.us.app.1 x/y');
  });

  it('answers 401 AUTH_ERR_EMPTY_APIKEY without a key and AUTH_ERR_APIKEY_NOT_FOUND with a wrong one', async () => {
    const sim = await start({ calls: [call('s1')], apiKey: 'the-right-key' });

    const missing = await api(sim, '/calls/s1', null);
    const wrong = await api(sim, '/calls/s1', 'the-wrong-key');

    expect(missing.status).toBe(401);
    expect((missing.body.error as Json).code).toBe('AUTH_ERR_EMPTY_APIKEY');
    expect(wrong.status).toBe(401);
    expect((wrong.body.error as Json).code).toBe('AUTH_ERR_APIKEY_NOT_FOUND');
    expect(JSON.stringify([missing.body, wrong.body])).not.toMatch(/the-(right|wrong)-key/);
  });

  it('answers 404 ERR_CALL_SESSION_NOT_FOUND for an unknown or removed session', async () => {
    const sim = await start({ calls: [call('s1')] });
    sim.removeCall('s1');

    const { status, body } = await api(sim, '/calls/s1');

    expect(status).toBe(404);
    expect((body.error as Json).code).toBe('ERR_CALL_SESSION_NOT_FOUND');
    expect(sim.sessionIds()).toEqual([]);
  });

  it('reflects updateCall (ongoing -> ended) and deletes fields set to undefined', async () => {
    const sim = await start({ calls: [call('s1', {}, { status: 'ongoing', note: 'x' })] });

    sim.updateCall('s1', { status: 'ended', endedAt: 1_700_000_100, note: undefined });
    const fetched = await getCall(sim, 's1');

    expect(fetched).toMatchObject({ sessionId: 's1', status: 'ended', endedAt: 1_700_000_100 });
    expect(fetched).not.toHaveProperty('note');
  });

  it('logs method, path without query, status and kind', async () => {
    const sim = await start({ calls: [call('s1')] });

    await api(sim, '/calls/s1');
    await api(sim, '/calls?page=2&perPage=5');
    await api(sim, '/nowhere');

    expect(sim.requests).toEqual([
      { method: 'GET', path: '/v3/calls/s1', status: 200, kind: 'get-call' },
      { method: 'GET', path: '/v3/calls', status: 200, kind: 'list-calls' },
      { method: 'GET', path: '/v3/nowhere', status: 404, kind: 'other' },
    ]);
    sim.resetRequests();
    expect(sim.requests).toEqual([]);
  });
});

describe('startCometChatSimulator: recording URLs', () => {
  const recorded = (sessionId: string, extra: Partial<SimulatedCall> = {}) =>
    call(
      sessionId,
      {
        recordings: [
          { rid: 'r1', bytes: 1_000, startTime: 1_700_000_010, endTime: 1_700_000_070 },
          {
            rid: 'r2',
            bytes: 2_000,
            ext: 'webm',
            contentType: 'video/webm',
            startTime: 1_700_000_100,
            endTime: 1_700_000_121,
            urlField: 'recordingUrl',
            numbersAsStrings: true,
          },
        ],
        ...extra,
      },
      { hasRecording: true },
    );

  it('renders both documented item variants with signed URLs on the recordings host', async () => {
    const clock = () => NOW;
    const sim = await start({ calls: [recorded('s1')], clock, recordingUrlTtlSeconds: 3600 });

    const [first, second] = (await getCall(sim, 's1')).recordings as Json[];

    expect(first).toMatchObject({ rid: 'r1', startTime: 1_700_000_010, endTime: 1_700_000_070, duration: 1 });
    expect(second).toMatchObject({
      rid: 'r2',
      startTime: '1700000100',
      endTime: '1700000121',
      duration: '21.000000',
      recordingDate: '2023-11-14',
    });
    expect(first).not.toHaveProperty('recordingUrl');
    expect(second).not.toHaveProperty('recording_url');
    const url = new URL(String(second?.recordingUrl));
    expect(url.host).toBe(sim.recordingsHost);
    expect(url.pathname).toBe('/recordings/s1/r2.webm');
    expect(Number(url.searchParams.get('Expires'))).toBe(NOW / 1000 + 3600);
    expect(url.searchParams.get('Signature')).toMatch(/^[A-Za-z0-9~_-]+$/);
    expect(url.searchParams.get('Key-Pair-Id')).toBe('SIM');
  });

  it('issues a fresh signed URL on every Get Call, even within the same second, and each one works', async () => {
    const sim = await start({ calls: [recorded('s1')], clock: () => NOW });

    const [a = ''] = await recordingUrls(sim, 's1');
    const [b = ''] = await recordingUrls(sim, 's1');
    const downloads = await Promise.all([download(a), download(b)]);

    expect(new URL(a).searchParams.get('Expires')).toBe(new URL(b).searchParams.get('Expires'));
    expect(new URL(a).searchParams.get('Signature')).not.toBe(new URL(b).searchParams.get('Signature'));
    expect(downloads.map((d) => [d.status, d.bytes])).toEqual([
      [200, 1_000],
      [200, 1_000],
    ]);
  });

  it('refuses a tampered signature, another path with a valid query, or a missing query with 403', async () => {
    const sim = await start({ calls: [recorded('s1')] });
    const [url = ''] = await recordingUrls(sim, 's1');
    const signature = new URL(url).searchParams.get('Signature') ?? '';
    const tampered = url.replace(
      signature,
      `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`,
    );

    const results = await Promise.all([
      download(tampered),
      download(url.replace(`Signature=${signature}`, `Signature=${signature}.`)),
      download(url.replace(/Expires=(\d+)/, (_, e: string) => `Expires=${Number(e) + 1}`)),
      download(url.replace('/r1.mp4', '/r2.webm')),
      download(url.split('?')[0] ?? ''),
    ]);

    expect(results.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    expect(results[0]?.headers['content-type']).toBe('text/xml');
  });

  it('refuses an expired URL with 403', async () => {
    let now = NOW;
    const sim = await start({ calls: [recorded('s1')], clock: () => now, recordingUrlTtlSeconds: 60 });
    const [url = ''] = await recordingUrls(sim, 's1');

    now += 61_000;
    const expired = await download(url);
    const [fresh = ''] = await recordingUrls(sim, 's1');
    const renewed = await download(fresh);

    expect(expired.status).toBe(403);
    expect(renewed.status).toBe(200);
  });

  it('serves plain URLs, unchecked, when signing is off', async () => {
    const sim = await start({ calls: [recorded('s1')], signRecordingUrls: false });

    const [url = ''] = await recordingUrls(sim, 's1');
    const result = await download(url);

    expect(url).not.toContain('?');
    expect(result.status).toBe(200);
  });

  it('answers 404 for a recording the call does not have', async () => {
    const sim = await start({ calls: [recorded('s1')], signRecordingUrls: false });

    const result = await download(`http://${sim.recordingsHost}/recordings/s1/nope.mp4`);

    expect(result.status).toBe(404);
  });
});

describe('startCometChatSimulator: recording downloads', () => {
  it('streams recordingStream bytes with the right Content-Length and Content-Type', async () => {
    const rid = 'rid-stream';
    const sim = await start({ calls: [call('s1', { recordings: [{ rid, bytes: 1_000_003 }] })] });
    const [url = ''] = await recordingUrls(sim, 's1');

    const result = await download(url);

    expect(result.status).toBe(200);
    expect(result.headers['content-length']).toBe('1000003');
    expect(result.headers['content-type']).toBe('video/mp4');
    expect(result.complete).toBe(true);
    expect(result.bytes).toBe(1_000_003);
    expect(result.sha256).toBe(await sha256Of(recordingStream(rid, 1_000_003)));
  });

  it('answers HEAD with the headers only', async () => {
    const sim = await start({ calls: [call('s1', { recordings: [{ rid: 'r', bytes: 4_321 }] })] });
    const [url = ''] = await recordingUrls(sim, 's1');

    const result = await download(url, 'HEAD');

    expect([result.status, result.headers['content-length'], result.bytes]).toEqual([200, '4321', 0]);
  });

  it('streams 1 GiB without holding it in memory', async () => {
    const bytes = 1024 ** 3;
    const sim = await start({ calls: [call('s1', { recordings: [{ rid: 'huge', bytes }] })] });
    const [url = ''] = await recordingUrls(sim, 's1');

    const result = await download(url);

    expect(result.bytes).toBe(bytes);
    expect(result.complete).toBe(true);
    expect(result.peakRssGrowth).toBeLessThan(256 * 1024 * 1024);
  });

  it('truncates once: full Content-Length, afterBytes delivered, connection cut; then whole again', async () => {
    const sim = await start({ calls: [call('s1', { recordings: [{ rid: 'r', bytes: 500_000 }] })] });
    sim.failNextRecording('r', { kind: 'truncate', afterBytes: 123_457 });
    const [url = ''] = await recordingUrls(sim, 's1');

    const cut = await download(url);
    const whole = await download(url);

    expect(cut.headers['content-length']).toBe('500000');
    expect(cut.bytes).toBe(123_457);
    expect(cut.complete).toBe(false);
    expect(cut.sha256).toBe(await sha256Of(recordingStream('r', 123_457)));
    expect([whole.bytes, whole.complete]).toEqual([500_000, true]);
  });

  it('applies recording faults once each, in order: status, then redirect, then normal', async () => {
    const sim = await start({ calls: [call('s1', { recordings: [{ rid: 'r', bytes: 10 }] })] });
    sim.failNextRecording(
      'r',
      { kind: 'status', status: 503 },
      { kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data/' },
    );
    const [url = ''] = await recordingUrls(sim, 's1');

    const first = await download(url);
    const second = await download(url);
    const third = await download(url);

    expect(first.status).toBe(503);
    expect(second.status).toBe(302);
    expect(second.headers.location).toBe('http://169.254.169.254/latest/meta-data/');
    expect([third.status, third.bytes]).toEqual([200, 10]);
    expect(sim.requests.filter((r) => r.kind === 'recording').map((r) => r.status)).toEqual([503, 302, 200]);
    expect(sim.requests.every((r) => !r.path.includes('?'))).toBe(true);
  });
});

describe('startCometChatSimulator: API faults', () => {
  it('answers a status fault once, then normally', async () => {
    const sim = await start({ calls: [call('s1')] });
    sim.failNext({ sessionId: 's1' }, { kind: 'status', status: 503 });

    const failed = await api(sim, '/calls/s1');
    const ok = await api(sim, '/calls/s1');

    expect(failed.status).toBe(503);
    expect(ok.status).toBe(200);
  });

  it('gives a 429 fault a Retry-After, and lets a fault override body and headers', async () => {
    const sim = await start({ calls: [call('s1')] });
    sim.failNext(
      { sessionId: '*' },
      { kind: 'status', status: 429 },
      { kind: 'status', status: 429, body: { error: { code: 'X' } }, headers: { 'retry-after': '7' } },
    );

    const first = await api(sim, '/calls/s1');
    const second = await api(sim, '/calls/other');

    expect([first.status, first.headers.get('retry-after')]).toEqual([429, '1']);
    expect((first.body.error as Json).code).toBe('ERR_TOO_MANY_REQUESTS');
    expect([second.headers.get('retry-after'), second.body]).toEqual(['7', { error: { code: 'X' } }]);
  });

  it('keeps a session fault for that session and a list fault for List Calls', async () => {
    const sim = await start({ calls: [call('s1'), call('s2')] });
    sim.failNext({ sessionId: 's2' }, { kind: 'status', status: 500 });
    sim.failNext({ list: true }, { kind: 'status', status: 502 });

    const s1 = await api(sim, '/calls/s1');
    const list = await api(sim, '/calls');
    const s2 = await api(sim, '/calls/s2');

    expect([s1.status, list.status, s2.status]).toEqual([200, 502, 500]);
  });

  it('resets the connection once for a reset fault', async () => {
    const sim = await start({ calls: [call('s1')] });
    sim.failNext({}, { kind: 'reset' });

    await expect(fetch(`${sim.baseUrl}/calls/s1`, { headers: { apikey: sim.apiKey } })).rejects.toThrow();
    const ok = await api(sim, '/calls/s1');

    expect(ok.status).toBe(200);
    expect(sim.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  it('closes promptly with a request left hanging, failing that request', async () => {
    const sim = await startCometChatSimulator({ calls: [call('s1')] });
    sim.failNext({ sessionId: 's1' }, { kind: 'hang' });
    const hanging = fetch(`${sim.baseUrl}/calls/s1`, { headers: { apikey: sim.apiKey } });
    const outcome = hanging.then(
      () => 'answered',
      () => 'failed',
    );
    await sim.waitForRequests(1);

    const started = performance.now();
    await sim.close();

    expect(await outcome).toBe('failed');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('closes promptly in the middle of a recording stream', async () => {
    const sim = await startCometChatSimulator({
      calls: [call('s1', { recordings: [{ rid: 'r', bytes: 1024 ** 3 }] })],
    });
    const [url = ''] = await recordingUrls(sim, 's1');
    const closed = new Promise<string>((resolve) => {
      get(url, (res) => {
        res.once('data', () => void sim.close());
        res.on('error', () => {});
        res.on('close', () => resolve(res.complete ? 'complete' : 'cut'));
      });
    });

    expect(await closed).toBe('cut');
  });

  it('rate limits per clock minute with Retry-After and X-RateLimit headers', async () => {
    let now = NOW + 15_000;
    const sim = await start({ calls: [call('s1')], rateLimitPerMinute: 2, clock: () => now });

    const first = await api(sim, '/calls/s1');
    await api(sim, '/calls/s1');
    const limited = await api(sim, '/calls/s1');
    now += 60_000;
    const later = await api(sim, '/calls/s1');

    const reset = String(NOW / 1000 + 60);
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(limited.status).toBe(429);
    expect((limited.body.error as Json).code).toBe('ERR_TOO_MANY_REQUESTS');
    expect([
      limited.headers.get('retry-after'),
      limited.headers.get('x-ratelimit-limit'),
      limited.headers.get('x-ratelimit-remaining'),
      limited.headers.get('x-ratelimit-reset'),
    ]).toEqual(['45', '2', '0', reset]);
    expect(later.status).toBe(200);
  });

  it('can send the legacy X-Rate-Limit header family', async () => {
    const sim = await start({ rateLimitPerMinute: 1, rateLimitHeaders: 'X-Rate-Limit', clock: () => NOW });

    await api(sim, '/calls');
    const limited = await api(sim, '/calls');

    expect(limited.status).toBe(429);
    expect([limited.headers.get('x-rate-limit'), limited.headers.get('x-rate-limit-reset')]).toEqual([
      '1',
      String(NOW / 1000 + 60),
    ]);
  });
});

describe('startCometChatSimulator: List Calls', () => {
  const many = (count: number): SimulatedCall[] =>
    Array.from({ length: count }, (_, i) =>
      call(
        `v1.us.app.${1_700_000_000 + i * 60}c${i}`,
        {},
        {
          initiatedAt: 1_700_000_000 + i * 60,
          status: i % 3 === 0 ? 'ongoing' : 'ended',
          hasRecording: i % 2 === 0,
        },
      ),
    );

  it('pages newest first across several pages with pagination meta', async () => {
    const calls = many(23);
    const sim = await start({ calls: [...calls].reverse() });

    const pages = [];
    for (const page of [1, 2, 3, 4]) pages.push((await api(sim, `/calls?page=${page}&perPage=10`)).body);

    expect(pages.map((p) => (p.meta as { pagination: unknown }).pagination)).toEqual([
      { total: 23, count: 10, per_page: 10, current_page: 1, total_pages: 3 },
      { total: 23, count: 10, per_page: 10, current_page: 2, total_pages: 3 },
      { total: 23, count: 3, per_page: 10, current_page: 3, total_pages: 3 },
      { total: 23, count: 0, per_page: 10, current_page: 4, total_pages: 3 },
    ]);
    const listed = pages.flatMap((p) => (p.data as Json[]).map((c) => c.sessionId));
    expect(listed).toEqual(calls.map((c) => c.raw.sessionId).reverse());
  });

  it('filters exactly on status and hasRecording before paging', async () => {
    const sim = await start({ calls: many(23) });

    const first = await api(sim, '/calls?status=ended&hasRecording=true&perPage=3');
    const last = await api(sim, '/calls?status=ended&hasRecording=true&perPage=3&page=3');

    const expected = many(23)
      .filter((c) => c.raw.status === 'ended' && c.raw.hasRecording === true)
      .map((c) => c.raw.sessionId)
      .reverse();
    expect(expected).toHaveLength(8);
    expect((first.body.meta as Json).pagination).toEqual({
      total: 8,
      count: 3,
      per_page: 3,
      current_page: 1,
      total_pages: 3,
    });
    expect((last.body.data as Json[]).map((c) => c.sessionId)).toEqual(expected.slice(6));
  });

  it('defaults perPage to 100, clamps it to 1000, and filters on a participant uid', async () => {
    const sim = await start({ calls: [...many(3), ...sampleCalls(NOW)] });

    const defaults = await api(sim, '/calls');
    const clamped = await api(sim, '/calls?perPage=5000');
    const byUid = await api(sim, '/calls?uid=cometchat-uid-3');

    expect((defaults.body.meta as { pagination: Json }).pagination.per_page).toBe(100);
    expect((clamped.body.meta as { pagination: Json }).pagination.per_page).toBe(1000);
    expect((byUid.body.data as Json[]).map((c) => c.mode)).toEqual(['meet']);
  });
});

describe('sampleCalls', () => {
  it('holds the five documented situations with realistic ids and timestamps', () => {
    const calls = sampleCalls(NOW).map((c) => c.raw);
    const nowSeconds = NOW / 1000;

    expect(calls.map((c) => c.status)).toEqual(['ended', 'initiated', 'ended', 'canceled', 'ongoing']);
    expect(new Set(calls.map((c) => c.sessionId)).size).toBe(5);
    for (const c of [calls[0], calls[2], calls[3], calls[4]]) {
      expect(c?.sessionId).toMatch(new RegExp(`^v1\\.us\\.${SAMPLE_APP_ID}\\.\\d{10}[0-9a-f]{40}$`));
      expect(nowSeconds - Number(c?.initiatedAt)).toBeGreaterThan(0);
      expect(nowSeconds - Number(c?.initiatedAt)).toBeLessThan(2 * 86_400);
      expect(c?.totalDuration).toMatch(/^\d\d:\d\d:\d\d$/);
    }
    expect(calls[4]).not.toHaveProperty('endedAt');
    expect(sampleCalls(NOW)).toEqual(sampleCalls(NOW));
  });

  it('has a group call with one uid on two devices and two recordings either side of 5 MiB', () => {
    const group = sampleCalls(NOW)[2];
    const participants = (group?.raw.participants ?? []) as Json[];
    const nancy = participants.filter((p) => p.uid === 'cometchat-uid-3');

    expect(group?.raw).toMatchObject({ receiverType: 'group', type: 'video', hasRecording: true });
    expect(participants.length).toBeGreaterThanOrEqual(4);
    expect(nancy).toHaveLength(2);
    expect(nancy[0]?.deviceId).not.toBe(nancy[1]?.deviceId);
    expect(group?.recordings?.map((r) => [r.urlField, r.numbersAsStrings === true])).toEqual([
      ['recording_url', false],
      ['recordingUrl', true],
    ]);
    expect(group?.recordings?.[0]?.bytes).toBeLessThan(512 * 1024);
    expect(group?.recordings?.[1]?.bytes).toBeGreaterThan(5 * 1024 * 1024);
  });

  it('is served whole by the simulator, recordings downloadable', async () => {
    const sim = await start({ calls: sampleCalls(NOW) });
    const group = sampleCalls(NOW)[2];
    const sessionId = String(group?.raw.sessionId);

    const [small = '', large = ''] = await recordingUrls(sim, sessionId);
    const results = await Promise.all([download(small), download(large)]);

    expect(sim.sessionIds()).toEqual(sampleCalls(NOW).map((c) => c.raw.sessionId));
    expect(results.map((r) => [r.status, r.bytes])).toEqual(group?.recordings?.map((r) => [200, r.bytes]));
  });
});
