/**
 * The Calls API: `GET /v3/calls/{sessionId}` (Get Call) and `GET /v3/calls` (List Calls), with
 * the `apikey` header, per-minute rate limits and the fault script. Where CometChat's docs are
 * silent (see api-facts.md), the assumptions are:
 * - 401 / 404 / 429 carry the documented error codes (the statuses themselves are unconfirmed).
 * - List Calls takes `page` (default 1) and `perPage` (default 100, clamped to 1..1000) and
 *   exact-match filters (`LIST_FILTERS`); results are sorted by `initiatedAt`, newest first, then
 *   by session id (no order is documented). `total_pages` is 0 when nothing matches. With
 *   `listWindowParams`, two parameters of the caller's naming bound `initiatedAt` inclusively.
 * - Recording items follow the variant their `urlField` comes from: `recording_url` with
 *   `duration` in minutes (REST overview), `recordingUrl` with `duration` in seconds (SDK);
 *   `numbersAsStrings` renders numbers as the webhook does (`"21.433000"`) and adds `recordingDate`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallRegistry, StoredCall, StoredRecording, StoredTranscript } from './calls.ts';
import { ApiFaults, type Fault, type FaultMatch } from './faults.ts';
import type { RecordingHost } from './recording-host.ts';
import type { RequestLog, SimulatorRequest } from './request-log.ts';

/**
 * List Calls query parameters matched exactly against the call's field (`uid`: any party;
 * `hasTranscription`: whether a transcript exists yet).
 */
export const LIST_FILTERS = [
  'type',
  'mode',
  'status',
  'receiverType',
  'hasRecording',
  'hasTranscription',
  'startedAt',
  'endedAt',
  'uid',
] as const;

/** What a List Calls hook is told about the request about to be answered. */
export interface ListCallsRequest {
  page: number;
  perPage: number;
  /** The query parameters as sent. */
  query: Readonly<Record<string, string>>;
  /** List Calls requests answered before this one (since the hook was set). */
  answered: number;
}

/** How the API is set up. */
export interface ApiOptions {
  apiKey: string;
  /** Default 86 400 (CloudFront chat media's one day). */
  recordingUrlTtlSeconds: number;
  rateLimitPerMinute: number | undefined;
  rateLimitHeaders: 'X-RateLimit' | 'X-Rate-Limit';
  clock: () => number;
  listWindowParams: { from?: string; to?: string };
}

const DEFAULT_PER_PAGE = 100;
const MAX_PER_PAGE = 1000;

type Kind = SimulatorRequest['kind'];

/** CometChat's error envelope. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** A JSON (or, for a string body, plain-text) answer with its length. */
export function json(
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

function defaultFaultBody(status: number): unknown {
  if (status === 429) return errorBody('ERR_TOO_MANY_REQUESTS', 'Too many requests. Please retry later.');
  if (status === 401) return errorBody('AUTH_ERR_APIKEY_NOT_FOUND', 'The API key is not valid.');
  if (status === 403) return errorBody('AUTH_ERR_NO_ACCESS', 'The API key has no access to this resource.');
  if (status === 404) return errorBody('ERR_CALL_SESSION_NOT_FOUND', 'The call session does not exist.');
  return errorBody('ERR_INTERNAL', `Simulated failure (${status}).`);
}

/** The Calls API over the calls in `registry`, minting recording URLs on `host`. */
export class CallsApi {
  private readonly faults = new ApiFaults();
  private rateWindow = { start: -1, count: 0 };
  private listHook: { hook: (request: ListCallsRequest) => void; answered: number } | undefined;

  constructor(
    private readonly registry: CallRegistry,
    private readonly host: RecordingHost,
    private readonly log: RequestLog,
    private readonly options: ApiOptions,
  ) {}

  fail(match: FaultMatch, faults: readonly Fault[]): void {
    this.faults.add(match, faults);
  }

  onListCalls(hook: ((request: ListCallsRequest) => void) | undefined): void {
    this.listHook = hook ? { hook, answered: 0 } : undefined;
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    const method = req.method ?? 'GET';
    const log = (kind: Kind, status: number) => this.log.add({ method, path, status, kind });
    const isList = path === '/v3/calls';
    // GET /v3/calls/{sessionId}/transcriptions: a call's transcripts, page by page.
    const transcriptions = !isList && /^\/v3\/calls\/[^/]+\/transcriptions$/.test(path);
    const kind: Kind = isList ? 'list-calls' : transcriptions ? 'list-transcriptions' : 'get-call';
    const rawId = isList
      ? ''
      : path.slice('/v3/calls/'.length, transcriptions ? -'/transcriptions'.length : undefined);
    if (rawId.includes('/')) {
      json(res, 404, errorBody('ERR_ROUTE_NOT_FOUND', 'No such route.'));
      log('other', 404);
      return;
    }
    let sessionId = '';
    try {
      sessionId = decodeURIComponent(rawId);
    } catch {
      json(res, 400, errorBody('ERR_BAD_REQUEST', 'The session id is not validly percent-encoded.'));
      log(kind, 400);
      return;
    }
    const answer = (status: number, body: unknown, headers?: Record<string, string>) => {
      json(res, status, body, headers);
      log(kind, status);
    };

    const fault = transcriptions
      ? undefined
      : this.faults.take(isList ? { list: true } : { list: false, sessionId });
    if (fault) {
      this.applyFault(req, fault, answer, () => log(kind, 0));
      return;
    }
    if (method !== 'GET') {
      answer(405, errorBody('ERR_METHOD_NOT_ALLOWED', 'Only GET is supported.'), { allow: 'GET' });
      return;
    }
    const rate = this.rateLimit();
    if (rate.limited) {
      answer(429, defaultFaultBody(429), rate.headers);
      return;
    }
    const key = req.headers.apikey;
    if (key === undefined || key === '') {
      answer(401, errorBody('AUTH_ERR_EMPTY_APIKEY', 'The apikey header is missing.'), rate.headers);
      return;
    }
    if (!this.keyMatches(Array.isArray(key) ? key.join(',') : key)) {
      answer(401, errorBody('AUTH_ERR_APIKEY_NOT_FOUND', 'The API key is not valid.'), rate.headers);
      return;
    }
    if (isList) {
      answer(200, this.listCalls(query), rate.headers);
      return;
    }
    if (sessionId === '') {
      answer(400, errorBody('ERR_EMPTY_CALL_SESSION_ID', 'The session id is empty.'), rate.headers);
      return;
    }
    const stored = this.registry.get(sessionId);
    if (!stored) {
      const message = `The call session ${sessionId} does not exist.`;
      answer(404, errorBody('ERR_CALL_SESSION_NOT_FOUND', message), rate.headers);
      return;
    }
    if (transcriptions) {
      answer(200, this.listTranscriptions(sessionId, stored, query), rate.headers);
      return;
    }
    const call = this.render(sessionId, stored, this.expiresAt());
    answer(200, { data: stored.dataShape === 'array' ? [call] : call }, rate.headers);
  }

  /** Newest first, `page` (default 1) and `perPage` (default 100, at most 1000), as documented. */
  private listTranscriptions(sessionId: string, stored: StoredCall, query: URLSearchParams): unknown {
    const page = positiveInt(query.get('page'), 1);
    const perPage = Math.min(positiveInt(query.get('perPage'), DEFAULT_PER_PAGE), MAX_PER_PAGE);
    const all = this.registry.availableTranscripts(stored, this.options.clock());
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const expires = this.expiresAt();
    return {
      data: slice.map((t) => this.renderTranscript(sessionId, t, expires)),
      meta: {
        pagination: {
          total: all.length,
          count: slice.length,
          per_page: perPage,
          current_page: page,
          total_pages: Math.ceil(all.length / perPage),
        },
      },
    };
  }

  private renderTranscript(
    sessionId: string,
    transcript: StoredTranscript,
    expires: number,
  ): Record<string, unknown> {
    const item: Record<string, unknown> = {
      [transcript.urlField ?? 'transcriptUrl']:
        transcript.url ?? this.host.transcriptUrl(sessionId, transcript, expires),
    };
    if (transcript.tid !== undefined) item.tid = transcript.tid;
    if (transcript.startTime !== undefined) {
      item.startTime = transcript.startTime;
      item.transcriptDate = new Date(transcript.startTime * 1000).toISOString();
    }
    if (transcript.endTime !== undefined) item.endTime = transcript.endTime;
    return item;
  }

  private keyMatches(given: string): boolean {
    const a = createHash('sha256').update(given).digest();
    const b = createHash('sha256').update(this.options.apiKey).digest();
    return timingSafeEqual(a, b);
  }

  private applyFault(
    req: IncomingMessage,
    fault: Fault,
    answer: (status: number, body: unknown, headers: Record<string, string>) => void,
    unanswered: () => void,
  ): void {
    if (fault.kind === 'reset') {
      req.socket.destroy();
      unanswered();
      return;
    }
    if (fault.kind === 'hang') {
      // Never answered: close() destroys the socket.
      unanswered();
      return;
    }
    const headers: Record<string, string> = fault.status === 429 ? { 'retry-after': '1' } : {};
    // Header names are case-insensitive: lower-case the overrides so they replace the defaults.
    for (const [name, value] of Object.entries(fault.headers ?? {})) headers[name.toLowerCase()] = value;
    answer(fault.status, fault.body ?? defaultFaultBody(fault.status), headers);
  }

  /** A fixed one-minute window on the clock, as CometChat's per-minute limits describe. */
  private rateLimit(): { limited: boolean; headers: Record<string, string> } {
    const limit = this.options.rateLimitPerMinute;
    if (limit === undefined) return { limited: false, headers: {} };
    const nowSeconds = Math.floor(this.options.clock() / 1000);
    const start = nowSeconds - (nowSeconds % 60);
    if (start !== this.rateWindow.start) this.rateWindow = { start, count: 0 };
    this.rateWindow.count += 1;
    const limited = this.rateWindow.count > limit;
    const reset = start + 60;
    const prefix = this.options.rateLimitHeaders;
    const headers: Record<string, string> = {
      [prefix === 'X-RateLimit' ? 'X-RateLimit-Limit' : 'X-Rate-Limit']: String(limit),
      [`${prefix}-Remaining`]: String(Math.max(0, limit - this.rateWindow.count)),
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
    const window = this.options.listWindowParams;
    const bounds = Object.values(window);
    const filters = LIST_FILTERS.flatMap((name) => {
      const value = query.get(name);
      return value === null || bounds.includes(name) ? [] : [[name, value] as const];
    });
    const from = bound(query, window.from);
    const to = bound(query, window.to);
    const matching = this.registry
      .entries()
      .filter(([, stored]) =>
        filters.every(([name, value]) =>
          name === 'hasTranscription'
            ? String(this.registry.availableTranscripts(stored, this.options.clock()).length > 0) === value
            : matchesFilter(stored.raw, name, value),
        ),
      )
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
    const expires = this.expiresAt();
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

  private expiresAt(): number {
    return Math.floor(this.options.clock() / 1000) + this.options.recordingUrlTtlSeconds;
  }

  private render(sessionId: string, stored: StoredCall, expires: number): Record<string, unknown> {
    const call = structuredClone(stored.raw);
    const transcripts = this.registry.availableTranscripts(stored, this.options.clock());
    // Get Call holds at most the 5 newest; the flag says whether any exists yet.
    if (transcripts.length > 0) {
      call.transcriptions = transcripts.slice(0, 5).map((t) => this.renderTranscript(sessionId, t, expires));
    }
    if (stored.transcripts.length > 0 && call.hasTranscription === undefined) {
      call.hasTranscription = transcripts.length > 0;
    }
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
    recording: StoredRecording,
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
      [urlField]: this.host.url(sessionId, recording, expires),
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
}

/** The value of a window-bound parameter, when it is configured and sent as a number. */
function bound(query: URLSearchParams, name: string | undefined): number | undefined {
  const value = name === undefined ? null : query.get(name);
  return value === null ? undefined : toNumber(value);
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
