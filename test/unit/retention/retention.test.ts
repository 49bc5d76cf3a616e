import { describe, expect, it } from 'vitest';
import { readRetentionConfig } from '../../../lib/config.ts';
import {
  EXPIRES_AT_ATTRIBUTE,
  expiresAt,
  HOLD_TAG_KEY,
  HOLD_TAG_VALUES,
  notHeldTagging,
} from '../../../lib/retention/retention.ts';

const thirty = readRetentionConfig({ RETENTION_DAYS: '30' });

describe('expiresAt', () => {
  it('is the day count after the call was initiated, in Unix seconds', () => {
    expect(expiresAt({ initiatedAt: 1_700_000_000, enrichedAt: '2025-01-01T00:00:00Z' }, thirty)).toBe(
      1_700_000_000 + 30 * 86_400,
    );
  });

  it('counts from the commit when the call has no initiation time', () => {
    expect(expiresAt({ enrichedAt: '2025-01-01T00:00:00.500Z' }, thirty)).toBe(
      Date.UTC(2025, 0, 1) / 1000 + 30 * 86_400,
    );
  });

  it('is undefined without retention, and for a held call: the item then never expires', () => {
    const call = { initiatedAt: 1_700_000_000, enrichedAt: '2025-01-01T00:00:00Z' };

    expect(expiresAt(call, undefined)).toBeUndefined();
    expect(expiresAt(call, thirty, { held: true })).toBeUndefined();
  });
});

describe('the hold tag', () => {
  it('is hold=false as written, matching the lifecycle filter and TTL attribute in the template', () => {
    expect(notHeldTagging()).toBe('hold=false');
    expect([HOLD_TAG_KEY, HOLD_TAG_VALUES]).toEqual(['hold', { notHeld: 'false', held: 'true' }]);
    expect(EXPIRES_AT_ATTRIBUTE).toBe('expiresAt');
  });
});
