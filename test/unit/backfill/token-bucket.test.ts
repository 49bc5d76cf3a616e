import { describe, expect, it } from 'vitest';
import { createTokenBucket } from '../../../lib/backfill/token-bucket.ts';
import { fakeClock } from './fake-clock.ts';

describe('createTokenBucket', () => {
  it('hands out a full bucket at once, then one token per interval', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerMinute: 300, clock });
    const start = clock.now();

    for (let i = 0; i < 25; i++) await bucket.take();

    // 5 saved up, then 20 more at 200 ms each.
    expect(bucket.capacity).toBe(5);
    expect(bucket.intervalMs).toBe(200);
    expect(bucket.taken).toBe(25);
    expect(clock.now() - start).toBe(20 * 200);
  });

  it('never lets more than rate × minutes + capacity through, whatever the demand', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerMinute: 120, capacity: 10, clock });
    const end = clock.now() + 5 * 60_000;

    let granted = 0;
    while (await bucket.take({ deadline: end })) granted += 1;

    expect(granted).toBe(120 * 5 + 10);
    expect(clock.now()).toBeLessThanOrEqual(end);
  });

  it('refills while idle, but only up to its capacity', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerMinute: 60, capacity: 3, clock });
    for (let i = 0; i < 3; i++) await bucket.take();

    clock.advance(60_000);
    const before = clock.now();
    for (let i = 0; i < 3; i++) await bucket.take();

    expect(clock.now()).toBe(before);
    await bucket.take();
    expect(clock.now()).toBe(before + 1000);
  });

  it('answers false without spending when no token comes before the deadline', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerMinute: 60, capacity: 1, clock });
    await bucket.take();

    const granted = await bucket.take({ deadline: clock.now() + 500 });

    expect(granted).toBe(false);
    expect(bucket.taken).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives nothing during a pause, then starts again from empty', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerMinute: 600, capacity: 10, clock });
    const start = clock.now();

    bucket.pause(30_000);
    await bucket.take();

    // The 30 s pause, then one 100 ms interval to earn the first token.
    expect(clock.now() - start).toBe(30_100);
  });

  it('serves waiting callers in the order they asked', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerMinute: 60, capacity: 1, clock });
    const order: number[] = [];

    await Promise.all([1, 2, 3].map((n) => bucket.take().then(() => order.push(n))));

    expect(order).toEqual([1, 2, 3]);
    expect(bucket.taken).toBe(3);
  });

  it('rejects a rate or capacity that cannot work', () => {
    expect(() => createTokenBucket({ ratePerMinute: 0 })).toThrow(RangeError);
    expect(() => createTokenBucket({ ratePerMinute: Number.NaN })).toThrow(RangeError);
    expect(() => createTokenBucket({ ratePerMinute: 60, capacity: 0 })).toThrow(RangeError);
  });

  it('passes an abort on to the caller waiting for a token', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerMinute: 60, capacity: 1, clock });
    await bucket.take();

    await expect(bucket.take({ signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
    expect(await bucket.take()).toBe(true);
  });
});
