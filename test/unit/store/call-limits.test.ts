import { describe, expect, it } from 'vitest';
import { InvalidCallDataError } from '../../../lib/errors.ts';
import { assertStorable, itemBytes } from '../../../lib/store/call-limits.ts';
import { callDraft } from './call-records.ts';

describe('itemBytes', () => {
  it('counts names and values as DynamoDB does', () => {
    // "a" 1 + "xyz" 3; "n" 1 + 3 digits → 3 bytes; "l" 1 + list 3 + (1 + 1) + (1 + "é" 2); "m" 1 + map 3 + (1 + "k" 1 + true 1)
    expect(itemBytes({ a: 'xyz', n: 123, l: [true, 'é'], m: { k: true } })).toBe(4 + 4 + 9 + 7);
  });
});

describe('assertStorable', () => {
  it('names the limit a call goes beyond', () => {
    const huge = callDraft('v1.us.limits', {
      status: 'ended',
      participants: [{ uid: 'u', name: 'n'.repeat(410_000) }],
    });
    const longUid = callDraft('v1.us.limits', { status: 'ended', participants: [{ uid: 'u'.repeat(2044) }] });

    expect(() => assertStorable(huge)).toThrow(InvalidCallDataError);
    expect(() => assertStorable(huge)).toThrow(/400 KB item limit/);
    expect(() => assertStorable(longUid)).toThrow(/byUser partition key .* 2048-byte key limit/);
    expect(() =>
      assertStorable(
        callDraft('v1.us.limits', { status: 'ended', participants: [{ uid: 'u'.repeat(2043) }] }),
      ),
    ).not.toThrow();
  });
});
