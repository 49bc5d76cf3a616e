import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRateLimitResetMs, parseRetryAfterMs, requiredWaitMs } from '../../../lib/cometchat/retry.ts';

const NOW = Date.parse('2024-05-16T08:00:00Z');

function headers(values: Record<string, string>): Headers {
  return new Headers(values);
}

function isWait(value: number | undefined): boolean {
  return value === undefined || (Number.isSafeInteger(value) && value >= 0);
}

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds, with surrounding spaces and fractions', () => {
    expect(parseRetryAfterMs('120', NOW)).toBe(120_000);
    expect(parseRetryAfterMs(' 3 ', NOW)).toBe(3000);
    expect(parseRetryAfterMs('1.5', NOW)).toBe(1500);
    expect(parseRetryAfterMs('0', NOW)).toBe(0);
  });

  it('reads the three HTTP date forms relative to now', () => {
    for (const value of [
      'Thu, 16 May 2024 08:00:05 GMT',
      'Thursday, 16-May-24 08:00:05 GMT',
      'Thu May 16 08:00:05 2024',
    ]) {
      expect(parseRetryAfterMs(value, Date.parse(value) - 5000)).toBe(5000);
    }
  });

  it('treats a date in the past as no wait', () => {
    expect(parseRetryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', NOW)).toBe(0);
  });

  it('returns undefined for absent or unreadable values', () => {
    for (const value of [null, undefined, '', 'soon', '-5', '1e3', 'Thu, 99 Foo 2024', '12:00:00']) {
      expect(parseRetryAfterMs(value, NOW)).toBeUndefined();
    }
  });

  it('caps an absurdly long wait at a safe integer instead of Infinity', () => {
    expect(parseRetryAfterMs('9'.repeat(400), NOW)).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseRateLimitResetMs('9'.repeat(400), NOW)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('never throws and yields undefined or a safe non-negative integer, whatever the header holds', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^\d{1,40}$/)),
        (value) => {
          expect(isWait(parseRetryAfterMs(value, NOW))).toBe(true);
        },
      ),
    );
  });
});

describe('parseRateLimitResetMs', () => {
  it('reads small values as seconds from now', () => {
    expect(parseRateLimitResetMs('30', NOW)).toBe(30_000);
  });

  it('reads values above 1e9 as epoch seconds', () => {
    expect(parseRateLimitResetMs(String(NOW / 1000 + 7), NOW)).toBe(7000);
  });

  it('reads values above 1e12 as epoch milliseconds', () => {
    expect(parseRateLimitResetMs(String(NOW + 2500), NOW)).toBe(2500);
  });

  it('treats a reset already past as no wait', () => {
    expect(parseRateLimitResetMs(String(NOW / 1000 - 60), NOW)).toBe(0);
  });

  it('returns undefined for absent or unreadable values', () => {
    for (const value of [null, undefined, '', 'never', '-1']) {
      expect(parseRateLimitResetMs(value, NOW)).toBeUndefined();
    }
  });

  it('never throws and yields undefined or a safe non-negative integer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{1,40}(\.\d{1,5})?$/)), (value) => {
        expect(isWait(parseRateLimitResetMs(value, NOW))).toBe(true);
      }),
    );
  });
});

describe('requiredWaitMs', () => {
  it('takes the longest of Retry-After and both reset header families when rate limited', () => {
    const h = headers({
      'Retry-After': '2',
      'X-RateLimit-Limit': '500',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': '5',
      'X-Rate-Limit-Reset': String(NOW / 1000 + 9),
    });
    expect(requiredWaitMs(h, NOW, true)).toBe(9000);
  });

  it('honours the older X-Rate-Limit-Reset on its own', () => {
    expect(requiredWaitMs(headers({ 'X-Rate-Limit-Reset': '4' }), NOW, true)).toBe(4000);
  });

  it('ignores the rate-limit window when the response was not rate limited', () => {
    const h = headers({ 'Retry-After': '1', 'X-RateLimit-Reset': '50' });
    expect(requiredWaitMs(h, NOW, false)).toBe(1000);
  });

  it('returns undefined when the server asked for nothing readable', () => {
    expect(requiredWaitMs(headers({ 'Retry-After': 'later' }), NOW, true)).toBeUndefined();
  });
});
