/**
 * Walks List Calls page by page and hands over each call of the window once per run.
 *
 * CometChat documents no sort order and no cursor for List Calls, and calls keep arriving while
 * a walk runs, so pages shift under it. What the walk relies on, and why nothing is lost:
 * - A call that moves to a later page (something was inserted before it) is read twice: the
 *   second sighting is dropped (a set of session ids per run).
 * - A call can only be skipped if it moves to an earlier page than the one being read: something
 *   before it was removed (the total drops) or the order changed (then this pass reads fewer
 *   distinct calls than the total it was told). Either makes the pass unreliable, and the walk
 *   reads everything again, up to `maxPasses` times; a run with no reliable pass is incomplete.
 * - Which calls belong to the window is decided here, from each call's `initiatedAt` (falling
 *   back to `startedAt`, then `endedAt`): any server-side range parameters are only a hint.
 * - It stops at `total_pages` (re-read from every page, as it may grow), at an empty page, or,
 *   without pagination metadata, at a short page. With `order: 'newest-first'` (what CometChat's
 *   published example shows, but does not promise) it also stops after a page whose calls are
 *   all older than the window.
 *
 * The page parameters are an assumption: CometChat's OpenAPI file (cometchat/docs `calls.json`)
 * gives List Calls no paging parameters at all, only `meta.pagination` in its example (without
 * `per_page`); the sibling Get Call Transcriptions documents `page` (default 1) and `perPage`
 * (default 100, capped at 1000). Those are the defaults, configurable (BACKFILL_PAGE_PARAM,
 * BACKFILL_PER_PAGE_PARAM, BACKFILL_PER_PAGE). A server that ignores the page parameter is caught
 * by `current_page` differing from the page asked for, and stops the run with a ConfigError
 * instead of reading page 1 over and over.
 */
import { parseSessionId } from '../calls/session-id.ts';
import { CALL_STATUSES, type CallStatus } from '../calls/types.ts';
import type { CometChatClient, ListCallsResult, RawCall } from '../cometchat/client.ts';
import { CometChatRateLimitError, ConfigError } from '../errors.ts';
import type { TokenBucket } from './token-bucket.ts';
import type { TimeWindow } from './window.ts';

/** How List Calls orders its results, as far as the operator is willing to assume. */
export const CALL_ORDERS = ['unknown', 'newest-first'] as const;
export type CallOrder = (typeof CALL_ORDERS)[number];

/** What the backfill needs to know about a listed call. */
export interface ListedCall {
  sessionId: string;
  /** Normalised (`canceled` → `cancelled`); absent when missing or unknown. */
  status: CallStatus | undefined;
  /** The status as listed, lower-cased, for messages and event keys; `unknown` when missing. */
  listedStatus: string;
  /** `initiatedAt` (or `startedAt`, or `endedAt`), Unix seconds; absent when the call has none. */
  time: number | undefined;
}

/** How to walk. */
export interface WalkSettings {
  /** Page size asked for (the server may use another; its own `per_page` wins). */
  perPage: number;
  order: CallOrder;
  /** Full walks before giving up on a stable one; at least 1. */
  maxPasses: number;
  /** List Calls requests per run, all passes together. */
  maxPages: number;
  /** Sent with every request (e.g. server-side window bounds). */
  filters?: Record<string, string | number | boolean>;
  /** Tries per page when CometChat still answers 429 after the client's own retries; default 3. */
  pageAttempts?: number;
}

/** What the walk reports as it goes. */
export type WalkObservation =
  | { kind: 'page'; pass: number; page: number; calls: number; total?: number; totalPages?: number }
  | { kind: 'rate-limited'; page: number; waitMs: number }
  | { kind: 'repass'; pass: number; reason: string }
  | { kind: 'unusable-call'; page: number; reason: string };

/** The walk's adapters. */
export interface WalkDependencies {
  listCalls: CometChatClient['listCalls'];
  bucket: TokenBucket;
  /** Epoch ms; default `Date.now`. The same clock as the bucket's. */
  now?: () => number;
  observe?: (observation: WalkObservation) => void;
}

/** Time limits of one walk. */
export interface WalkLimits {
  /** Epoch ms after which no new page is started. */
  stopBy?: number;
  /** Epoch ms by which a started request must finish (the client's deadline). */
  deadline?: number;
  signal?: AbortSignal;
}

/** Why a walk did not cover the whole window. */
export type IncompleteReason = 'deadline' | 'max-pages' | 'unstable';

/** How the walk went. */
export interface WalkResult {
  /** List Calls pages read, all passes together. */
  pages: number;
  passes: number;
  /** Every call of the window was handed over (as far as List Calls lets anyone tell). */
  complete: boolean;
  incompleteReason?: IncompleteReason;
  /** Distinct calls of the window handed over. */
  listed: number;
}

/** Receives each call of the window once per walk, a page at a time; may throw to stop the walk. */
export type CallsHandler = (calls: ListedCall[]) => Promise<void> | void;

const DEFAULT_PAGE_ATTEMPTS = 3;
/** The wait after a 429 whose answer said nothing about how long to wait. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/** Unix seconds from a number or numeric string; milliseconds are floored to seconds. */
function unixSeconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d{1,15}(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return undefined;
  return Math.floor(n > 1e11 ? n / 1000 : n);
}

/** The fields the backfill reads off one List Calls entry; `reason` when it has no usable id. */
export function listedCallOf(raw: RawCall): ListedCall | { reason: string } {
  let sessionId: string;
  try {
    sessionId = parseSessionId(raw.sessionId);
  } catch (error) {
    return { reason: (error as Error).message };
  }
  const text = typeof raw.status === 'string' ? raw.status.trim().toLowerCase() : '';
  const spelled = text === 'canceled' ? 'cancelled' : text;
  const status = CALL_STATUSES.find((s) => s === spelled);
  const time = unixSeconds(raw.initiatedAt) ?? unixSeconds(raw.startedAt) ?? unixSeconds(raw.endedAt);
  return {
    sessionId,
    status,
    listedStatus: status ?? (/^[a-z_-]{1,32}$/.test(text) ? text : 'unknown'),
    time,
  };
}

/** A call belongs to the window if its time is inside it, or if it has no time to place it by. */
export function inWindow(call: ListedCall, window: TimeWindow): boolean {
  return call.time === undefined || (call.time >= window.from && call.time <= window.to);
}

/** Walks List Calls over `window`; see the module comment for what it guarantees. */
export async function walkCalls(
  window: TimeWindow,
  settings: WalkSettings,
  deps: WalkDependencies,
  onCalls: CallsHandler,
  limits: WalkLimits = {},
): Promise<WalkResult> {
  const maxPasses = Math.max(1, Math.floor(settings.maxPasses));
  const pageAttempts = Math.max(1, settings.pageAttempts ?? DEFAULT_PAGE_ATTEMPTS);
  const now = deps.now ?? Date.now;
  const handedOver = new Set<string>();
  let pages = 0;
  const result = (passes: number, complete: boolean, incompleteReason?: IncompleteReason): WalkResult => ({
    pages,
    passes,
    complete,
    ...(incompleteReason ? { incompleteReason } : {}),
    listed: handedOver.size,
  });

  /** One page, with a token spent per request; undefined when the time is up. */
  async function fetchPage(page: number): Promise<ListCallsResult | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const granted = await deps.bucket.take({ deadline: limits.stopBy, signal: limits.signal });
      if (!granted) return undefined;
      try {
        return await deps.listCalls(
          { page, perPage: settings.perPage, ...(settings.filters ? { filters: settings.filters } : {}) },
          { deadline: limits.deadline, signal: limits.signal },
        );
      } catch (error) {
        if (!(error instanceof CometChatRateLimitError) || attempt >= pageAttempts) throw error;
        const waitMs = (error.retryAfterSeconds ?? DEFAULT_RATE_LIMIT_WAIT_MS / 1000) * 1000;
        deps.observe?.({ kind: 'rate-limited', page, waitMs });
        deps.bucket.pause(waitMs);
      }
    }
  }

  for (let pass = 1; pass <= maxPasses; pass += 1) {
    const seenThisPass = new Set<string>();
    // Entries without a usable id still fill a place on the page, so they count as read.
    let unusable = 0;
    let firstTotal: number | undefined;
    let lastTotal: number | undefined;
    let shrank = false;
    let stoppedEarly = false;
    for (let page = 1; ; page += 1) {
      if (limits.stopBy !== undefined && now() > limits.stopBy) return result(pass, false, 'deadline');
      if (pages >= settings.maxPages) return result(pass, false, 'max-pages');
      const listed = await fetchPage(page);
      if (listed === undefined) return result(pass, false, 'deadline');
      pages += 1;
      const { calls: raws, pagination } = listed;
      if (pagination.currentPage !== undefined && pagination.currentPage !== page) {
        throw new ConfigError(
          `List Calls answered page ${pagination.currentPage} when asked for page ${page}: ` +
            'CometChat does not take the configured page parameter',
        );
      }
      const { total } = pagination;
      if (total !== undefined) {
        if (lastTotal !== undefined && total < lastTotal) shrank = true;
        firstTotal ??= total;
        lastTotal = total;
      }
      const perPage = pagination.perPage ?? settings.perPage;
      const totalPages =
        pagination.totalPages ?? (total === undefined ? undefined : Math.ceil(total / Math.max(1, perPage)));
      deps.observe?.({
        kind: 'page',
        pass,
        page,
        calls: raws.length,
        ...(total === undefined ? {} : { total }),
        ...(totalPages === undefined ? {} : { totalPages }),
      });

      const fresh: ListedCall[] = [];
      let dated = 0;
      let older = 0;
      for (const raw of raws) {
        const call = listedCallOf(raw);
        if ('reason' in call) {
          unusable += 1;
          deps.observe?.({ kind: 'unusable-call', page, reason: call.reason });
          continue;
        }
        seenThisPass.add(call.sessionId);
        if (call.time !== undefined) {
          dated += 1;
          if (call.time < window.from) older += 1;
        }
        if (inWindow(call, window) && !handedOver.has(call.sessionId)) {
          handedOver.add(call.sessionId);
          fresh.push(call);
        }
      }
      if (fresh.length > 0) await onCalls(fresh);

      if (raws.length === 0) break;
      if (settings.order === 'newest-first' && dated > 0 && older === dated) {
        stoppedEarly = true;
        break;
      }
      if (totalPages !== undefined ? page >= totalPages : raws.length < perPage) break;
    }

    const read = seenThisPass.size + unusable;
    const missed = !stoppedEarly && firstTotal !== undefined && read < firstTotal;
    if (!shrank && !missed) return result(pass, true);
    const reason = shrank
      ? 'the total dropped during the pass, so calls may have moved to pages already read'
      : `the pass read ${read} distinct calls of the ${firstTotal} listed`;
    if (pass < maxPasses) deps.observe?.({ kind: 'repass', pass: pass + 1, reason });
  }
  return result(maxPasses, false, 'unstable');
}
