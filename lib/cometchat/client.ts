/**
 * The CometChat Calls REST client: Get Call and List Calls over fetch, with a timeout per
 * attempt, full-jitter retries that honour the waits CometChat asks for, an overall deadline,
 * and every failure turned into one of the contract's errors. Messages name the operation, the
 * status, CometChat's error code and the attempt count; never the API key or any response text.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { backoffDelayMs } from '../backoff.ts';
import { parseSessionId } from '../calls/session-id.ts';
import {
  CallNotFoundError,
  CometChatAuthError,
  CometChatRateLimitError,
  CometChatRequestError,
  CometChatUnavailableError,
  ConfigError,
  EnrichmentError,
  InvalidCallDataError,
  InvalidInputError,
} from '../errors.ts';
import { requiredWaitMs } from './retry.ts';
import type {
  CometChatClient,
  CometChatClientOptions,
  ListCallsResult,
  ListTranscriptionsResult,
  Pagination,
  RawCall,
  RequestOptions,
} from './types.ts';

export type {
  CometChatClient,
  CometChatClientOptions,
  ListCallsParams,
  ListCallsResult,
  ListTranscriptionsResult,
  Pagination,
  RawCall,
  RequestOptions,
} from './types.ts';

const DEFAULTS = {
  requestTimeoutMs: 5000,
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  maxServerWaitMs: 60_000,
  pageParam: 'page',
  perPageParam: 'perPage',
} as const;

/** An attempt with less time than this before the deadline could not finish, so none starts. */
const MIN_ATTEMPT_MS = 100;
/**
 * Only codes shaped like CometChat's (`ERR_…`) or Node's (`ECONNRESET`) reach a message: a
 * free-form field could echo anything, the key included.
 */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Printable ASCII only: fetch's own complaint about a bad header value would quote the value. */
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

interface Operation {
  /** Names the call in messages: `Get Call for session "…"`, `List Calls page 2`. */
  label: string;
  url: string;
  /**
   * Get Call's only documented error is `400 {}`: there a 404, or a 400 naming no error code,
   * means "no such session".
   */
  isGetCall: boolean;
}

/** A failed attempt that another attempt might fix. */
interface Failure {
  /** What went wrong, for messages: `HTTP 503 ERR_X`, `timed out after 5000 ms`, … */
  what: string;
  rateLimited: boolean;
  /** The least wait the server asked for, if it did. */
  waitMs: number | undefined;
  cause: unknown;
}

type Outcome = { ok: true; body: Record<string, unknown> } | { ok: false; failure: Failure };

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return isObject(value) && !Array.isArray(value);
}

function quote(sessionId: string): string {
  return JSON.stringify(sessionId.length > 256 ? `${sessionId.slice(0, 256)}…` : sessionId);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** CometChat's `{"error":{"code":…}}`, read defensively; `undefined` unless it looks like a code. */
function errorCodeOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const code = isRecord(body.error) ? body.error.code : body.code;
  return typeof code === 'string' && CODE.test(code) ? code : undefined;
}

/** Whether the body names an error code at all, printable or not (a bare `{}` names none). */
function namesErrorCode(body: unknown): boolean {
  if (!isRecord(body)) return false;
  const code = isRecord(body.error) ? body.error.code : body.code;
  return code !== undefined && code !== null && code !== '';
}

/** The errno-style code somewhere in a fetch failure's cause chain (`ECONNRESET`, `UND_ERR_SOCKET`). */
function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isObject(current); depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CODE.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A count CometChat sent as a number or a numeric string; anything else is treated as absent. */
function count(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function paginationFrom(meta: unknown): Pagination {
  const raw = isRecord(meta) && isRecord(meta.pagination) ? meta.pagination : {};
  const fields: [keyof Pagination, unknown][] = [
    ['total', raw.total],
    ['count', raw.count],
    ['perPage', raw.per_page ?? raw.perPage],
    ['currentPage', raw.current_page ?? raw.currentPage],
    ['totalPages', raw.total_pages ?? raw.totalPages],
  ];
  const pagination: Pagination = {};
  for (const [name, value] of fields) {
    const n = count(value);
    if (n !== undefined) pagination[name] = n;
  }
  return pagination;
}

function pageNumber(name: string, value: number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError(`List Calls ${name} must be a positive integer`);
  }
  return String(value);
}

/** Builds the client; options are checked here so a misconfiguration fails at start-up. */
export function createCometChatClient(options: CometChatClientOptions): CometChatClient {
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch (cause) {
    throw new ConfigError('CometChat base URL is not a URL', { cause });
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new ConfigError('CometChat base URL must be an http(s) URL');
  }
  if (options.onBehalfOf !== undefined && !HEADER_VALUE.test(options.onBehalfOf)) {
    throw new ConfigError('onBehalfOf must be a non-empty printable ASCII uid');
  }
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const requestTimeoutMs = positive(options.requestTimeoutMs, DEFAULTS.requestTimeoutMs);
  const maxAttempts = Math.max(1, Math.floor(positive(options.maxAttempts, DEFAULTS.maxAttempts)));
  const baseDelayMs = positive(options.baseDelayMs, DEFAULTS.baseDelayMs);
  const maxDelayMs = positive(options.maxDelayMs, DEFAULTS.maxDelayMs);
  const maxServerWaitMs = positive(options.maxServerWaitMs, DEFAULTS.maxServerWaitMs);
  const pageParam = options.pageParam ?? DEFAULTS.pageParam;
  const perPageParam = options.perPageParam ?? DEFAULTS.perPageParam;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => sleepFor(ms, undefined, { signal }));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;

  async function resolveApiKey(op: Operation): Promise<string> {
    let key: unknown = options.apiKey;
    if (typeof options.apiKey === 'function') {
      try {
        key = await options.apiKey();
      } catch (cause) {
        if (cause instanceof EnrichmentError) throw cause;
        throw new CometChatUnavailableError(`${op.label}: could not obtain the API key`, { cause });
      }
    }
    // A key pasted into SSM often carries a trailing newline.
    const trimmed = typeof key === 'string' ? key.trim() : '';
    if (trimmed === '') throw new CometChatAuthError(`${op.label}: the API key is empty`);
    if (!HEADER_VALUE.test(trimmed)) {
      throw new CometChatAuthError(`${op.label}: the API key holds characters a header cannot carry`);
    }
    return trimmed;
  }

  function aborted(op: Operation, attempts: number, cause: unknown): CometChatUnavailableError {
    return new CometChatUnavailableError(`${op.label} was aborted after ${plural(attempts, 'attempt')}`, {
      cause,
    });
  }

  function giveUp(op: Operation, attempts: number, last: Failure | undefined, why?: string): Error {
    if (last === undefined) {
      return new CometChatUnavailableError(`${op.label} was not attempted: ${why ?? 'no time left'}`);
    }
    const tail = `after ${plural(attempts, 'attempt')}${why ? ` (${why})` : ''}`;
    if (last.rateLimited) {
      const retryAfterSeconds = last.waitMs === undefined ? undefined : Math.ceil(last.waitMs / 1000);
      const hint = retryAfterSeconds === undefined ? '' : `; retry after ${retryAfterSeconds} s`;
      return new CometChatRateLimitError(`${op.label} was rate limited (${last.what}) ${tail}${hint}`, {
        cause: last.cause,
        retryAfterSeconds,
      });
    }
    return new CometChatUnavailableError(`${op.label} failed (${last.what}) ${tail}`, { cause: last.cause });
  }

  function retryable(
    what: string,
    rateLimited: boolean,
    waitMs: number | undefined,
    cause?: unknown,
  ): Outcome {
    return { ok: false, failure: { what, rateLimited, waitMs, cause: cause ?? new Error(what) } };
  }

  /** Maps one response to its body, a retryable failure, or (thrown) a permanent error. */
  function classify(op: Operation, attempt: number, response: Response, text: string): Outcome {
    const { status } = response;
    const body = parseJson(text);
    const code = errorCodeOf(body);
    const what = `HTTP ${status}${code ? ` ${code}` : ''}`;
    const at = `on attempt ${attempt}`;
    if (status >= 200 && status < 300) {
      if (body === undefined) {
        // A cut-off body parses as nothing; the parser's own message would quote the body.
        return retryable(
          `HTTP ${status} with a body that is not JSON (${plural(text.length, 'char')})`,
          false,
          undefined,
        );
      }
      if (!isRecord(body)) {
        throw new InvalidCallDataError(`${op.label}: HTTP ${status} body is not a JSON object ${at}`);
      }
      // Some gateways answer 200 with an error envelope: judge it by its code.
      if (!('data' in body) && code !== undefined) return classifyError(op, at, response, body, code, what);
      return { ok: true, body };
    }
    return classifyError(op, at, response, body, code, what);
  }

  function classifyError(
    op: Operation,
    at: string,
    response: Response,
    body: unknown,
    code: string | undefined,
    what: string,
  ): Outcome {
    const { status } = response;
    if (status === 401 || status === 403 || code?.startsWith('AUTH_')) {
      throw new CometChatAuthError(`${op.label} was refused: ${what} ${at}`);
    }
    if (status === 429 || code === 'ERR_TOO_MANY_REQUESTS') {
      return retryable(what, true, requiredWaitMs(response.headers, now(), true));
    }
    if (code === 'ERR_EMPTY_CALL_SESSION_ID') {
      throw new InvalidInputError(`${op.label}: CometChat says the session id is empty (${what}) ${at}`);
    }
    if (
      code === 'ERR_CALL_SESSION_NOT_FOUND' ||
      (op.isGetCall && (status === 404 || (status === 400 && !namesErrorCode(body))))
    ) {
      throw new CallNotFoundError(`${op.label}: CometChat has no such call (${what}) ${at}`);
    }
    // 408 is CometChat timing out on us, as retryable as our own timeouts.
    if (status >= 500 || status === 408) {
      return retryable(what, false, requiredWaitMs(response.headers, now(), false));
    }
    // Any other 4xx but 404 refuses the request itself: the same request would be refused again.
    if (status >= 400 && status < 500 && status !== 404) {
      throw new CometChatRequestError(`${op.label} was refused: ${what} ${at}`);
    }
    throw new CometChatUnavailableError(`${op.label} failed: unexpected ${what} ${at}`);
  }

  async function attemptOnce(
    op: Operation,
    headers: Record<string, string>,
    attempt: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException(`no complete response within ${timeoutMs} ms`, 'TimeoutError')),
      timeoutMs,
    );
    const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    let response: Response | undefined;
    let text: string;
    try {
      // A redirect would carry the apikey header to wherever it points; CometChat does not redirect.
      response = await fetchImpl(op.url, { method: 'GET', headers, signal: combined, redirect: 'manual' });
      text = await response.text();
    } catch (cause) {
      if (signal?.aborted) throw aborted(op, attempt, signal.reason);
      const stage = response ? ' while reading the body' : '';
      if (timeout.signal.aborted) {
        return retryable(`timed out after ${timeoutMs} ms${stage}`, false, undefined, cause);
      }
      const networkCode = networkCodeOf(cause);
      return retryable(
        `network error${networkCode ? ` ${networkCode}` : ''}${stage}`,
        false,
        undefined,
        cause,
      );
    } finally {
      clearTimeout(timer);
    }
    return classify(op, attempt, response, text);
  }

  async function send(op: Operation, { deadline, signal }: RequestOptions): Promise<Record<string, unknown>> {
    const apiKey = await resolveApiKey(op);
    const headers: Record<string, string> = { apikey: apiKey, accept: 'application/json' };
    if (options.onBehalfOf !== undefined) headers.onBehalfOf = options.onBehalfOf;
    let last: Failure | undefined;
    let attempts = 0;
    for (;;) {
      if (signal?.aborted) throw aborted(op, attempts, signal.reason);
      const left = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now();
      if (left < MIN_ATTEMPT_MS) {
        throw giveUp(op, attempts, last, 'the deadline left no time for another attempt');
      }
      attempts += 1;
      const outcome = await attemptOnce(op, headers, attempts, Math.min(requestTimeoutMs, left), signal);
      if (outcome.ok) return outcome.body;
      last = outcome.failure;
      if (attempts >= maxAttempts) throw giveUp(op, attempts, last);
      const required = last.waitMs ?? 0;
      if (required > maxServerWaitMs) {
        throw giveUp(op, attempts, last, `CometChat asked for a wait of ${Math.ceil(required / 1000)} s`);
      }
      const room = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now() - MIN_ATTEMPT_MS;
      if (required > room) {
        throw giveUp(op, attempts, last, 'the next attempt could not start before the deadline');
      }
      // Our own jitter may be shortened to fit the deadline; the server's required wait may not.
      const wait = Math.max(
        required,
        Math.min(backoffDelayMs(attempts - 1, baseDelayMs, maxDelayMs, random), room),
      );
      try {
        await sleep(wait, signal);
      } catch (cause) {
        throw aborted(op, attempts, cause);
      }
    }
  }

  return {
    async getCall(sessionId, requestOptions = {}) {
      // Refused before any request: `.` and `..` would resolve to List Calls and the API root.
      parseSessionId(sessionId);
      const op: Operation = {
        label: `Get Call for session ${quote(sessionId)}`,
        url: `${baseUrl}/calls/${encodeURIComponent(sessionId)}`,
        isGetCall: true,
      };
      const body = await send(op, requestOptions);
      const data = body.data;
      if (Array.isArray(data)) {
        if (data.length === 0) throw new CallNotFoundError(`${op.label}: CometChat returned no call`);
        const call = data.find((item) => isRecord(item) && item.sessionId === sessionId) ?? data[0];
        if (isRecord(call)) return call;
      } else if (isRecord(data)) {
        return data;
      }
      throw new InvalidCallDataError(`${op.label}: the response's "data" holds no call object`);
    },

    async listCalls(params = {}, requestOptions = {}) {
      const query = new URLSearchParams();
      const page = pageNumber('page', params.page);
      const perPage = pageNumber('perPage', params.perPage);
      if (page !== undefined) query.set(pageParam, page);
      if (perPage !== undefined) query.set(perPageParam, perPage);
      for (const [name, value] of Object.entries(params.filters ?? {})) {
        if (!query.has(name) && value !== undefined) query.append(name, String(value));
      }
      const search = query.toString();
      const op: Operation = {
        label: `List Calls${page === undefined ? '' : ` page ${page}`}`,
        url: `${baseUrl}/calls${search ? `?${search}` : ''}`,
        isGetCall: false,
      };
      const body = await send(op, requestOptions);
      if (!Array.isArray(body.data)) {
        throw new InvalidCallDataError(`${op.label}: the response's "data" is not an array`);
      }
      // An entry that is not an object has no session id to archive; one such entry must not
      // make the whole page (and so the backfill) fail forever.
      const calls: RawCall[] = body.data.filter(isRecord);
      return { calls, pagination: paginationFrom(body.meta) } satisfies ListCallsResult;
    },

    async listTranscriptions(sessionId, params = {}, requestOptions = {}) {
      parseSessionId(sessionId);
      const query = new URLSearchParams();
      const page = pageNumber('page', params.page);
      const perPage = pageNumber('perPage', params.perPage);
      // Documented for this endpoint: `page` and `perPage`, whatever List Calls is configured with.
      if (page !== undefined) query.set('page', page);
      if (perPage !== undefined) query.set('perPage', perPage);
      const search = query.toString();
      const op: Operation = {
        label: `List Transcriptions for session ${quote(sessionId)}${page === undefined ? '' : ` page ${page}`}`,
        url: `${baseUrl}/calls/${encodeURIComponent(sessionId)}/transcriptions${search ? `?${search}` : ''}`,
        // A session CometChat does not know is "no such call" here as on Get Call.
        isGetCall: true,
      };
      const body = await send(op, requestOptions);
      if (!Array.isArray(body.data)) {
        throw new InvalidCallDataError(`${op.label}: the response's "data" is not an array`);
      }
      // Every entry as sent: one that is not an object fails normalisation by name, never vanishes.
      return {
        transcripts: body.data,
        pagination: paginationFrom(body.meta),
      } satisfies ListTranscriptionsResult;
    },
  };
}
