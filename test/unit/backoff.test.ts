import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, sleep } from '../../lib/backoff.ts';

describe('backoffDelayMs', () => {
  it('scales the capped exponential delay by the random fraction', () => {
    expect(backoffDelayMs(0, 250, 8000, () => 0.5)).toBe(125);
    expect(backoffDelayMs(2, 250, 8000, () => 0.5)).toBe(500);
    expect(backoffDelayMs(10, 250, 8000, () => 0.5)).toBe(4000);
  });

  it('returns 0 when the random fraction is 0 (full jitter)', () => {
    expect(backoffDelayMs(3, 250, 8000, () => 0)).toBe(0);
  });

  it('clamps a random source that strays outside [0, 1]', () => {
    expect(backoffDelayMs(1, 250, 8000, () => 7)).toBe(500);
    expect(backoffDelayMs(1, 250, 8000, () => -3)).toBe(0);
    expect(backoffDelayMs(1, 250, 8000, () => Number.NaN)).toBe(0);
  });

  it('always stays within [0, min(maxDelay, base * 2^retry)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10, max: 5000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.double()),
        (retry, base, max, r) => {
          const delay = backoffDelayMs(retry, base, max, () => r);
          const cap = Math.min(max, base * 2 ** Math.min(Math.max(0, retry), 64));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(cap);
        },
      ),
    );
  });
});

describe('sleep', () => {
  it('resolves after the wait when nothing aborts it', async () => {
    await expect(sleep(5)).resolves.toBeUndefined();
  });

  it('rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects at once when the signal has already aborted', async () => {
    await expect(sleep(60_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});
