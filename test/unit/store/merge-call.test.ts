import { describe, expect, it } from 'vitest';
import type { CallDraft, CallItem } from '../../../lib/calls/types.ts';
import { mergeCall, sameCall } from '../../../lib/store/merge-call.ts';
import { type CallSpec, callDraft, T0 } from './call-records.ts';

const SESSION = 'v1.us.merge';
const stored = (draft: CallDraft): CallItem => ({
  ...draft,
  enrichedAt: '2023-11-15T08:00:00.000Z',
  revision: 3,
});

const ONGOING: CallSpec = {
  status: 'ongoing',
  startedAt: T0,
  participants: [{ uid: 'alice', deviceId: 'a', joinedAt: T0 }],
};
const ENDED: CallSpec = {
  status: 'ended',
  startedAt: T0,
  endedAt: T0 + 60,
  participants: [{ uid: 'alice', deviceId: 'a', joinedAt: T0, leftAt: T0 + 60 }],
};

describe('mergeCall', () => {
  it('takes the first response as it is', () => {
    const next = callDraft(SESSION, ENDED);

    expect(mergeCall(undefined, next)).toBe(next);
  });

  it('never moves the status back, but adds the recordings an older-looking response names', () => {
    const previous = stored(callDraft(SESSION, { ...ENDED, recordings: [{ rid: 'r2' }] }));

    const merged = mergeCall(previous, callDraft(SESSION, { ...ONGOING, recordings: [{ rid: 'r1' }] }));

    expect(merged.status).toBe('ended');
    expect(merged.participants).toEqual(ENDED.participants);
    expect(merged.recordings.map((r) => r.rid)).toEqual(['r1', 'r2']);
    expect(merged.hasRecording).toBe(true);
  });

  it('keeps the later of two responses of the same status, by the latest time in them', () => {
    const previous = stored(callDraft(SESSION, { ...ENDED, endedAt: T0 + 90 }));

    expect(mergeCall(previous, callDraft(SESSION, ENDED)).endedAt).toBe(T0 + 90);
    expect(
      mergeCall(stored(callDraft(SESSION, ENDED)), callDraft(SESSION, { ...ENDED, endedAt: T0 + 90 }))
        .endedAt,
    ).toBe(T0 + 90);
  });

  it('never removes a recording or transcript a response leaves out', () => {
    const previous = stored({
      ...callDraft(SESSION, { ...ENDED, recordings: [{ rid: 'r1' }] }),
      hasTranscription: true,
      transcripts: [
        {
          tid: 't1',
          sourceUrl: 'https://h/t1',
          bucket: 'b',
          key: 'k',
          bytes: 1,
          sha256: 'ab',
          copiedAt: 'x',
        },
      ],
    });

    const merged = mergeCall(previous, callDraft(SESSION, ENDED));

    expect(merged.recordings.map((r) => r.rid)).toEqual(['r1']);
    expect(merged.transcripts.map((t) => t.tid)).toEqual(['t1']);
    expect(merged).toMatchObject({ hasRecording: true, hasTranscription: true });
  });

  it("takes the response's entry for a recording both name (a fresh copy replaces a lost one)", () => {
    const previous = stored(callDraft(SESSION, { ...ENDED, recordings: [{ rid: 'r1', bytes: 1 }] }));

    const merged = mergeCall(
      previous,
      callDraft(SESSION, { ...ENDED, recordings: [{ rid: 'r1', bytes: 2 }] }),
    );

    expect(merged.recordings.map((r) => r.bytes)).toEqual([2]);
  });
});

describe("mergeCall (the archive's own attributes)", () => {
  it('keeps the manifest key a response cannot know, and takes a new one', () => {
    const previous = stored({ ...callDraft(SESSION, ENDED), manifestKey: 'recordings/s/call.json' });

    expect(mergeCall(previous, callDraft(SESSION, ENDED)).manifestKey).toBe('recordings/s/call.json');
    expect(mergeCall(previous, { ...callDraft(SESSION, ONGOING), manifestKey: 'k2' }).manifestKey).toBe('k2');
  });
});

describe('sameCall', () => {
  it('ignores the write stamps and nothing else', () => {
    const draft = callDraft(SESSION, { ...ENDED, recordings: [{ rid: 'r1' }] });

    expect(sameCall(draft, stored(draft))).toBe(true);
    expect(sameCall({ ...draft, endedAt: T0 + 61 }, stored(draft))).toBe(false);
    expect(sameCall(mergeCall(stored(draft), callDraft(SESSION, ENDED)), stored(draft))).toBe(true);
  });
});
