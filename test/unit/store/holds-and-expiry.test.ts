/**
 * What the store keeps of retention and holds when it merges and indexes (issue 13.2): a hold is
 * the archive's own state, never lost to a CometChat response; the index expires with its call;
 * a redacted participant (erasure) is found through no index item.
 */
import { describe, expect, it } from 'vitest';
import type { CallItem } from '../../../lib/calls/types.ts';
import { mergeCall, sameCall } from '../../../lib/store/merge-call.ts';
import { participantIndexItems } from '../../../lib/store/participant-index.ts';
import { callDraft, T0 } from './call-records.ts';

const SESSION = 'v1.us.holds';
const ENDED = {
  status: 'ended' as const,
  startedAt: T0,
  endedAt: T0 + 60,
  participants: [
    { uid: 'alice', deviceId: 'a', joinedAt: T0 },
    { uid: 'bob', deviceId: 'b', joinedAt: T0 },
  ],
};
const stored = (extra: Partial<CallItem>): CallItem => ({
  ...callDraft(SESSION, ENDED),
  enrichedAt: '2023-11-15T08:00:00.000Z',
  revision: 2,
  ...extra,
});

describe('merge', () => {
  it('carries a hold into a call merged from a response, which cannot know of it', () => {
    expect(mergeCall(stored({ held: true }), callDraft(SESSION, ENDED)).held).toBe(true);
    expect(mergeCall(stored({}), callDraft(SESSION, ENDED))).not.toHaveProperty('held');
  });

  it('treats expiresAt as a stamp, like enrichedAt: not a change of the call', () => {
    expect(sameCall(callDraft(SESSION, ENDED), stored({ expiresAt: T0 + 86_400 }))).toBe(true);
  });
});

describe('participant index items', () => {
  it('carry the call item’s expiresAt, and none when the call has none', () => {
    const items = participantIndexItems({ ...callDraft(SESSION, ENDED), expiresAt: 1_900_000_000 });

    expect(items.map((i) => i.expiresAt)).toEqual([1_900_000_000, 1_900_000_000]);
    expect(participantIndexItems(callDraft(SESSION, ENDED))[0]).not.toHaveProperty('expiresAt');
  });

  it('leave out a redacted participant', () => {
    const draft = callDraft(SESSION, ENDED);
    const [alice, bob] = draft.participants;
    const items = participantIndexItems({
      ...draft,
      participants: [
        alice as NonNullable<typeof alice>,
        { ...(bob as NonNullable<typeof bob>), redacted: true },
      ],
    });

    expect(items.map((i) => i.uid)).toEqual(['alice']);
  });
});
