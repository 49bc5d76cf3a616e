/**
 * A token bucket that spends the CometChat request budget: `ratePerMinute` tokens a minute,
 * refilled continuously, with at most `capacity` saved up for a burst. The clock and the sleep
 * are injectable, so tests run on virtual time and count the tokens instead of timing requests.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';

/** Time as the bucket sees it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects if `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
};

/** Options for {@link createTokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per minute; must be positive. */
  ratePerMinute: number;
  /** Most tokens held at once (the burst); default one second's worth, at least 1. */
  capacity?: number;
  /** Default {@link SYSTEM_CLOCK}. */
  clock?: Clock;
}

/** Limits for one {@link TokenBucket.take}. */
export interface TakeOptions {
  /** Epoch ms: give up (resolve false) rather than wait past it. */
  deadline?: number;
  signal?: AbortSignal;
}

/** A rate limiter for outgoing requests. */
export interface TokenBucket {
  /** Waits for a token and spends it; false (nothing spent) when none would come before `deadline`. */
  take(options?: TakeOptions): Promise<boolean>;
  /** Empties the bucket and adds no tokens until `ms` from now (the server asked us to back off). */
  pause(ms: number): void;
  /** Milliseconds between tokens at the steady rate. */
  readonly intervalMs: number;
  readonly capacity: number;
  /** Tokens spent so far. */
  readonly taken: number;
}

/** A bucket that starts full. */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { ratePerMinute } = options;
  if (!Number.isFinite(ratePerMinute) || ratePerMinute <= 0) {
    throw new RangeError('ratePerMinute must be a positive number');
  }
  const capacity = options.capacity ?? Math.max(1, Math.floor(ratePerMinute / 60));
  if (!Number.isFinite(capacity) || capacity < 1) throw new RangeError('capacity must be at least 1');
  const clock = options.clock ?? SYSTEM_CLOCK;
  const intervalMs = 60_000 / ratePerMinute;
  let tokens = capacity;
  let updatedAt = clock.now();
  let pausedUntil = Number.NEGATIVE_INFINITY;
  let taken = 0;
  // Callers queue up in order, so one waiting for a token is not overtaken by a later one.
  let line: Promise<unknown> = Promise.resolve();

  function refill(now: number): void {
    const from = Math.max(updatedAt, pausedUntil);
    if (now > from) tokens = Math.min(capacity, tokens + (now - from) / intervalMs);
    updatedAt = Math.max(updatedAt, now);
  }

  /** Milliseconds until a whole token is there. */
  function waitMs(now: number): number {
    const afterPause = Math.max(0, pausedUntil - now);
    return afterPause + Math.max(0, (1 - tokens) * intervalMs);
  }

  async function takeInOrder({ deadline, signal }: TakeOptions): Promise<boolean> {
    for (;;) {
      const now = clock.now();
      refill(now);
      if (now >= pausedUntil && tokens >= 1) {
        tokens -= 1;
        taken += 1;
        return true;
      }
      const wait = Math.max(1, Math.ceil(waitMs(now)));
      if (deadline !== undefined && now + wait > deadline) return false;
      await clock.sleep(wait, signal);
    }
  }

  return {
    take(takeOptions = {}) {
      const turn = line.then(() => takeInOrder(takeOptions));
      line = turn.catch(() => undefined);
      return turn;
    },
    pause(ms) {
      const now = clock.now();
      refill(now);
      tokens = 0;
      pausedUntil = Math.max(pausedUntil, now + Math.max(0, ms));
    },
    intervalMs,
    capacity,
    get taken() {
      return taken;
    },
  };
}
