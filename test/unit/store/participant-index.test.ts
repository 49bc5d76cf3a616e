import { describe, expect, it } from 'vitest';
import type { Participant } from '../../../lib/calls/types.ts';
import {
  participantIndexItems,
  UNDATED_SORT_TIME,
  userIndexSortKey,
} from '../../../lib/store/participant-index.ts';
import { callDraft, T0 } from './call-records.ts';

const SESSION = 'v1.us.index';
const sksOf = (participants: Participant[]) =>
  participantIndexItems(callDraft(SESSION, { status: 'ended', participants })).map((i) => i.sk);

describe('participantIndexItems', () => {
  it('derives one byUser item per entry, with the call time and session', () => {
    const [item] = participantIndexItems(
      callDraft(SESSION, {
        status: 'ended',
        initiatedAt: T0,
        participants: [{ uid: 'alice', name: 'Alice' }],
      }),
    );

    expect(item).toEqual({
      pk: `CALL#${SESSION}`,
      sk: 'PARTICIPANT#alice#-',
      entity: 'participant',
      sessionId: SESSION,
      uid: 'alice',
      name: 'Alice',
      gsi1pk: 'USER#alice',
      gsi1sk: `2023-11-14T22:13:20.000Z#${SESSION}`,
    });
  });

  it('always has a byUser sort key: initiatedAt, else startedAt, else a time that sorts oldest', () => {
    const keyOf = (times: { initiatedAt?: number; startedAt?: number }) => {
      const {
        initiatedAt: _i,
        startedAt: _s,
        ...draft
      } = callDraft(SESSION, {
        status: 'ended',
        participants: [{ uid: 'a' }],
      });
      return participantIndexItems({ ...draft, ...times })[0]?.gsi1sk;
    };

    expect(keyOf({ initiatedAt: T0, startedAt: T0 + 60 })).toBe(`2023-11-14T22:13:20.000Z#${SESSION}`);
    expect(keyOf({ startedAt: T0 + 60 })).toBe(`2023-11-14T22:14:20.000Z#${SESSION}`);
    expect(keyOf({})).toBe(`${UNDATED_SORT_TIME}#${SESSION}`);
    expect(UNDATED_SORT_TIME).toBe('0000-00-00T00:00:00.000Z');
    expect(`${UNDATED_SORT_TIME}#${SESSION}` < `${new Date(0).toISOString()}#${SESSION}`).toBe(true);
    expect(userIndexSortKey({ sessionId: SESSION })).toBe(keyOf({}));
  });

  it('numbers repeats of a (uid, device) pair in list order', () => {
    expect(sksOf([{ uid: 'u', deviceId: 'd' }, { uid: 'u', deviceId: 'd' }, { uid: 'u' }])).toEqual([
      'PARTICIPANT#u#d',
      'PARTICIPANT#u#d#2',
      'PARTICIPANT#u#-',
    ]);
  });

  it('keeps keys unique when ids contain the separators, the placeholder or the escape', () => {
    const sks = sksOf([
      { uid: 'a#b', deviceId: 'c' },
      { uid: 'a', deviceId: 'b#c' },
      { uid: 'a', deviceId: '-' },
      { uid: 'a' },
      { uid: 'a', deviceId: 'x#2' },
      { uid: 'a', deviceId: 'x' },
      { uid: 'a', deviceId: 'x' },
      { uid: 'a', deviceId: '%23' },
    ]);

    expect(new Set(sks).size).toBe(sks.length);
    expect(sks).toContain('PARTICIPANT#a#%2D');
  });

  it('shortens a long id to a readable start and a hash, deterministically and within 1,024 bytes', () => {
    const long = 'ü'.repeat(2000);
    const [sk, other] = sksOf([
      { uid: long, deviceId: '#'.repeat(256) },
      { uid: `${long}x`, deviceId: '#'.repeat(256) },
    ]);

    expect(sk).toMatch(/^PARTICIPANT#ü+~[0-9a-f]{32}#(%23)+~[0-9a-f]{32}$/);
    expect(Buffer.byteLength(sk ?? '')).toBeLessThanOrEqual(1024);
    expect(other).not.toBe(sk);
    expect(sksOf([{ uid: long, deviceId: '#'.repeat(256) }])).toEqual([sk]);
  });
});
