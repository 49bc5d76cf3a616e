/**
 * A CometChat Calls API simulator over real HTTP (node:http), for `npm start` without real
 * credentials, the integration tests and the benchmarks. Not deployed.
 *
 * What it serves, and the assumptions it makes where CometChat's docs are silent:
 * - `GET /v3/calls/{sessionId}` and `GET /v3/calls` with the `apikey` header; 401 / 404 with
 *   CometChat's documented error codes (the statuses themselves are unconfirmed).
 * - List Calls takes `page` (default 1) and `perPage` (default 100, clamped to 1..1000) and
 *   exact-match filters (`LIST_FILTERS`); results are sorted by `initiatedAt`, newest first,
 *   then by session id. No order is documented: this one is an assumption. `total_pages` is 0
 *   when nothing matches. With `listWindowParams`, two parameters of the caller's naming act as
 *   inclusive bounds on `initiatedAt` (CometChat documents no such bounds). `onListCalls` lets a
 *   test change the calls between two page requests, as new calls do in production.
 * - Recording URLs are signed like CloudFront chat-media URLs (`Expires`, `Signature`,
 *   `Key-Pair-Id`) with a per-simulator secret, so a tampered or expired URL gets 403.
 *   The signature carries a random nonce, so every Get Call issues a new URL even within a second.
 * - Recording items follow the variant their `urlField` comes from: `recording_url` with
 *   `duration` in minutes (REST overview), `recordingUrl` with `duration` in seconds (SDK);
 *   `numbersAsStrings` renders numbers as the webhook does (`"21.433000"`) and adds `recordingDate`.
 *
 * It prints nothing, and never puts the API key or a signed query string in a response body.
 */
import { createCipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SAMPLE_API_KEY, SAMPLE_APP_ID } from './sample-calls.ts';

/** A recording of a simulated call; its URL is minted at request time. */
export interface SimulatedRecording {
  rid: string;
  bytes: number;
  /** Default `video/mp4`. */
  contentType?: string;
  /** Default `mp4`. */
  ext?: string;
  /** Unix seconds; default the call's `startedAt` (or `initiatedAt`). */
  startTime?: number;
  /** Unix seconds; default the call's `endedAt`. */
  endTime?: number;
  /** Which documented spelling carries the URL; default `recording_url`. */
  urlField?: 'recording_url' | 'recordingUrl';
  /** Render `startTime`, `endTime`, `duration` as numeric strings, webhook style. Default false. */
  numbersAsStrings?: boolean;
}

/** A call the simulator serves. */
export interface SimulatedCall {
  /** The call object as CometChat returns it, without `recordings` (built per request). */
  raw: Record<string, unknown>;
  recordings?: SimulatedRecording[];
  /** How Get Call wraps it: `{"data": call}` (default) or `{"data": [call]}`. */
  dataShape?: 'object' | 'array';
}

/** A one-shot misbehaviour of the API (Get Call / List Calls). */
export type Fault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'hang' };

/** A one-shot misbehaviour of the recording host. */
export type RecordingFault =
  | { kind: 'status'; status: number }
  | { kind: 'truncate'; afterBytes: number }
  | { kind: 'redirect'; location: string };

/** Which requests a queued API fault applies to. */
export interface FaultMatch {
  /** A session id: that Get Call; `'*'`: any Get Call. */
  sessionId?: string;
  /** List Calls. With neither field set, the fault applies to the next API request of any kind. */
  list?: boolean;
}

/** One line of the request log. `status` 0 means no HTTP answer (reset, hang). */
export interface SimulatorRequest {
  method: string;
  /** The path without its query string, so signed URLs leave no secret here. */
  path: string;
  status: number;
  kind: 'get-call' | 'list-calls' | 'recording' | 'other';
}

/** A running simulator. */
export interface CometChatSimulator {
  /** `http://127.0.0.1:<port>/v3`. */
  readonly baseUrl: string;
  /** `127.0.0.1:<port>`: what RECORDING_ALLOWED_HOSTS must list. */
  readonly recordingsHost: string;
  readonly appId: string;
  readonly apiKey: string;
  readonly region: 'us' | 'eu' | 'in';
  /** Adds a call, replacing any call with the same session id. */
  addCall(call: SimulatedCall): void;
  /** Merges fields into a call's raw object (e.g. status ongoing -> ended); `undefined` deletes. */
  updateCall(sessionId: string, raw: Partial<Record<string, unknown>>): void;
  removeCall(sessionId: string): void;
  /** Session ids in the order they were added. */
  sessionIds(): string[];
  /** Queues one-shot faults for the next API requests matching `match`, used in order. */
  failNext(match: FaultMatch, ...faults: Fault[]): void;
  /** Queues one-shot faults for the next downloads of recording `rid`, used in order. */
  failNextRecording(rid: string, ...faults: RecordingFault[]): void;
  /**
   * Calls `hook` before each List Calls page is built (after auth, faults and rate limits), so
   * it can add, update or remove calls mid-walk. `undefined` removes it.
   */
  onListCalls(hook: ((request: ListCallsRequest) => void) | undefined): void;
  /** Every request answered (or reset, or left hanging), oldest first. */
  readonly requests: ReadonlyArray<SimulatorRequest>;
  resetRequests(): void;
  /** Resolves once the log holds at least `count` entries (rejects if the simulator closes first). */
  waitForRequests(count: number): Promise<void>;
  /** Stops listening and destroys every socket, hanging and streaming ones included. */
  close(): Promise<void>;
}

/** Options for {@link startCometChatSimulator}. */
export interface CometChatSimulatorOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default {@link SAMPLE_APP_ID}. */
  appId?: string;
  /** Default {@link SAMPLE_API_KEY}. */
  apiKey?: string;
  /** Default `us`. */
  region?: 'us' | 'eu' | 'in';
  calls?: SimulatedCall[];
  /** Default true; when false, recording URLs carry no query string and are not checked. */
  signRecordingUrls?: boolean;
  /** Default 86 400 (CloudFront chat media's one day). */
  recordingUrlTtlSeconds?: number;
  /** When set, API requests beyond this many per clock minute get 429. */
  rateLimitPerMinute?: number;
  /** Header family on API answers when rate limiting: documented current (default) or legacy. */
  rateLimitHeaders?: 'X-RateLimit' | 'X-Rate-Limit';
  /** Milliseconds since the epoch; default `Date.now`. Lets tests expire URLs and rate windows. */
  clock?: () => number;
  /**
   * List Calls query parameters read as inclusive bounds (Unix seconds) on `initiatedAt`, e.g.
   * `{ from: 'initiatedAfter', to: 'initiatedBefore' }`. A parameter named here is not also an
   * exact-match filter. Default: none.
   */
  listWindowParams?: { from?: string; to?: string };
}

/** What a List Calls hook is told about the request about to be answered. */
export interface ListCallsRequest {
  page: number;
  perPage: number;
  /** The query parameters as sent. */
  query: Readonly<Record<string, string>>;
  /** List Calls requests answered before this one (since the hook was set). */
  answered: number;
}

/** List Calls query parameters matched exactly against the call's field (`uid`: any party). */
export const LIST_FILTERS = [
  'type',
  'mode',
  'status',
  'receiverType',
  'hasRecording',
  'startedAt',
  'endedAt',
  'uid',
] as const;

const KEY_PAIR_ID = 'SIM';
const NONCE_BYTES = 8;
const CHUNK_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK_BYTES);
const DEFAULT_PER_PAGE = 100;
const MAX_PER_PAGE = 1000;

/**
 * Deterministic recording content: AES-128-CTR keystream keyed by the rid, so byte i depends
 * only on (rid, i), any prefix of a longer recording is the shorter one, and it is fast enough
 * to stream gigabytes. Produced a chunk at a time, on demand, so backpressure bounds memory.
 */
export function recordingStream(rid: string, bytes: number): Readable {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError('bytes must be a non-negative integer');
  const seed = createHash('sha256').update(`cometchat-simulator recording ${rid}`).digest();
  const cipher = createCipheriv('aes-128-ctr', seed.subarray(0, 16), seed.subarray(16, 32));
  let remaining = bytes;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK_BYTES, remaining);
      remaining -= size;
      this.push(cipher.update(ZEROS.subarray(0, size)));
    },
  });
}

interface StoredCall {
  raw: Record<string, unknown>;
  recordings: SimulatedRecording[];
  dataShape: 'object' | 'array';
}

type Kind = SimulatorRequest['kind'];

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** CloudFront answers signed-URL failures with an XML document like this one. */
function cloudFrontError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function defaultFaultBody(status: number): unknown {
  if (status === 429) return errorBody('ERR_TOO_MANY_REQUESTS', 'Too many requests. Please retry later.');
  if (status === 401) return errorBody('AUTH_ERR_APIKEY_NOT_FOUND', 'The API key is not valid.');
  if (status === 403) return errorBody('AUTH_ERR_NO_ACCESS', 'The API key has no access to this resource.');
  if (status === 404) return errorBody('ERR_CALL_SESSION_NOT_FOUND', 'The call session does not exist.');
  return errorBody('ERR_INTERNAL', `Simulated failure (${status}).`);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function positiveInt(value: string | null, fallback: number): number {
  if (value === null || !/^\d+$/.test(value)) return fallback;
  const n = Number(value);
  return n >= 1 ? n : fallback;
}

/** CloudFront's URL-safe base64 alphabet. */
function cloudFrontBase64(buffer: Buffer): string {
  return buffer.toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
}

class Simulator implements CometChatSimulator {
  readonly baseUrl: string;
  readonly recordingsHost: string;
  readonly appId: string;
  readonly apiKey: string;
  readonly region: 'us' | 'eu' | 'in';
  readonly requests: SimulatorRequest[] = [];

  private readonly calls = new Map<string, StoredCall>();
  private readonly apiFaults = new Map<string, Fault[]>();
  private readonly recordingFaults = new Map<string, RecordingFault[]>();
  private readonly waiters = new Set<{ count: number; resolve: () => void; reject: (e: Error) => void }>();
  private readonly secret = randomBytes(32);
  private readonly sign: boolean;
  private readonly ttlSeconds: number;
  private readonly rateLimit: number | undefined;
  private readonly rateHeaders: 'X-RateLimit' | 'X-Rate-Limit';
  private readonly clock: () => number;
  private rateWindow = { start: -1, count: 0 };
  private closing: Promise<void> | undefined;
  private readonly windowParams: { from?: string; to?: string };
  private listHook: { hook: (request: ListCallsRequest) => void; answered: number } | undefined;

  constructor(
    private readonly server: ReturnType<typeof createServer>,
    private readonly sockets: Set<Socket>,
    port: number,
    options: CometChatSimulatorOptions,
  ) {
    this.recordingsHost = `127.0.0.1:${port}`;
    this.baseUrl = `http://${this.recordingsHost}/v3`;
    this.appId = options.appId ?? SAMPLE_APP_ID;
    this.apiKey = options.apiKey ?? SAMPLE_API_KEY;
    this.region = options.region ?? 'us';
    this.sign = options.signRecordingUrls ?? true;
    this.ttlSeconds = options.recordingUrlTtlSeconds ?? 86_400;
    this.rateLimit = options.rateLimitPerMinute;
    this.rateHeaders = options.rateLimitHeaders ?? 'X-RateLimit';
    this.clock = options.clock ?? Date.now;
    this.windowParams = { ...options.listWindowParams };
    for (const call of options.calls ?? []) this.addCall(call);
  }

  addCall(call: SimulatedCall): void {
    const sessionId = call.raw.sessionId;
    if (typeof sessionId !== 'string' || sessionId === '') {
      throw new TypeError('a simulated call needs raw.sessionId (a non-empty string)');
    }
    for (const recording of call.recordings ?? []) recordingStream(recording.rid, recording.bytes);
    this.calls.delete(sessionId);
    this.calls.set(sessionId, {
      raw: structuredClone(call.raw),
      recordings: structuredClone(call.recordings ?? []),
      dataShape: call.dataShape ?? 'object',
    });
  }

  updateCall(sessionId: string, raw: Partial<Record<string, unknown>>): void {
    const stored = this.calls.get(sessionId);
    if (!stored) throw new Error(`no simulated call ${sessionId}`);
    for (const [key, value] of Object.entries(raw)) {
      if (value === undefined) delete stored.raw[key];
      else stored.raw[key] = structuredClone(value);
    }
    if (typeof stored.raw.sessionId !== 'string' || stored.raw.sessionId !== sessionId) {
      stored.raw.sessionId = sessionId;
    }
  }

  removeCall(sessionId: string): void {
    this.calls.delete(sessionId);
  }

  sessionIds(): string[] {
    return [...this.calls.keys()];
  }

  failNext(match: FaultMatch, ...faults: Fault[]): void {
    if (match.list && match.sessionId !== undefined) throw new Error('match either list or a session id');
    const key = match.list ? 'list' : match.sessionId === undefined ? 'any' : `get:${match.sessionId}`;
    this.apiFaults.set(key, [...(this.apiFaults.get(key) ?? []), ...faults]);
  }

  failNextRecording(rid: string, ...faults: RecordingFault[]): void {
    this.recordingFaults.set(rid, [...(this.recordingFaults.get(rid) ?? []), ...faults]);
  }

  onListCalls(hook: ((request: ListCallsRequest) => void) | undefined): void {
    this.listHook = hook ? { hook, answered: 0 } : undefined;
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    if (this.closing) return Promise.reject(new Error('the simulator is closed'));
    return new Promise((resolve, reject) => this.waiters.add({ count, resolve, reject }));
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
      for (const waiter of this.waiters) waiter.reject(new Error('the simulator closed'));
      this.waiters.clear();
    });
    return this.closing;
  }

  /** Entry point for every request; never throws (a bug answers 500 rather than crashing a test run). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
    const method = req.method ?? 'GET';
    const log = (kind: Kind, status: number) => this.log({ method, path, status, kind });
    try {
      if (path.startsWith('/recordings/')) {
        this.handleRecording(req, res, path, query, log);
        return;
      }
      if (path === '/v3/calls' || path.startsWith('/v3/calls/')) {
        this.handleApi(req, res, path, query, log);
        return;
      }
      this.json(res, 404, errorBody('ERR_ROUTE_NOT_FOUND', 'No such route.'));
      log('other', 404);
    } catch {
      if (!res.headersSent) this.json(res, 500, errorBody('ERR_INTERNAL', 'Simulator error.'));
      else res.destroy();
      log('other', 500);
    }
  }

  private log(entry: SimulatorRequest): void {
    this.requests.push(entry);
    for (const waiter of this.waiters) {
      if (this.requests.length >= waiter.count) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  private json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type':
        typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  }

  private handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
    log: (kind: Kind, status: number) => void,
  ): void {
    const isList = path === '/v3/calls';
    const kind: Kind = isList ? 'list-calls' : 'get-call';
    const rawId = isList ? '' : path.slice('/v3/calls/'.length);
    if (rawId.includes('/')) {
      this.json(res, 404, errorBody('ERR_ROUTE_NOT_FOUND', 'No such route.'));
      log('other', 404);
      return;
    }
    let sessionId = '';
    try {
      sessionId = decodeURIComponent(rawId);
    } catch {
      this.json(res, 400, errorBody('ERR_BAD_REQUEST', 'The session id is not validly percent-encoded.'));
      log(kind, 400);
      return;
    }

    const fault = this.takeApiFault(isList, sessionId);
    if (fault) {
      this.applyApiFault(req, res, fault, (status) => log(kind, status));
      return;
    }
    if (req.method !== 'GET') {
      this.json(res, 405, errorBody('ERR_METHOD_NOT_ALLOWED', 'Only GET is supported.'), { allow: 'GET' });
      log(kind, 405);
      return;
    }
    const rateHeaders = this.rateLimitHeaders();
    if (rateHeaders.limited) {
      this.json(res, 429, defaultFaultBody(429), rateHeaders.headers);
      log(kind, 429);
      return;
    }
    const key = req.headers.apikey;
    if (key === undefined || key === '') {
      this.json(
        res,
        401,
        errorBody('AUTH_ERR_EMPTY_APIKEY', 'The apikey header is missing.'),
        rateHeaders.headers,
      );
      log(kind, 401);
      return;
    }
    if (!this.keyMatches(Array.isArray(key) ? key.join(',') : key)) {
      this.json(
        res,
        401,
        errorBody('AUTH_ERR_APIKEY_NOT_FOUND', 'The API key is not valid.'),
        rateHeaders.headers,
      );
      log(kind, 401);
      return;
    }
    if (isList) {
      this.json(res, 200, this.listCalls(query), rateHeaders.headers);
      log(kind, 200);
      return;
    }
    if (sessionId === '') {
      this.json(
        res,
        400,
        errorBody('ERR_EMPTY_CALL_SESSION_ID', 'The session id is empty.'),
        rateHeaders.headers,
      );
      log(kind, 400);
      return;
    }
    const stored = this.calls.get(sessionId);
    if (!stored) {
      this.json(
        res,
        404,
        errorBody('ERR_CALL_SESSION_NOT_FOUND', `The call session ${sessionId} does not exist.`),
        rateHeaders.headers,
      );
      log(kind, 404);
      return;
    }
    const call = this.render(sessionId, stored, this.issueExpires());
    this.json(res, 200, { data: stored.dataShape === 'array' ? [call] : call }, rateHeaders.headers);
    log(kind, 200);
  }

  private keyMatches(given: string): boolean {
    const a = createHash('sha256').update(given).digest();
    const b = createHash('sha256').update(this.apiKey).digest();
    return timingSafeEqual(a, b);
  }

  private takeApiFault(isList: boolean, sessionId: string): Fault | undefined {
    const keys = isList ? ['list', 'any'] : [`get:${sessionId}`, 'get:*', 'any'];
    for (const key of keys) {
      const queue = this.apiFaults.get(key);
      const fault = queue?.shift();
      if (queue?.length === 0) this.apiFaults.delete(key);
      if (fault) return fault;
    }
    return undefined;
  }

  private applyApiFault(
    req: IncomingMessage,
    res: ServerResponse,
    fault: Fault,
    log: (status: number) => void,
  ): void {
    if (fault.kind === 'reset') {
      req.socket.destroy();
      log(0);
      return;
    }
    if (fault.kind === 'hang') {
      // Never answered: close() destroys the socket.
      log(0);
      return;
    }
    const headers: Record<string, string> = fault.status === 429 ? { 'retry-after': '1' } : {};
    // Header names are case-insensitive: lower-case the overrides so they replace the defaults.
    for (const [name, value] of Object.entries(fault.headers ?? {})) headers[name.toLowerCase()] = value;
    this.json(res, fault.status, fault.body ?? defaultFaultBody(fault.status), headers);
    log(fault.status);
  }

  /** A fixed one-minute window on the clock, as CometChat's per-minute limits describe. */
  private rateLimitHeaders(): { limited: boolean; headers: Record<string, string> } {
    if (this.rateLimit === undefined) return { limited: false, headers: {} };
    const nowSeconds = Math.floor(this.clock() / 1000);
    const start = nowSeconds - (nowSeconds % 60);
    if (start !== this.rateWindow.start) this.rateWindow = { start, count: 0 };
    this.rateWindow.count += 1;
    const limited = this.rateWindow.count > this.rateLimit;
    const reset = start + 60;
    const prefix = this.rateHeaders;
    const headers: Record<string, string> = {
      [prefix === 'X-RateLimit' ? 'X-RateLimit-Limit' : 'X-Rate-Limit']: String(this.rateLimit),
      [`${prefix}-Remaining`]: String(Math.max(0, this.rateLimit - this.rateWindow.count)),
      [`${prefix}-Reset`]: String(reset),
    };
    if (limited) headers['Retry-After'] = String(Math.max(1, reset - nowSeconds));
    return { limited, headers };
  }

  private listCalls(query: URLSearchParams): unknown {
    const page = positiveInt(query.get('page'), 1);
    const perPage = Math.min(positiveInt(query.get('perPage'), DEFAULT_PER_PAGE), MAX_PER_PAGE);
    if (this.listHook) {
      const { hook, answered } = this.listHook;
      this.listHook.answered += 1;
      hook({ page, perPage, query: Object.fromEntries(query), answered });
    }
    const bounds = Object.values(this.windowParams);
    const filters = LIST_FILTERS.flatMap((name) => {
      const value = query.get(name);
      return value === null || bounds.includes(name) ? [] : [[name, value] as const];
    });
    const from = this.bound(query, this.windowParams.from);
    const to = this.bound(query, this.windowParams.to);
    const matching = [...this.calls.entries()]
      .filter(([, stored]) => filters.every(([name, value]) => matchesFilter(stored.raw, name, value)))
      .filter(([, stored]) => {
        if (from === undefined && to === undefined) return true;
        const initiatedAt = toNumber(stored.raw.initiatedAt);
        if (initiatedAt === undefined) return false;
        return (from === undefined || initiatedAt >= from) && (to === undefined || initiatedAt <= to);
      })
      .sort(
        ([aId, a], [bId, b]) =>
          (toNumber(b.raw.initiatedAt) ?? 0) - (toNumber(a.raw.initiatedAt) ?? 0) || (aId < bId ? -1 : 1),
      );
    const slice = matching.slice((page - 1) * perPage, page * perPage);
    const expires = this.issueExpires();
    return {
      data: slice.map(([sessionId, stored]) => this.render(sessionId, stored, expires)),
      meta: {
        pagination: {
          total: matching.length,
          count: slice.length,
          per_page: perPage,
          current_page: page,
          total_pages: Math.ceil(matching.length / perPage),
        },
      },
    };
  }

  /** The value of a window-bound parameter, when it is configured and sent as a number. */
  private bound(query: URLSearchParams, name: string | undefined): number | undefined {
    const value = name === undefined ? null : query.get(name);
    return value === null ? undefined : toNumber(value);
  }

  private issueExpires(): number {
    return Math.floor(this.clock() / 1000) + this.ttlSeconds;
  }

  private render(sessionId: string, stored: StoredCall, expires: number): Record<string, unknown> {
    const call = structuredClone(stored.raw);
    if (stored.recordings.length > 0) {
      call.recordings = stored.recordings.map((recording) =>
        this.renderRecording(sessionId, stored, recording, expires),
      );
    }
    return call;
  }

  private renderRecording(
    sessionId: string,
    stored: StoredCall,
    recording: SimulatedRecording,
    expires: number,
  ): Record<string, unknown> {
    const startTime =
      recording.startTime ?? toNumber(stored.raw.startedAt) ?? toNumber(stored.raw.initiatedAt);
    const endTime = recording.endTime ?? toNumber(stored.raw.endedAt);
    const urlField = recording.urlField ?? 'recording_url';
    const seconds = startTime !== undefined && endTime !== undefined ? endTime - startTime : undefined;
    const duration =
      seconds === undefined ? undefined : urlField === 'recording_url' ? seconds / 60 : seconds;
    const item: Record<string, unknown> = {
      rid: recording.rid,
      [urlField]: this.recordingUrl(sessionId, recording, expires),
    };
    const asString = recording.numbersAsStrings === true;
    if (startTime !== undefined) item.startTime = asString ? String(startTime) : startTime;
    if (endTime !== undefined) item.endTime = asString ? String(endTime) : endTime;
    if (duration !== undefined) item.duration = asString ? duration.toFixed(6) : duration;
    if (asString && startTime !== undefined) {
      item.recordingDate = new Date(startTime * 1000).toISOString().slice(0, 10);
    }
    return item;
  }

  private recordingPath(sessionId: string, recording: SimulatedRecording): string {
    const ext = encodeURIComponent(recording.ext ?? 'mp4');
    return `/recordings/${encodeURIComponent(sessionId)}/${encodeURIComponent(recording.rid)}.${ext}`;
  }

  private recordingUrl(sessionId: string, recording: SimulatedRecording, expires: number): string {
    const path = this.recordingPath(sessionId, recording);
    const url = `http://${this.recordingsHost}${path}`;
    if (!this.sign) return url;
    const nonce = randomBytes(NONCE_BYTES);
    const signature = cloudFrontBase64(Buffer.concat([nonce, this.mac(path, expires, nonce)]));
    return `${url}?Expires=${expires}&Signature=${signature}&Key-Pair-Id=${KEY_PAIR_ID}`;
  }

  private mac(path: string, expires: number | string, nonce: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(`${path}\n${expires}\n`).update(nonce).digest();
  }

  /** Why a recording request is refused, or undefined when its signature holds and has not expired. */
  private signatureProblem(path: string, query: URLSearchParams): string | undefined {
    if (!this.sign) return undefined;
    const expires = query.get('Expires');
    const signature = query.get('Signature');
    if (expires === null || signature === null || query.get('Key-Pair-Id') !== KEY_PAIR_ID) {
      return 'Missing Key-Pair-Id query parameter or cookie value';
    }
    if (!/^\d{1,12}$/.test(expires)) return 'Access denied';
    const raw = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
    // Node's base64 decoder skips characters it does not know; re-encoding catches those edits.
    if (raw.length !== NONCE_BYTES + 32 || cloudFrontBase64(raw) !== signature) return 'Access denied';
    const expected = this.mac(path, expires, raw.subarray(0, NONCE_BYTES));
    if (!timingSafeEqual(expected, raw.subarray(NONCE_BYTES))) return 'Access denied';
    if (Number(expires) <= Math.floor(this.clock() / 1000)) return 'Access denied';
    return undefined;
  }

  private handleRecording(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
    log: (kind: Kind, status: number) => void,
  ): void {
    const xml = (status: number, code: string, message: string) => {
      const body = cloudFrontError(code, message);
      res.writeHead(status, {
        'content-type': 'text/xml',
        'content-length': String(Buffer.byteLength(body)),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      log('recording', status);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      xml(405, 'MethodNotAllowed', 'Only GET and HEAD are supported');
      return;
    }
    const problem = this.signatureProblem(path, query);
    if (problem) {
      xml(403, 'AccessDenied', problem);
      return;
    }
    const found = this.findRecording(path);
    if (!found) {
      xml(404, 'NoSuchKey', 'The specified key does not exist.');
      return;
    }
    const { recording } = found;
    const queue = this.recordingFaults.get(recording.rid);
    const fault = queue?.shift();
    if (queue?.length === 0) this.recordingFaults.delete(recording.rid);
    if (fault?.kind === 'status') {
      xml(fault.status, fault.status === 403 ? 'AccessDenied' : 'SimulatedFailure', 'Simulated failure');
      return;
    }
    if (fault?.kind === 'redirect') {
      res.writeHead(302, { location: fault.location, 'content-length': '0' });
      res.end();
      log('recording', 302);
      return;
    }
    res.writeHead(200, {
      'content-type': recording.contentType ?? 'video/mp4',
      'content-length': String(recording.bytes),
    });
    log('recording', 200);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (fault?.kind === 'truncate') {
      this.streamTruncated(res, recording, fault.afterBytes);
      return;
    }
    // A client that goes away mid-stream is normal here; pipeline tears the source down.
    pipeline(recordingStream(recording.rid, recording.bytes), res).catch(() => {});
  }

  private findRecording(path: string): { recording: SimulatedRecording } | undefined {
    const match = /^\/recordings\/([^/]+)\/([^/]+)$/.exec(path);
    if (!match?.[1] || !match[2]) return undefined;
    const sessionId = safeDecode(match[1]);
    if (sessionId === undefined) return undefined;
    const stored = this.calls.get(sessionId);
    if (!stored) return undefined;
    const recording = stored.recordings.find((r) => this.recordingPath(sessionId, r) === path);
    return recording ? { recording } : undefined;
  }

  /** Full Content-Length promised, `afterBytes` delivered, then the connection is cut. */
  private streamTruncated(res: ServerResponse, recording: SimulatedRecording, afterBytes: number): void {
    const socket = res.socket;
    const source = recordingStream(recording.rid, Math.max(0, Math.min(afterBytes, recording.bytes)));
    res.on('close', () => source.destroy());
    source.pipe(res, { end: false });
    source.on('end', () => {
      if (!socket) return;
      // end() flushes what was written before the FIN; destroy once it has gone.
      socket.once('finish', () => socket.destroy());
      socket.end();
    });
  }
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function matchesFilter(raw: Record<string, unknown>, name: string, value: string): boolean {
  if (name === 'uid') {
    if (raw.initiator === value || raw.receiver === value) return true;
    const participants = Array.isArray(raw.participants) ? raw.participants : [];
    return participants.some(
      (p) => typeof p === 'object' && p !== null && (p as { uid?: unknown }).uid === value,
    );
  }
  const field = raw[name];
  return field !== undefined && field !== null && String(field) === value;
}

/** Starts the simulator on 127.0.0.1 (ephemeral port unless `port` is given). */
export async function startCometChatSimulator(
  options: CometChatSimulatorOptions = {},
): Promise<CometChatSimulator> {
  const sockets = new Set<Socket>();
  let simulator: Simulator | undefined;
  const server = createServer((req, res) => {
    if (simulator) simulator.handle(req, res);
    else res.destroy();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  try {
    simulator = new Simulator(server, sockets, port, options);
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  return simulator;
}
