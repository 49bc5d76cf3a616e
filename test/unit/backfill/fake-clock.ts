/** A virtual clock for the pacer: `sleep` moves time on at once and is recorded. */
import type { Clock } from '../../../lib/backfill/pacer.ts';

/** A clock whose time only moves when something sleeps on it (or the test says so). */
export interface FakeClock extends Clock {
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[];
  /** Moves time on without anyone sleeping. */
  advance(ms: number): void;
}

/** A fake clock starting at `start` epoch ms. */
export function fakeClock(start = Date.UTC(2024, 4, 1, 12)): FakeClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      now += ms;
    },
    advance(ms) {
      now += ms;
    },
    sleeps,
  };
}
