import { describe, expect, it } from 'vitest';
import { normaliseCall } from '../../../lib/calls/normalise.ts';
import { InvalidCallDataError, RecordingRejectedError } from '../../../lib/errors.ts';
import { thrownBy } from '../../support/errors.ts';
import { absentValueViolations, expectValidNormalisedCall, loadCallFixture } from './invariants.ts';

const SESSION = 'v1.us.31780434a95d45.1716200400c4d9a2e7f13b6058e2d1c7a9b4f0e6d3c8a5b172';
const SECONDS = 1716200400;
const ISO = '2024-05-20T10:20:00.000Z';

function call(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { sessionId: SESSION, status: 'ended', ...fields };
}

/** Every ordering of `items` (small arrays only). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('normaliseCall', () => {
  describe('on the Get Call reference example', () => {
    it('produces the call item the data model describes', () => {
      const raw = loadCallFixture('get-call-reference.json');
      const id = 'v1.eu.2574867aa2e6e417.17158459999d7fa95b1b4faea599f11eb5ecf07611b0b335c3';

      const result = normaliseCall(raw, id);

      expect(result.call).toEqual({
        pk: `CALL#${id}`,
        sk: 'CALL',
        entity: 'call',
        sessionId: id,
        type: 'audio',
        mode: 'call',
        status: 'initiated',
        receiverType: 'user',
        initiator: 'cometchat-uid-1',
        receiver: 'cometchat-uid-2',
        initiatedAt: 1715845999,
        durationSeconds: 0,
        totalAudioMinutes: 0,
        totalVideoMinutes: 0,
        totalParticipants: 0,
        hasRecording: false,
        participants: result.call.participants,
        recordings: [],
        transcripts: [],
        gsi2pk: 'DAY#2024-05-16',
        gsi2sk: `2024-05-16T07:53:19.000Z#${id}`,
      });
    });

    it('produces one participant entry per entry, without device ids', () => {
      const raw = loadCallFixture('get-call-reference.json');

      const {
        call: { participants },
        recordings,
      } = normaliseCall(raw);

      expect(participants).toEqual([
        {
          uid: 'cometchat-uid-1',
          name: 'Andrew Joseph',
          avatar: 'https://assets.cometchat.io/sampleapp/v2/users/cometchat-uid-1.webp',
          isJoined: false,
          durationSeconds: 0,
          totalAudioMinutes: 0,
          totalVideoMinutes: 0,
        },
        {
          uid: 'cometchat-uid-2',
          name: 'George Alan',
          avatar: 'https://assets.cometchat.io/sampleapp/v2/users/cometchat-uid-2.webp',
          state: 'unanswered',
          isJoined: false,
          durationSeconds: 0,
          totalAudioMinutes: 0,
          totalVideoMinutes: 0,
        },
      ]);
      expect(recordings).toEqual([]);
    });
  });

  describe('on a plain ended audio call', () => {
    it('measures the call and each participant from their timestamps', () => {
      const raw = loadCallFixture('audio-call-ended.json');

      const result = normaliseCall(raw);

      expectValidNormalisedCall(result);
      expect(result.call).toMatchObject({
        status: 'ended',
        startedAt: 1715932004,
        endedAt: 1715932316,
        durationSeconds: 312,
        totalAudioMinutes: 10.366666666666667,
        totalParticipants: 2,
        hasRecording: false,
        gsi2pk: 'DAY#2024-05-17',
      });
      expect(result.call.participants.map((p) => [p.uid, p.deviceId, p.durationSeconds, p.state])).toEqual([
        ['cometchat-uid-1', '3f6c1a7e-2d4b-4c8a-9e1f-7b5d3c2a1e90', 312, 'ended'],
        ['cometchat-uid-2', 'b2e8d4f6-1a3c-4e5b-8d7f-9c0a1b2c3d4e', 310, 'ended'],
      ]);
    });
  });

  describe('on a group video call with one user on two devices and two recordings', () => {
    it('keeps both devices of the same uid as separate participants', () => {
      const raw = loadCallFixture('group-video-two-devices.json');

      const { participants } = normaliseCall(raw, SESSION).call;

      expect(participants.map((p) => [p.uid, p.deviceId, p.durationSeconds])).toEqual([
        ['cometchat-uid-3', 'laptop-5e2f0a9c-7d41-4b8e-a3f6-1c9d2e7b4a05', 1800],
        ['cometchat-uid-4', 'laptop-f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f', 910],
        ['cometchat-uid-4', 'phone-8a1b2c3d-4e5f-4061-8273-9a8b7c6d5e4f', 600],
        ['cometchat-uid-5', undefined, 0],
      ]);
      expect(participants[0]?.state).toBeUndefined();
      expect(participants[3]).toMatchObject({ isJoined: false, state: 'unanswered' });
      expect(participants[3]?.joinedAt).toBeUndefined();
    });

    it('reads both recording spellings, with numbers and numeric strings', () => {
      const raw = loadCallFixture('group-video-two-devices.json');

      const { call: item, recordings } = normaliseCall(raw, SESSION);

      const base = `https://recordings.cometchat.io/31780434a95d45/${SESSION}`;
      expect(recordings).toEqual([
        {
          rid: 'rec-7f3a9c1e',
          url: `${base}/rec-7f3a9c1e.mp4?Expires=1716286810&Signature=dGhpcy1pcy1hLWZha2Utc2lnbmF0dXJl&Key-Pair-Id=K2JCJMDEHXQW5F`,
          sourceUrl: `${base}/rec-7f3a9c1e.mp4`,
          startTime: 1716200412,
          endTime: 1716201312,
          durationSeconds: 900,
        },
        {
          rid: 'rec-b41d62f0',
          url: `${base}/rec-b41d62f0.mp4`,
          sourceUrl: `${base}/rec-b41d62f0.mp4`,
          startTime: 1716201320,
          endTime: 1716202205,
          durationSeconds: 885,
        },
      ]);
      expect(item).toMatchObject({
        type: 'video',
        mode: 'meet',
        receiverType: 'group',
        receiver: 'supergroup',
        hasRecording: true,
        totalVideoMinutes: 68.25,
      });
    });

    it('satisfies every invariant', () => {
      expectValidNormalisedCall(normaliseCall(loadCallFixture('group-video-two-devices.json')));
    });
  });

  describe('status', () => {
    it('reads the American spelling "canceled" as cancelled', () => {
      const raw = loadCallFixture('audio-call-canceled.json');

      expect(normaliseCall(raw).call.status).toBe('cancelled');
    });

    it.each([
      ['ENDED', 'ended'],
      [' Ongoing ', 'ongoing'],
      ['Canceled', 'cancelled'],
      ['CANCELLED', 'cancelled'],
      ['missed', 'missed'],
    ])('reads %j as %s, ignoring case', (status, expected) => {
      expect(normaliseCall(call({ status })).call.status).toBe(expected);
    });

    it('rejects a call without status', () => {
      expect(thrownBy(() => normaliseCall({ sessionId: SESSION }), InvalidCallDataError).message).toMatch(
        /no status/,
      );
    });

    it.each([[3], [null], [['ended']]])('rejects the non-string status %j', (status) => {
      expect(() => normaliseCall(call({ status }))).toThrow(InvalidCallDataError);
    });

    it('rejects a status it cannot rank, without echoing control characters', () => {
      const error = thrownBy(() => normaliseCall(call({ status: 'on\nhold' })), InvalidCallDataError);

      expect(error.message).toContain('"on\\u000ahold"');
      expect(error.message).not.toContain('\n');
    });
  });

  describe('sessionId', () => {
    it.each([
      ['missing', {}],
      ['empty', { sessionId: '' }],
      ['a number', { sessionId: 42 }],
      ['too long', { sessionId: 'x'.repeat(257) }],
      ['with a control character', { sessionId: 'a\u0000b' }],
    ])('rejects a call whose sessionId is %s', (_label, fields) => {
      const raw = { status: 'ended', ...fields };

      const error = thrownBy(() => normaliseCall(raw), InvalidCallDataError);

      expect(error.message).toMatch(/sessionId/);
    });

    it('rejects a call for another session than the one asked for', () => {
      const error = thrownBy(() => normaliseCall(call(), 'v1.us.other'), InvalidCallDataError);

      expect(error.message).toContain('v1.us.other');
    });

    it('accepts a call for the session asked for', () => {
      expect(normaliseCall(call(), SESSION).call.sessionId).toBe(SESSION);
    });

    it.each([[null], [[call()]], ['call'], [7]])('rejects %j, which is not an object', (raw) => {
      expect(() => normaliseCall(raw)).toThrow(InvalidCallDataError);
    });
  });

  describe('timestamps', () => {
    it('converts millisecond timestamps to seconds', () => {
      const raw = call({
        initiatedAt: SECONDS * 1000,
        startedAt: `${(SECONDS + 5) * 1000}`,
        endedAt: 1716200465123,
      });

      const { call: item } = normaliseCall(raw);

      expect(item).toMatchObject({
        initiatedAt: SECONDS,
        startedAt: SECONDS + 5,
        endedAt: SECONDS + 65,
        durationSeconds: 60,
        gsi2pk: 'DAY#2024-05-20',
        gsi2sk: `${ISO}#${SESSION}`,
      });
    });

    it('files a call that has startedAt but no initiatedAt under the day it started', () => {
      const raw = call({ startedAt: SECONDS + 5 });
      delete raw.initiatedAt;

      const { call: item } = normaliseCall(raw);

      expect(item.initiatedAt).toBeUndefined();
      expect(item).toMatchObject({
        startedAt: SECONDS + 5,
        gsi2pk: 'DAY#2024-05-20',
        gsi2sk: `${new Date((SECONDS + 5) * 1000).toISOString()}#${SESSION}`,
      });
    });

    it('prefers initiatedAt over startedAt for the day', () => {
      const { call: item } = normaliseCall(call({ initiatedAt: SECONDS, startedAt: SECONDS + 86_400 }));

      expect(item.gsi2sk).toBe(`${ISO}#${SESSION}`);
    });

    it('leaves negative, non-numeric and absurd timestamps absent, and the indexes with them', () => {
      const raw = call({ initiatedAt: -5, startedAt: 'yesterday', endedAt: 1e20 });

      const { call: item } = normaliseCall(raw);

      expect(item.initiatedAt).toBeUndefined();
      expect(item.startedAt).toBeUndefined();
      expect(item.endedAt).toBeUndefined();
      expect(item.gsi2pk).toBeUndefined();
      expect(item.gsi2sk).toBeUndefined();
      expect(Object.keys(item)).not.toContain('gsi2pk');
    });
  });

  describe('durations', () => {
    it.each([
      ['01:02:03', 3723],
      ['05:12', 312],
      ['00:00:19.6', 20],
    ])('reads totalDuration %s as %d seconds when there are no timestamps', (totalDuration, expected) => {
      expect(normaliseCall(call({ totalDuration })).call.durationSeconds).toBe(expected);
    });

    it('prefers endedAt - startedAt over the reported totals', () => {
      const raw = call({
        startedAt: 100,
        endedAt: 160,
        totalDuration: '00:10:00',
        totalDurationInMinutes: 10,
      });

      expect(normaliseCall(raw).call.durationSeconds).toBe(60);
    });

    it('falls back to the reported total when endedAt is before startedAt', () => {
      const raw = call({ startedAt: 200, endedAt: 100, totalDuration: '00:01:00' });

      expect(normaliseCall(raw).call.durationSeconds).toBe(60);
    });

    it('falls back to totalDurationInMinutes, rounding to whole seconds', () => {
      const raw = call({ totalDuration: 'n/a', totalDurationInMinutes: 0.31666666666666665 });

      expect(normaliseCall(raw).call.durationSeconds).toBe(19);
    });

    it('leaves the duration absent when nothing says it', () => {
      expect(normaliseCall(call()).call).not.toHaveProperty('durationSeconds');
    });

    it.each([
      ['totalDurationInMinutes', { totalDurationInMinutes: 2.5, totalDuration: 9 }, 150],
      ['totalDuration as minutes', { totalDuration: 2.5 }, 150],
      ['totalDuration as a clock', { totalDuration: '00:10:00' }, 600],
      ['joinedAt and leftAt first', { joinedAt: 10, leftAt: 70, totalDurationInMinutes: 5 }, 60],
    ])('measures a participant from %s', (_label, fields, expected) => {
      const { participants } = normaliseCall(call({ participants: [{ uid: 'u1', ...fields }] })).call;

      expect(participants[0]?.durationSeconds).toBe(expected);
    });
  });

  describe('participants', () => {
    const duplicates = [
      { uid: 'u1', deviceId: 'd1', joinedAt: 300, leftAt: 400, name: 'third' },
      { uid: 'u1', deviceId: 'd1', joinedAt: 100, leftAt: 150, name: 'first' },
      { uid: 'u1', deviceId: 'd1', joinedAt: 100, leftAt: 200, name: 'second' },
      { uid: 'u1', deviceId: 'd1', name: 'fourth' },
      { uid: 'u1', deviceId: 'd2', joinedAt: 50 },
    ];

    it('keeps every repeat of a (uid, device) pair, in time order', () => {
      const { participants } = normaliseCall(call({ participants: duplicates })).call;

      expect(participants.map((p) => [p.deviceId, p.name])).toEqual([
        ['d1', 'first'],
        ['d1', 'second'],
        ['d1', 'third'],
        ['d1', 'fourth'],
        ['d2', undefined],
      ]);
    });

    it('gives the same list whatever order CometChat lists the entries in', () => {
      const expected = normaliseCall(call({ participants: duplicates }));

      for (const order of permutations(duplicates)) {
        expect(normaliseCall(call({ participants: order }))).toEqual(expected);
      }
    });

    it('orders repeats that differ only in content deterministically', () => {
      const same = [
        { uid: 'u1', name: 'b' },
        { uid: 'u1', name: 'a' },
        { uid: 'u1', name: 'c', state: 'ended' },
      ];
      const expected = normaliseCall(call({ participants: same }));

      for (const order of permutations(same)) {
        expect(normaliseCall(call({ participants: order })).call.participants).toEqual(
          expected.call.participants,
        );
      }
    });

    it('skips entries that are not objects or have no usable uid', () => {
      const participants = [
        null,
        'u1',
        7,
        [],
        { name: 'no uid' },
        { uid: '' },
        { uid: '   ' },
        { uid: 42 },
        { uid: 'bad\nuid' },
        { uid: 'ok' },
      ];

      const result = normaliseCall(call({ participants }));

      expect(result.call.participants.map((p) => p.uid)).toEqual(['ok']);
    });

    it('keeps a long or non-ASCII uid whole', () => {
      const participants = [{ uid: 'x'.repeat(300) }, { uid: 'ünï#~' }];

      const result = normaliseCall(call({ participants }));

      expect(result.call.participants.map((p) => p.uid)).toEqual(['x'.repeat(300), 'ünï#~']);
    });

    it('copes with more than the documented 50 entries', () => {
      const participants = Array.from({ length: 120 }, (_, i) => ({ uid: `u${i % 7}`, joinedAt: i }));

      const result = normaliseCall(call({ participants }));

      expect(result.call.participants).toHaveLength(120);
      expectValidNormalisedCall(result);
    });

    it('ignores a participants field that is not an array', () => {
      expect(normaliseCall(call({ participants: { uid: 'u1' } })).call.participants).toEqual([]);
    });
  });

  describe('recordings', () => {
    const url = 'https://recordings.cometchat.io/app/session/r1.mp4';

    it('keeps every rid as it is, whatever it holds', () => {
      const rids = ['../escape', 'a/b', 'ünï', 'r'.repeat(129), '#'.repeat(256), 'fine'];
      const recordings = rids.map((rid) => ({ rid, recording_url: url }));

      const result = normaliseCall(call({ recordings }));

      expect(result.recordings.map((r) => r.rid)).toEqual([...rids].sort());
    });

    it('gives a recording without a rid a stable id derived from its URL path', () => {
      const first = normaliseCall(call({ recordings: [{ recording_url: `${url}?Signature=1` }] }));
      const again = normaliseCall(call({ recordings: [{ rid: '', recordingUrl: `${url}?Signature=2` }] }));
      const other = normaliseCall(call({ recordings: [{ recording_url: `${url}.2` }] }));

      expect(first.recordings[0]?.rid).toMatch(/^url-[0-9a-f]{32}$/);
      expect(again.recordings[0]?.rid).toBe(first.recordings[0]?.rid);
      expect(other.recordings[0]?.rid).not.toBe(first.recordings[0]?.rid);
    });

    it.each([
      ['no URL', { rid: 'no-url' }],
      ['an empty URL', { rid: 'empty', recording_url: '' }],
      ['a relative URL', { rid: 'relative', recording_url: '/r1.mp4' }],
      ['an unparseable URL', { rid: 'garbage', recordingUrl: 'not a url' }],
      ['a URL that is not a string', { rid: 'number-url', recording_url: 42 }],
    ])('refuses a recording with %s, naming it but not the URL', (_what, entry) => {
      const error = thrownBy(() => normaliseCall(call({ recordings: [entry] })), RecordingRejectedError);

      expect(error.message).toContain(entry.rid);
    });

    it('refuses a recording entry that is not an object', () => {
      expect(() => normaliseCall(call({ recordings: [null] }))).toThrow(InvalidCallDataError);
    });

    it('turns a numeric rid into a string', () => {
      const { recordings } = normaliseCall(call({ recordings: [{ rid: 12345, recordingUrl: url }] }));

      expect(recordings[0]?.rid).toBe('12345');
    });

    it('falls back to recordingUrl when recording_url is unusable', () => {
      const { recordings } = normaliseCall(
        call({ recordings: [{ rid: 'r1', recording_url: '', recordingUrl: url }] }),
      );

      expect(recordings[0]?.url).toBe(url);
    });

    it('strips credentials, query string and fragment from sourceUrl but keeps them in url', () => {
      const signed = 'https://user:pass@recordings.cometchat.io/a/r1.mp4?Signature=abc&Expires=1#t=5';

      const { recordings } = normaliseCall(call({ recordings: [{ rid: 'r1', recording_url: signed }] }));

      expect(recordings[0]?.url).toBe(signed);
      expect(recordings[0]?.sourceUrl).toBe('https://recordings.cometchat.io/a/r1.mp4');
    });

    it('keeps one entry per rid, the same one whatever the array order', () => {
      const recordings = [
        { rid: 'r1', recording_url: `${url}?v=late`, startTime: 200 },
        { rid: 'r1', recording_url: `${url}?v=early`, startTime: 100 },
        { rid: 'r0', recording_url: url },
      ];

      for (const order of permutations(recordings)) {
        const result = normaliseCall(call({ recordings: order }));

        expect(result.recordings.map((r) => [r.rid, r.url])).toEqual([
          ['r0', url],
          ['r1', `${url}?v=early`],
        ]);
      }
    });

    it('reads duration as seconds only when the start and end times are missing', () => {
      const recordings = [
        { rid: 'a', recording_url: url, duration: '21.433000' },
        { rid: 'b', recording_url: url, duration: 3, startTime: '100', endTime: '400' },
      ];

      const result = normaliseCall(call({ recordings }));

      expect(result.recordings.map((r) => r.durationSeconds)).toEqual([21, 300]);
    });

    it('sets hasRecording when recordings exist even if the flag says otherwise', () => {
      const raw = call({ hasRecording: false, recordings: [{ rid: 'r1', recording_url: url }] });

      expect(normaliseCall(raw).call).toMatchObject({ hasRecording: true });
    });

    it.each([
      [true, true],
      ['true', true],
      [1, true],
      ['false', false],
      [0, false],
      ['maybe', false],
    ])('reads hasRecording %j as %j when there are no recordings', (hasRecording, expected) => {
      expect(normaliseCall(call({ hasRecording })).call.hasRecording).toBe(expected);
    });
  });

  describe('absent values', () => {
    it('leaves out every empty, null or unusable field instead of writing it', () => {
      const raw = call({
        type: '',
        mode: null,
        receiverType: '   ',
        initiator: 5,
        receiver: {},
        initiatedAt: null,
        startedAt: '',
        totalDuration: '',
        totalDurationInMinutes: 'x',
        totalAudioMinutes: -1,
        totalVideoMinutes: '',
        totalParticipants: 2.5,
        hasRecording: null,
        participants: [
          {
            uid: 'u1',
            name: '',
            deviceId: null,
            state: '',
            isJoined: 'x',
            joinedAt: '',
            totalAudioMinutes: null,
          },
        ],
        recordings: [
          { rid: 'r1', recording_url: 'https://h.example/r1', startTime: '', endTime: null, duration: '' },
        ],
      });

      const result = normaliseCall(raw);

      expect(absentValueViolations(result)).toEqual([]);
      expect(result.call).toEqual({
        pk: `CALL#${SESSION}`,
        sk: 'CALL',
        entity: 'call',
        sessionId: SESSION,
        status: 'ended',
        hasRecording: true,
        participants: [{ uid: 'u1' }],
        recordings: [],
        transcripts: [],
      });
      expect(Object.keys(result.recordings[0] ?? {}).sort()).toEqual(['rid', 'sourceUrl', 'url']);
    });

    it('derives initiator and receiver from data.entities when the top-level fields are missing', () => {
      const raw = call({
        data: {
          entities: {
            initiator: { entity: { uid: 'cometchat-uid-1' } },
            receiver: { entity: { uid: 'cometchat-uid-2' } },
          },
        },
      });

      expect(normaliseCall(raw).call).toMatchObject({
        initiator: 'cometchat-uid-1',
        receiver: 'cometchat-uid-2',
      });
    });
  });

  describe('hostile input', () => {
    it('reads nothing through a JSON "__proto__" key and pollutes nothing', () => {
      const raw: unknown = JSON.parse(
        `{"sessionId": "${SESSION}", "status": "ended", "__proto__": {"type": "video", "polluted": true}}`,
      );

      const result = normaliseCall(raw);

      expect(result.call.type).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('ignores inherited properties', () => {
      const raw = Object.create({ status: 'ended', participants: [{ uid: 'u1' }] }) as Record<
        string,
        unknown
      >;
      raw.sessionId = SESSION;

      expect(() => normaliseCall(raw)).toThrow(InvalidCallDataError);
    });

    it('ignores non-enumerable own properties', () => {
      const raw = call();
      Object.defineProperty(raw, 'type', { value: 'video', enumerable: false });

      expect(normaliseCall(raw).call.type).toBeUndefined();
    });
  });
});

describe('transcripts', () => {
  const base = { sessionId: 'v1.us.t', status: 'ended' };
  const url = (q: string) => `https://transcripts.cometchat.io/v1/abc.json?Signature=${q}`;

  it('reads transcriptUrl and url, keeps times, and stores the URL without its query', () => {
    const { transcripts, call } = normaliseCall({
      ...base,
      transcriptions: [
        { tid: 't1', transcriptUrl: url('a'), startTime: 10, endTime: '20', mid: 'm' },
        { tid: 't2', url: 'https://transcripts.cometchat.io/x.vtt' },
      ],
    });

    expect(transcripts).toEqual([
      {
        tid: 't1',
        url: url('a'),
        sourceUrl: 'https://transcripts.cometchat.io/v1/abc.json',
        startTime: 10,
        endTime: 20,
      },
      {
        tid: 't2',
        url: 'https://transcripts.cometchat.io/x.vtt',
        sourceUrl: 'https://transcripts.cometchat.io/x.vtt',
      },
    ]);
    expect(call.hasTranscription).toBe(true);
  });

  it('gives a transcript without tid a stable id from its URL path, whatever the signature', () => {
    const first = normaliseCall({ ...base, transcriptions: [{ transcriptUrl: url('a') }] }).transcripts;
    const second = normaliseCall({ ...base, transcriptions: [{ transcriptUrl: url('b') }] }).transcripts;

    expect(first[0]?.tid).toMatch(/^url-[0-9a-f]{32}$/);
    expect(second[0]?.tid).toBe(first[0]?.tid);
  });

  it.each([
    ['no URL', { tid: 't' }, RecordingRejectedError],
    ['a relative URL', { tid: 't', transcriptUrl: '/x.json' }, RecordingRejectedError],
    ['an entry that is not an object', 'oops', InvalidCallDataError],
  ])('fails by name on %s, never drops it', (_, entry, type) => {
    expect(() => normaliseCall({ ...base, transcriptions: [entry] })).toThrow(type);
  });
});
