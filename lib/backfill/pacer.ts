/**
 * Spends the CometChat request budget for the walk, its one sequential caller: each request
 * waits until a full interval (`60 s / ratePerMinute`) has passed since the one before, so no
 * minute ever holds more than the budget. The clock is injectable: tests run on virtual time.
 */
import { sleep } from '../backoff.ts';

/** Time as the pacer sees it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects if `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), sleep };

/** Limits for one {@link Pacer.next}. */
export interface WaitOptions {
  /** Epoch ms: give up (resolve false, at once) rather than wait past it. */
  deadline?: number;
  signal?: AbortSignal;
}

/** Paces one caller's requests. */
export interface Pacer {
  /** Waits for the next request's turn; false, without waiting, when it would come after `deadline`. */
  next(options?: WaitOptions): Promise<boolean>;
  /** No request before `ms` from now (the server asked us to back off). */
  pause(ms: number): void;
  /** Milliseconds between two requests. */
  readonly intervalMs: number;
}

/** A pacer for `ratePerMinute` requests a minute; the first request goes at once. */
export function createPacer(options: { ratePerMinute: number; clock?: Clock }): Pacer {
  const { ratePerMinute } = options;
  if (!Number.isFinite(ratePerMinute) || ratePerMinute <= 0) {
    throw new RangeError('ratePerMinute must be a positive number');
  }
  const clock = options.clock ?? SYSTEM_CLOCK;
  const intervalMs = 60_000 / ratePerMinute;
  let nextAt = Number.NEGATIVE_INFINITY;
  return {
    async next({ deadline, signal } = {}) {
      const now = clock.now();
      const at = Math.max(now, nextAt);
      if (deadline !== undefined && at > deadline) return false;
      if (at > now) await clock.sleep(Math.ceil(at - now), signal);
      nextAt = at + intervalMs;
      return true;
    },
    pause(ms) {
      nextAt = Math.max(nextAt, clock.now() + Math.max(0, ms));
    },
    intervalMs,
  };
}
