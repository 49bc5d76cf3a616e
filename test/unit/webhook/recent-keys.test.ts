import { describe, expect, it } from 'vitest';
import { createRecentKeys } from '../../../lib/webhook/recent-keys.ts';

describe('createRecentKeys', () => {
  it('remembers a key until its time is up', () => {
    let now = 1_000;
    const keys = createRecentKeys({ ttlMs: 100, now: () => now });

    keys.remember('a');

    expect(keys.has('a')).toBe(true);
    now += 99;
    expect(keys.has('a')).toBe(true);
    now += 1;
    expect(keys.has('a')).toBe(false);
  });

  it('forgets the oldest keys beyond its capacity', () => {
    const keys = createRecentKeys({ capacity: 2 });

    keys.remember('a');
    keys.remember('b');
    keys.remember('c');

    expect(keys.has('a')).toBe(false);
    expect(keys.has('b')).toBe(true);
    expect(keys.has('c')).toBe(true);
  });

  it('treats remembering a key again as new, moving it to the back', () => {
    const keys = createRecentKeys({ capacity: 2 });

    keys.remember('a');
    keys.remember('b');
    keys.remember('a');
    keys.remember('c');

    expect(keys.has('a')).toBe(true);
    expect(keys.has('b')).toBe(false);
  });

  it('knows nothing it was not told', () => {
    expect(createRecentKeys().has('never')).toBe(false);
  });
});
