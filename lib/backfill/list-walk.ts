/**
 * Walks List Calls page by page and hands over each call of the window once per run, though
 * pages shift under the walk as calls arrive (docs/architecture.md, "The backfill walk"): repeats
 * are dropped by session id, and a pass that may have skipped a call (the total dropped, or fewer
 * distinct calls were read than listed) is walked again, up to `maxPasses` times.
 */
import { parseSessionId } from '../calls/session-id.ts';
import { CALL_STATUSES, type CallStatus } from '../calls/types.ts';
import type { CometChatClient, ListCallsResult, RawCall } from '../cometchat/client.ts';
import { CometChatRateLimitError, InvalidCallDataError } from '../errors.ts';
import type { Pacer } from './pacer.ts';
import type { TimeWindow } from './window.ts';

/** What the backfill needs to know about a listed call. */
export interface ListedCall {
  sessionId: string;
  /** Normalised (`canceled` → `cancelled`); absent when missing or unknown. */
  status: CallStatus | undefined;
  /** The status as listed, lower-cased, for messages and event keys; `unknown` when missing. */
  listedStatus: string;
  /** `initiatedAt` (or `startedAt`, or `endedAt`), Unix seconds; absent when the call has none. */
  time: number | undefined;
  /** `endedAt`, Unix seconds; absent until the call has ended. */
  ended?: number;
  /** What the listing says of the call's files, to compare with what the archive holds. */
  files: ListedFiles;
}

/** A listed call's files: counts when the listing carries the list, flags when it says so. */
export interface ListedFiles {
  hasRecording: boolean;
  /** Distinct entries of `recordings[]`, when listed. */
  recordings?: number;
  hasTranscription: boolean;
  /** Distinct entries of `transcriptions[]`, when listed (CometChat lists at most the 5 newest). */
  transcripts?: number;
}

/** How to walk. */
export interface WalkSettings {
  /** Page size asked for (the server may use another; its own `per_page` wins). */
  perPage: number;
  /** Full walks before giving up on a stable one; at least 1. */
  maxPasses: number;
  /** List Calls requests per run, all passes together. */
  maxPages: number;
  /** Tries per page when CometChat still answers 429 after the client's own retries; default 3. */
  pageAttempts?: number;
  /** List Calls filters sent with every page (`hasTranscription`, …). */
  filters?: Readonly<Record<string, string>>;
  /** What places a call in the window: its start (default, see {@link inWindow}) or its end. */
  placeBy?: 'start' | 'end';
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
  pacer: Pacer;
  /** Epoch ms; default `Date.now`. The same clock as the pacer's. */
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
  const ended = unixSeconds(raw.endedAt);
  const time = unixSeconds(raw.initiatedAt) ?? unixSeconds(raw.startedAt) ?? ended;
  return {
    sessionId,
    status,
    listedStatus: status ?? (/^[a-z_-]{1,32}$/.test(text) ? text : 'unknown'),
    time,
    ...(ended !== undefined && { ended }),
    files: listedFilesOf(raw),
  };
}

function flag(value: unknown): boolean {
  return value === true || value === 'true' || value === 1;
}

/** Distinct entries by id, else by URL path: a file listed twice is one file. */
function distinctFiles(value: unknown, idField: string, urlFields: readonly string[]): number | undefined {
  if (!Array.isArray(value)) return undefined;
  const keys = new Set<string>();
  value.forEach((entry: unknown, index) => {
    const item = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {};
    const id = item[idField];
    const url = urlFields.map((f) => item[f]).find((u): u is string => typeof u === 'string' && u !== '');
    keys.add(
      typeof id === 'string' && id !== ''
        ? `id:${id}`
        : url
          ? `url:${url.split(/[?#]/, 1)[0]}`
          : `at:${index}`,
    );
  });
  return keys.size;
}

function listedFilesOf(raw: RawCall): ListedFiles {
  const recordings = distinctFiles(raw.recordings, 'rid', ['recording_url', 'recordingUrl']);
  const transcripts = distinctFiles(raw.transcriptions, 'tid', ['transcriptUrl', 'url']);
  return {
    hasRecording: flag(raw.hasRecording),
    ...(recordings !== undefined && { recordings }),
    hasTranscription: flag(raw.hasTranscription),
    ...(transcripts !== undefined && { transcripts }),
  };
}

/**
 * By its start, a call belongs to the window if its time is inside it, or if it has no time to
 * place it by. By its end (`endedAt`, else its time), one with no time at all does not belong:
 * such a window is a recent span to look at again, never a whole history.
 */
export function inWindow(call: ListedCall, window: TimeWindow, placeBy: 'start' | 'end' = 'start'): boolean {
  const time = placeBy === 'end' ? (call.ended ?? call.time) : call.time;
  if (time === undefined) return placeBy === 'start';
  return time >= window.from && time <= window.to;
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

  /** One page, each request paced; undefined when the time is up. */
  async function fetchPage(page: number): Promise<ListCallsResult | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const turn = await deps.pacer.next({ deadline: limits.stopBy, signal: limits.signal });
      if (!turn) return undefined;
      try {
        return await deps.listCalls(
          { page, perPage: settings.perPage, ...(settings.filters && { filters: { ...settings.filters } }) },
          { deadline: limits.deadline, signal: limits.signal },
        );
      } catch (error) {
        if (!(error instanceof CometChatRateLimitError) || attempt >= pageAttempts) throw error;
        const waitMs = (error.retryAfterSeconds ?? DEFAULT_RATE_LIMIT_WAIT_MS / 1000) * 1000;
        deps.observe?.({ kind: 'rate-limited', page, waitMs });
        deps.pacer.pause(waitMs);
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
    for (let page = 1; ; page += 1) {
      if (limits.stopBy !== undefined && now() > limits.stopBy) return result(pass, false, 'deadline');
      if (pages >= settings.maxPages) return result(pass, false, 'max-pages');
      const listed = await fetchPage(page);
      if (listed === undefined) return result(pass, false, 'deadline');
      pages += 1;
      const { calls: raws, pagination } = listed;
      if (pagination.currentPage !== undefined && pagination.currentPage !== page) {
        // Reading page 1 over and over would never end (docs/architecture.md, "The backfill walk").
        throw new InvalidCallDataError(
          `List Calls answered page ${pagination.currentPage} when asked for page ${page}: ` +
            'CometChat does not take the page parameter',
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
      for (const raw of raws) {
        const call = listedCallOf(raw);
        if ('reason' in call) {
          unusable += 1;
          deps.observe?.({ kind: 'unusable-call', page, reason: call.reason });
          continue;
        }
        seenThisPass.add(call.sessionId);
        if (inWindow(call, window, settings.placeBy) && !handedOver.has(call.sessionId)) {
          handedOver.add(call.sessionId);
          fresh.push(call);
        }
      }
      if (fresh.length > 0) await onCalls(fresh);

      if (raws.length === 0) break;
      if (totalPages !== undefined ? page >= totalPages : raws.length < perPage) break;
    }

    const read = seenThisPass.size + unusable;
    const missed = firstTotal !== undefined && read < firstTotal;
    if (!shrank && !missed) return result(pass, true);
    const reason = shrank
      ? 'the total dropped during the pass, so calls may have moved to pages already read'
      : `the pass read ${read} distinct calls of the ${firstTotal} listed`;
    if (pass < maxPasses) deps.observe?.({ kind: 'repass', pass: pass + 1, reason });
  }
  return result(maxPasses, false, 'unstable');
}
