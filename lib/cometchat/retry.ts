/**
 * Backoff and the headers with which CometChat says how long to wait. Pure: no clock, no
 * randomness of its own, and nothing here throws, whatever a header holds.
 */

/** The one thing needed from a response's headers (`Headers` has it). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** What a server may ask for is bounded so that waits stay representable timer values. */
const MAX_WAIT_MS = Number.MAX_SAFE_INTEGER;
/** Above this a rate-limit reset is epoch milliseconds rather than epoch seconds. */
const EPOCH_MS_THRESHOLD = 1e12;
/** Above this (and up to the line above) a rate-limit reset is epoch seconds, else seconds from now. */
const EPOCH_SECONDS_THRESHOLD = 1e9;

const DECIMAL = /^\s*(\d+(?:\.\d+)?)\s*$/;
// Date.parse accepts almost anything ("1", "a 2"), so only strings shaped like an HTTP date
// (a month name and an hh:mm:ss time) are handed to it.
const MONTH = /\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/;
const CLOCK = /\b\d{2}:\d{2}:\d{2}\b/;

function clampWait(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(Math.ceil(ms), MAX_WAIT_MS);
}

function decimal(value: string): number | undefined {
  const match = DECIMAL.exec(value);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * `Retry-After` as milliseconds to wait: delta-seconds or an HTTP date (past dates mean 0).
 * `undefined` when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const seconds = decimal(value);
  if (seconds !== undefined) return clampWait(seconds * 1000);
  if (value.length > 64 || !MONTH.test(value) || !CLOCK.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : clampWait(at - nowMs);
}

/**
 * A rate-limit `…-Reset` header as milliseconds to wait. CometChat's docs do not say which form
 * it takes, so: values above 1e9 are epoch seconds (above 1e12, epoch milliseconds), smaller
 * ones seconds from now. `undefined` when absent or unreadable.
 */
export function parseRateLimitResetMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const n = decimal(value);
  if (n === undefined) return undefined;
  if (n > EPOCH_MS_THRESHOLD) return clampWait(n - nowMs);
  if (n > EPOCH_SECONDS_THRESHOLD) return clampWait(n * 1000 - nowMs);
  return clampWait(n * 1000);
}

/**
 * The least time the server asked for before the next attempt, or `undefined` if it said
 * nothing. `Retry-After` always counts; the rate-limit resets (both header families) only when
 * `rateLimited`, because they ride on every response and describe the window, not an outage.
 */
export function requiredWaitMs(
  headers: HeaderReader,
  nowMs: number,
  rateLimited: boolean,
): number | undefined {
  const candidates = [parseRetryAfterMs(headers.get('retry-after'), nowMs)];
  if (rateLimited) {
    candidates.push(
      parseRateLimitResetMs(headers.get('x-ratelimit-reset'), nowMs),
      parseRateLimitResetMs(headers.get('x-rate-limit-reset'), nowMs),
    );
  }
  const known = candidates.filter((c): c is number => c !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
}
