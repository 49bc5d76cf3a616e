import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  contentHash,
  contentOf,
  formatVersion,
  freshnessOf,
  versionOf,
} from '../../../lib/store/call-version.ts';
import { callRecords, newSessionId, T0 } from './call-records.ts';

const SESSION = newSessionId();
const ENDED = callRecords(SESSION, {
  status: 'ended',
  startedAt: T0 + 5,
  endedAt: T0 + 65,
  participants: [
    { uid: 'alice', deviceId: 'a1', joinedAt: T0 + 5, leftAt: T0 + 65 },
    { uid: 'bob', deviceId: 'b1', joinedAt: T0 + 10, leftAt: T0 + 70 },
  ],
  recordings: [{ rid: 'r1', startTime: T0 + 6, endTime: T0 + 60 }],
});

describe('contentOf', () => {
  it('drops undefined values and store attributes, and keeps everything else', () => {
    const item = {
      sk: 'CALL',
      name: undefined,
      enrichedAt: 'x',
      copiedAt: 'y',
      version: 'v',
      hasRecording: false,
    };

    expect(contentOf(item)).toEqual({ sk: 'CALL', hasRecording: false });
    expect(Object.keys(contentOf(item))).toEqual(['sk', 'hasRecording']);
  });
});

describe('contentHash', () => {
  it('ignores write times, store attributes and the order of participants', () => {
    const restamped = {
      call: { ...ENDED.call, enrichedAt: '2030-01-01T00:00:00.000Z', contentHash: 'old', statusRank: 9 },
      participants: [...ENDED.participants].reverse(),
      recordings: ENDED.recordings.map((r) => ({ ...r, copiedAt: '2030-01-01T00:00:00.000Z' })),
    };

    expect(contentHash(restamped)).toBe(contentHash(ENDED));
  });

  it('changes when any participant attribute changes', () => {
    const [first, ...rest] = ENDED.participants;
    if (!first) throw new Error('fixture has no participants');
    const changed = { ...ENDED, participants: [{ ...first, totalAudioMinutes: 0.5 }, ...rest] };

    expect(contentHash(changed)).not.toBe(contentHash(ENDED));
    expect(contentHash(ENDED)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('freshnessOf', () => {
  it('is the latest time in the call, its participants and recordings', () => {
    expect(freshnessOf(ENDED)).toBe(T0 + 70);
    expect(freshnessOf({ ...ENDED, participants: [], recordings: [] })).toBe(T0 + 65);
  });

  it('is 0 when the records hold no time at all', () => {
    const { initiatedAt: _i, startedAt: _s, endedAt: _e, ...call } = ENDED.call;

    expect(freshnessOf({ call, participants: [], recordings: [] })).toBe(0);
  });
});

describe('versionOf', () => {
  it('orders a terminal call above an ongoing one fetched at a later time', () => {
    const ongoing = callRecords(SESSION, {
      status: 'ongoing',
      startedAt: T0 + 5,
      participants: [{ uid: 'alice', deviceId: 'a1', joinedAt: T0 + 500 }],
    });

    expect(versionOf(ENDED) > versionOf(ongoing)).toBe(true);
  });

  it('orders versions as (status rank, freshness, recording count) tuples', () => {
    const part = fc.tuple(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 10 ** 13 }),
      fc.nat(100_000),
    );
    fc.assert(
      fc.property(part, part, (a, b) => {
        const byTuple = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
        const [va, vb] = [formatVersion(...a), formatVersion(...b)];
        const byString = va < vb ? -1 : va > vb ? 1 : 0;
        expect(byString).toBe(Math.sign(byTuple));
      }),
    );
  });
});
