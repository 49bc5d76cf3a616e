import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCometChatClient } from '../../../lib/cometchat/client.ts';
import type { CometChatClientOptions } from '../../../lib/cometchat/types.ts';
import {
  CallNotFoundError,
  CometChatAuthError,
  CometChatRateLimitError,
  CometChatRequestError,
  CometChatUnavailableError,
  InvalidCallDataError,
  InvalidInputError,
} from '../../../lib/errors.ts';
import { rejectionOf } from '../../support/errors.ts';
import {
  destroy,
  hang,
  json,
  raw,
  type ScriptedServer,
  type Step,
  startScriptedServer,
  truncated,
} from '../../support/scripted-server.ts';

const API_KEY = 'sk-test-SECRET-key-0123456789abcdef';
const SESSION = 'v1.us.31780434a95d45.16923681138d75114d60d1345a22e4cc612263fb26c0b5cf92';
const CALL = { sessionId: SESSION, status: 'ended', participants: [] };

let server: ScriptedServer;
let delays: number[];

beforeEach(async () => {
  server = await startScriptedServer();
  delays = [];
});

afterEach(async () => {
  await server.close();
});

function client(overrides: Partial<CometChatClientOptions> = {}) {
  return createCometChatClient({
    baseUrl: `${server.origin}/v3`,
    apiKey: API_KEY,
    random: () => 0.5,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...overrides,
  });
}

/** Everything an error could leak through: message, stack, JSON, and the whole cause chain. */
function everythingIn(error: Error): string {
  return [error.message, error.stack, JSON.stringify(error), inspect(error, { depth: null })].join('\n');
}

describe('createCometChatClient getCall', () => {
  it('returns the call when data is an object, sending apikey, accept and onBehalfOf', async () => {
    server.script(json(200, { data: CALL }));

    const call = await client({ onBehalfOf: 'cometchat-uid-1' }).getCall(SESSION);

    expect(call).toEqual(CALL);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe(`/v3/calls/${SESSION}`);
    expect(request?.headers.apikey).toBe(API_KEY);
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers.onbehalfof).toBe('cometchat-uid-1');
  });

  it('returns the element when data is a one-element array, as in the published reference', async () => {
    const reference = JSON.parse(await readFile('test/fixtures/cometchat/get-call-reference.json', 'utf8'));
    server.script(json(200, reference));
    const sessionId = reference.data[0].sessionId;

    const call = await client().getCall(sessionId);

    expect(call).toEqual(reference.data[0]);
  });

  it('omits onBehalfOf when it is not configured and asks a key provider once per call', async () => {
    server.script(json(200, { data: CALL }));
    let calls = 0;
    const provider = async () => {
      calls += 1;
      return `${API_KEY}\n`;
    };

    await client({ apiKey: provider }).getCall(SESSION);
    await client({ apiKey: provider }).getCall(SESSION);

    expect(calls).toBe(2);
    expect(server.requests[0]?.headers.apikey).toBe(API_KEY);
    expect(server.requests[0]?.headers).not.toHaveProperty('onbehalfof');
  });

  it('URL-encodes the session id into one path segment', async () => {
    server.script(json(200, { data: CALL }));

    await client().getCall('v1.us.a/b?c#d e%');

    expect(server.requests[0]?.url).toBe('/v3/calls/v1.us.a%2Fb%3Fc%23d%20e%25');
  });

  it.each([
    ['a/../b', 'a%2F..%2Fb'],
    ['x?y#z', 'x%3Fy%23z'],
    ['%2e', '%252e'],
    ['%2E%2E', '%252E%252E'],
    ['a b', 'a%20b'],
    ['...', '...'],
    ['./..', '.%2F..'],
    ['\\..', '%5C..'],
  ])('sends session id %j to exactly its own path, one segment', async (sessionId, segment) => {
    server.script(json(200, { data: { ...CALL, sessionId } }));

    await client().getCall(sessionId);

    expect(server.requests.map((r) => r.url)).toEqual([`/v3/calls/${segment}`]);
  });

  it.each(['.', '..', 'abc\ud800'])(
    'throws InvalidInputError for session id %j without sending a request',
    async (sessionId) => {
      server.script(json(200, { data: [CALL] }));

      const error = await rejectionOf(client().getCall(sessionId));

      expect(error).toBeInstanceOf(InvalidInputError);
      expect(server.requests).toHaveLength(0);
    },
  );

  it('throws CallNotFoundError when data is an empty array', async () => {
    server.script(json(200, { data: [] }));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(CallNotFoundError);
    expect(error.name).toBe('CallNotFoundError');
    expect(error.message).toContain(SESSION);
  });

  it.each([
    ['404 with an HTML body', raw(404, '<html>Not Found</html>', { 'content-type': 'text/html' })],
    ['404 with no body', raw(404, '')],
    ['the documented 400 {}', json(400, {})],
    [
      '400 ERR_CALL_SESSION_NOT_FOUND',
      json(400, { error: { code: 'ERR_CALL_SESSION_NOT_FOUND', message: 'x' } }),
    ],
    ['404 ERR_CALL_SESSION_NOT_FOUND', json(404, { error: { code: 'ERR_CALL_SESSION_NOT_FOUND' } })],
    ['a 400 with no body', raw(400, '')],
    ['a 400 with a message but no code', json(400, { message: 'Not found' })],
  ])('throws CallNotFoundError without retrying on %s', async (_label, step) => {
    server.script(step);

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(CallNotFoundError);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it.each([
    ['a 400 with another code', json(400, { error: { code: 'ERR_BAD_REQUEST', message: 'x' } })],
    ['a 400 with a code we would not print', json(400, { error: { code: 'bad request' } })],
    ['a 422', json(422, { error: { code: 'ERR_UNPROCESSABLE' } })],
    ['a 422 with no body', raw(422, '')],
    ['a 405', json(405, {}, { allow: 'GET' })],
    ['a 409', json(409, {})],
    ['a 413', raw(413, '')],
  ])('throws CometChatRequestError after exactly one request on %s', async (_label, step) => {
    server.script(step, json(200, { data: CALL }));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatRequestError);
    expect(error.name).toBe('CometChatRequestError');
    expect(error.message).toContain(SESSION);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('retries a 408, which is CometChat timing out on us', async () => {
    server.script(raw(408, ''), json(200, { data: CALL }));

    expect(await client().getCall(SESSION)).toEqual(CALL);
    expect(server.requests).toHaveLength(2);
  });

  it('throws InvalidInputError on ERR_EMPTY_CALL_SESSION_ID', async () => {
    server.script(json(400, { error: { code: 'ERR_EMPTY_CALL_SESSION_ID', message: 'empty' } }));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.name).toBe('InvalidInputError');
    expect(server.requests).toHaveLength(1);
  });

  it('throws InvalidInputError for an empty session id without sending a request', async () => {
    const error = await rejectionOf(client().getCall(''));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    ['401 with no body', raw(401, '')],
    ['403 {}', json(403, {})],
    ['401 AUTH_ERR_EMPTY_APIKEY', json(401, { error: { code: 'AUTH_ERR_EMPTY_APIKEY' } })],
    ['401 AUTH_ERR_APIKEY_NOT_FOUND', json(401, { error: { code: 'AUTH_ERR_APIKEY_NOT_FOUND' } })],
    ['403 AUTH_ERR_NO_ACCESS', json(403, { error: { code: 'AUTH_ERR_NO_ACCESS' } })],
    ['400 AUTH_ERR_APIKEY_NOT_FOUND', json(400, { error: { code: 'AUTH_ERR_APIKEY_NOT_FOUND' } })],
    ['200 with an AUTH_ERR_NO_ACCESS envelope', json(200, { error: { code: 'AUTH_ERR_NO_ACCESS' } })],
  ])('throws CometChatAuthError after exactly one request on %s', async (_label, step) => {
    server.script(step, json(200, { data: CALL }));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatAuthError);
    expect(error.name).toBe('CometChatAuthError');
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('throws CometChatAuthError without a request when the key is empty', async () => {
    const error = await rejectionOf(client({ apiKey: async () => '  ' }).getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatAuthError);
    expect(server.requests).toHaveLength(0);
  });

  it('retries a 429 and waits at least the Retry-After it was given', async () => {
    server.script(
      json(429, { error: { code: 'ERR_TOO_MANY_REQUESTS' } }, { 'retry-after': '3' }),
      json(200, { data: CALL }),
    );

    const call = await client().getCall(SESSION);

    expect(call).toEqual(CALL);
    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([3000]);
  });

  it('throws CometChatRateLimitError with retryAfterSeconds when every attempt is rate limited', async () => {
    server.script(json(429, { error: { code: 'ERR_TOO_MANY_REQUESTS' } }, { 'retry-after': '2' }));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatRateLimitError);
    expect(error.name).toBe('CometChatRateLimitError');
    expect((error as CometChatRateLimitError).retryAfterSeconds).toBe(2);
    expect(server.requests).toHaveLength(4);
    expect(delays).toEqual([2000, 2000, 2000]);
    expect(error.message).toContain('HTTP 429');
    expect(error.message).toContain('ERR_TOO_MANY_REQUESTS');
    expect(error.message).toContain('4 attempts');
    expect(error.message).toContain(SESSION);
  });

  it('treats ERR_TOO_MANY_REQUESTS as rate limiting whatever the status', async () => {
    server.script(json(400, { error: { code: 'ERR_TOO_MANY_REQUESTS' } }));

    const error = await rejectionOf(client({ maxAttempts: 2 }).getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatRateLimitError);
    expect(server.requests).toHaveLength(2);
  });

  it('honours X-RateLimit-Reset given as epoch seconds', async () => {
    const now = 1_700_000_000_000;
    server.script(
      json(
        429,
        {},
        { 'x-ratelimit-limit': '500', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1700000007' },
      ),
      json(200, { data: CALL }),
    );

    await client({ now: () => now }).getCall(SESSION);

    expect(delays).toEqual([7000]);
  });

  it('honours the older X-Rate-Limit-Reset given as seconds from now', async () => {
    server.script(
      json(429, {}, { 'x-rate-limit': '500', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '4' }),
      json(200, { data: CALL }),
    );

    await client().getCall(SESSION);

    expect(delays).toEqual([4000]);
  });

  it('stops at once when CometChat asks for a wait longer than maxServerWaitMs', async () => {
    server.script(json(429, {}, { 'retry-after': '600' }));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatRateLimitError);
    expect((error as CometChatRateLimitError).retryAfterSeconds).toBe(600);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('retries a 500 with full-jitter backoff, then succeeds', async () => {
    server.script(
      json(500, { error: { code: 'ERR_INTERNAL' } }),
      raw(502, '<html>Bad Gateway</html>'),
      json(200, { data: CALL }),
    );

    const call = await client().getCall(SESSION);

    expect(call).toEqual(CALL);
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([125, 250]);
  });

  it('retries after the server resets the connection, then succeeds', async () => {
    server.script(destroy(), json(200, { data: CALL }));

    const call = await client().getCall(SESSION);

    expect(call).toEqual(CALL);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a 2xx whose body was cut off, then succeeds', async () => {
    server.script(truncated(200, '{"data":{"sessionId":"v1.us.'), json(200, { data: CALL }));

    const call = await client().getCall(SESSION);

    expect(call).toEqual(CALL);
    expect(server.requests).toHaveLength(2);
  });

  it('throws CometChatUnavailableError when a 2xx body is never JSON', async () => {
    server.script(raw(200, '<html>maintenance</html>', { 'content-type': 'text/html' }));

    const error = await rejectionOf(client({ maxAttempts: 2 }).getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatUnavailableError);
    expect(error.message).toContain('not JSON');
    expect(server.requests).toHaveLength(2);
  });

  it('throws CometChatUnavailableError with a cause when 5xx outlasts the retries', async () => {
    server.script(json(503, { error: { code: 'ERR_SERVICE_UNAVAILABLE' } }));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatUnavailableError);
    expect(error.name).toBe('CometChatUnavailableError');
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toContain('HTTP 503');
    expect(error.message).toContain('ERR_SERVICE_UNAVAILABLE');
    expect(error.message).toContain('4 attempts');
    expect(error.message).toContain(SESSION);
    expect(server.requests).toHaveLength(4);
  });

  it('throws CometChatUnavailableError with the network failure as cause when resets persist', async () => {
    server.script(destroy());

    const error = await rejectionOf(client({ maxAttempts: 3 }).getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatUnavailableError);
    expect(error.message).toContain('network error');
    expect(error.cause).toBeDefined();
    expect(server.requests).toHaveLength(3);
  });

  it('times out a hanging server per attempt and throws CometChatUnavailableError', async () => {
    server.script(hang());
    const started = Date.now();

    const error = await rejectionOf(client({ requestTimeoutMs: 150, maxAttempts: 2 }).getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatUnavailableError);
    expect(error.message).toContain('timed out after 150 ms');
    expect(error.cause).toBeDefined();
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('throws CometChatUnavailableError without following or retrying an unexpected redirect', async () => {
    server.script(raw(302, '', { location: '/elsewhere' }));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(CometChatUnavailableError);
    expect(error.message).toContain('HTTP 302');
    expect(server.requests).toHaveLength(1);
  });

  it('stops when the deadline passes, without starting another attempt or sleeping past it', async () => {
    server.script(hang());
    const deadline = Date.now() + 300;

    const error = await rejectionOf(
      client({ requestTimeoutMs: 5000, sleep: undefined }).getCall(SESSION, { deadline }),
    );

    expect(error).toBeInstanceOf(CometChatUnavailableError);
    expect(server.requests).toHaveLength(1);
    // Far short of the 5 s request timeout: the deadline, not the timeout, ended it (slack for a busy CI).
    expect(Date.now() - deadline).toBeLessThan(1500);
  });

  it('stops at once when the wait CometChat asks for would pass the deadline', async () => {
    server.script(json(429, {}, { 'retry-after': '5' }));

    const error = await rejectionOf(client().getCall(SESSION, { deadline: Date.now() + 2000 }));

    expect(error).toBeInstanceOf(CometChatRateLimitError);
    expect((error as CometChatRateLimitError).retryAfterSeconds).toBe(5);
    expect(error.message).toContain('deadline');
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('shortens its own backoff to fit before the deadline', async () => {
    server.script(json(500, {}), json(200, { data: CALL }));
    const deadline = Date.now() + 1500;

    const call = await client({ baseDelayMs: 10_000, maxDelayMs: 60_000, random: () => 0.99 }).getCall(
      SESSION,
      {
        deadline,
      },
    );

    expect(call).toEqual(CALL);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeLessThanOrEqual(1400);
  });

  it('sends nothing when less than 100 ms of the deadline remain', async () => {
    server.script(json(200, { data: CALL }));

    let fetches = 0;
    const counting: typeof fetch = (input, init) => {
      fetches += 1;
      return fetch(input, init);
    };

    const error = await rejectionOf(
      client({ fetch: counting }).getCall(SESSION, { deadline: Date.now() + 50 }),
    );

    expect(error).toBeInstanceOf(CometChatUnavailableError);
    expect(error.message).toContain('not attempted');
    expect(fetches).toBe(0);
  });

  it('stops when the caller aborts during an attempt', async () => {
    server.script(hang());
    const controller = new AbortController();
    const call = client().getCall(SESSION, { signal: controller.signal });
    await expect.poll(() => server.requests.length).toBe(1);

    controller.abort(new Error('caller gave up'));
    const error = await rejectionOf(call);

    expect(error).toBeInstanceOf(CometChatUnavailableError);
    expect(error.message).toContain('aborted');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['no data', {}],
    ['a string data', { data: 'call' }],
    ['a null data', { data: null }],
    ['an array of non-objects', { data: [1] }],
    ['a JSON array body', [CALL]],
    ['a JSON null body', null],
  ])('throws InvalidCallDataError on a 2xx with %s', async (_label, body) => {
    server.script(json(200, JSON.stringify(body)));

    const error = await rejectionOf(client().getCall(SESSION));

    expect(error).toBeInstanceOf(InvalidCallDataError);
    expect(error.name).toBe('InvalidCallDataError');
    expect(server.requests).toHaveLength(1);
  });

  it('never lets the API key, or any fragment of it, into an error message, stack, JSON or cause', async () => {
    const fragments = Array.from({ length: API_KEY.length - 7 }, (_, i) => API_KEY.slice(i, i + 8));
    const scenarios: { label: string; step?: Step; run?: () => Promise<unknown> }[] = [
      { label: 'auth', step: json(401, { error: { code: 'AUTH_ERR_APIKEY_NOT_FOUND', message: API_KEY } }) },
      { label: 'echoed code', step: json(503, { error: { code: `ERR ${API_KEY}` } }) },
      { label: 'rate limit', step: json(429, { error: { message: API_KEY } }) },
      { label: 'truncated', step: truncated(200, `{"data":{"key":"${API_KEY}`) },
      { label: 'not JSON', step: raw(200, `{"data":{"url":"https://h/r"},"sig":${API_KEY}}`) },
      { label: 'reset', step: destroy() },
      {
        label: 'timeout',
        step: hang(),
        run: () => client({ requestTimeoutMs: 100, maxAttempts: 1 }).getCall(SESSION),
      },
      { label: 'unexpected', step: raw(409, API_KEY), run: () => client().listCalls() },
      { label: 'bad key', run: () => client({ apiKey: `${API_KEY}\r\nx-injected: 1` }).getCall(SESSION) },
      {
        label: 'provider',
        run: () => client({ apiKey: () => Promise.reject(new Error('ssm down')) }).getCall(SESSION),
      },
    ];

    for (const { label, step, run = () => client().getCall(SESSION) } of scenarios) {
      if (step) server.script(step);
      const error = await rejectionOf(run());
      expect(error.name, label).toMatch(/^CometChat|^CallNotFound|^InvalidCallData/);
      const text = everythingIn(error);
      for (const fragment of fragments) expect(text, `${label}: ${fragment}`).not.toContain(fragment);
    }
  });
});

describe('createCometChatClient listCalls', () => {
  it('sends page, perPage and the filters as query parameters', async () => {
    server.script(json(200, { data: [], meta: { pagination: {} } }));

    await client().listCalls({
      page: 2,
      perPage: 50,
      filters: { status: 'ended', hasRecording: true, startedAt: 1700000000 },
    });

    expect(server.requests[0]?.url).toBe(
      '/v3/calls?page=2&perPage=50&status=ended&hasRecording=true&startedAt=1700000000',
    );
    expect(server.requests[0]?.headers.apikey).toBe(API_KEY);
  });

  it('uses the configured page parameter names and lets no filter override them', async () => {
    server.script(json(200, { data: [] }));

    await client({ pageParam: 'p', perPageParam: 'limit' }).listCalls({
      page: 3,
      perPage: 10,
      filters: { p: 9 },
    });

    expect(server.requests[0]?.url).toBe('/v3/calls?p=3&limit=10');
  });

  it('returns the calls and camelCased pagination', async () => {
    server.script(
      json(200, {
        data: [CALL, { sessionId: 'v1.us.2' }],
        meta: { pagination: { total: 120, count: 2, per_page: 2, current_page: 1, total_pages: 60 } },
      }),
    );

    const result = await client().listCalls({ page: 1, perPage: 2 });

    expect(result).toEqual({
      calls: [CALL, { sessionId: 'v1.us.2' }],
      pagination: { total: 120, count: 2, perPage: 2, currentPage: 1, totalPages: 60 },
    });
  });

  it('accepts numeric strings and leaves out per_page when CometChat does', async () => {
    server.script(
      json(200, {
        data: [],
        meta: { pagination: { total: '7', count: '0', current_page: '2', total_pages: '1' } },
      }),
    );

    const { pagination } = await client().listCalls();

    expect(pagination).toEqual({ total: 7, count: 0, currentPage: 2, totalPages: 1 });
    expect(pagination).not.toHaveProperty('perPage');
  });

  it('leaves out pagination fields that are missing or not counts, and ignores unknown fields', async () => {
    server.script(
      json(200, {
        data: [],
        meta: { pagination: { total: 'many', count: -1, per_page: 1.5, extra: 1 } },
        other: true,
      }),
    );

    const { pagination } = await client().listCalls();

    expect(pagination).toEqual({});
  });

  it('returns empty pagination when meta is absent', async () => {
    server.script(json(200, { data: [CALL] }));

    expect(await client().listCalls()).toEqual({ calls: [CALL], pagination: {} });
  });

  it('skips entries that are not objects', async () => {
    server.script(json(200, { data: [CALL, 'x', null, [1]] }));

    const { calls } = await client().listCalls();

    expect(calls).toEqual([CALL]);
  });

  it.each([
    ['no data', {}],
    ['an object data', { data: CALL }],
  ])('throws InvalidCallDataError on a 2xx with %s', async (_label, body) => {
    server.script(json(200, body));

    await expect(client().listCalls()).rejects.toBeInstanceOf(InvalidCallDataError);
  });

  it('does not treat a 404 as a missing call', async () => {
    server.script(raw(404, ''));

    await expect(client().listCalls()).rejects.toBeInstanceOf(CometChatUnavailableError);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['a 400 {}', json(400, {})],
    ['a 400 with a code', json(400, { error: { code: 'ERR_INVALID_FILTER' } })],
    ['a 422', json(422, {})],
  ])('throws CometChatRequestError after exactly one request on %s', async (_label, step) => {
    server.script(step, json(200, { data: [] }));

    await expect(client().listCalls()).rejects.toBeInstanceOf(CometChatRequestError);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('throws InvalidInputError for a page that is not a positive integer, without a request', async () => {
    await expect(client().listCalls({ page: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(client().listCalls({ perPage: 1.5 })).rejects.toBeInstanceOf(InvalidInputError);
    expect(server.requests).toHaveLength(0);
  });

  it('retries a 5xx like Get Call does', async () => {
    server.script(raw(500, ''), json(200, { data: [] }));

    await client().listCalls();

    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([125]);
  });
});
