import { describe, expect, it } from 'vitest';
import { createPacer } from '../../../lib/backfill/pacer.ts';
import { fakeClock } from './fake-clock.ts';

describe('createPacer', () => {
  it('lets the first request go at once, then one per interval', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ratePerMinute: 300, clock });
    const start = clock.now();

    for (let i = 0; i < 25; i++) await pacer.next();

    expect(pacer.intervalMs).toBe(200);
    expect(clock.now() - start).toBe(24 * 200);
  });

  it('never lets more than the budget through in any minute, whatever the demand', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ratePerMinute: 120, clock });
    const end = clock.now() + 5 * 60_000;
    const times: number[] = [];

    while (await pacer.next({ deadline: end })) times.push(clock.now());

    expect(times).toHaveLength(120 * 5 + 1);
    for (const t of times) {
      expect(times.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(120);
    }
    expect(clock.now()).toBeLessThanOrEqual(end);
  });

  it('does not wait after an idle spell longer than the interval', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ratePerMinute: 60, clock });
    await pacer.next();

    clock.advance(5_000);
    await pacer.next();

    expect(clock.sleeps).toEqual([]);
  });

  it('answers false at once when the next turn comes after the deadline', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ratePerMinute: 60, clock });
    await pacer.next();

    expect(await pacer.next({ deadline: clock.now() + 500 })).toBe(false);
    expect(clock.sleeps).toEqual([]);
    // The turn it declined is still there for a later caller.
    expect(await pacer.next()).toBe(true);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('waits out a pause before the next request', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ratePerMinute: 600, clock });
    const start = clock.now();

    pacer.pause(30_000);
    await pacer.next();

    expect(clock.now() - start).toBe(30_000);
  });

  it('rejects a rate that cannot work', () => {
    expect(() => createPacer({ ratePerMinute: 0 })).toThrow(RangeError);
    expect(() => createPacer({ ratePerMinute: Number.NaN })).toThrow(RangeError);
  });

  it('passes an abort on to the waiting caller', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ratePerMinute: 60, clock });
    await pacer.next();

    await expect(pacer.next({ signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
  });
});
