import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseCall } from '../../../lib/calls/normalise.ts';
import { MAX_SESSION_ID_LENGTH, parseSessionId, sessionIdFromEvent } from '../../../lib/calls/session-id.ts';
import { CALL_STATUSES, type NormalisedCall } from '../../../lib/calls/types.ts';
import { InvalidCallDataError, InvalidInputError, RecordingRejectedError } from '../../../lib/errors.ts';
import { expectValidNormalisedCall } from './invariants.ts';

/** Anything at all, including what JSON cannot hold but a careless caller could pass. */
const garbage = fc.oneof(
  fc.jsonValue(),
  fc.double(),
  fc.constantFrom(undefined, null, '', ' ', '\u0000', -1, Number.NaN, Number.POSITIVE_INFINITY, 1e300),
);

const sessionId = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^v1\.(us|eu|in)\.[0-9a-f]{14}\.[0-9a-f]{20,60}$/) },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: garbage },
);

const status = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...CALL_STATUSES, 'canceled', 'ENDED', ' Ongoing ', 'Canceled') },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: garbage },
);

const seconds = fc.integer({ min: 1_600_000_000, max: 1_800_000_000 });
const timestamp = fc.oneof(
  seconds,
  seconds.map((s) => s * 1000 + 123),
  seconds.map(String),
  fc.double(),
  garbage,
);

const clock = fc
  .tuple(fc.nat(99), fc.nat(59), fc.nat(59))
  .map(([h, m, s]) => [h, m, s].map((n) => String(n).padStart(2, '0')).join(':'));
const quantity = fc.oneof(
  fc.double({ min: 0, max: 1e4, noNaN: true }),
  fc.nat(1000).map(String),
  clock,
  garbage,
);
const text = fc.oneof(
  fc.constantFrom('audio', 'video', 'call', 'meet', 'user', 'group'),
  fc.string(),
  garbage,
);

const participant = fc.record(
  {
    uid: fc.oneof(fc.constantFrom('u1', 'u2', 'a#b', 'a', '%', '-'), fc.string(), garbage),
    deviceId: fc.oneof(fc.constantFrom('d1', 'd2', '-', 'b', '#', 'x#2'), fc.string(), garbage),
    name: text,
    state: fc.oneof(fc.constantFrom('ongoing', 'ended', 'unanswered', 'rejected'), garbage),
    isJoined: fc.oneof(fc.boolean(), fc.constantFrom('true', 'false', 1, 0), garbage),
    joinedAt: timestamp,
    leftAt: timestamp,
    totalDuration: quantity,
    totalDurationInMinutes: quantity,
    totalAudioMinutes: quantity,
    totalVideoMinutes: quantity,
  },
  { requiredKeys: [] },
);

const recordingUrl = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true } }),
  fc.constantFrom(
    'https://recordings.cometchat.io/app/s/r1.mp4?Expires=1&Signature=x',
    'https://u:p@recordings.cometchat.io/r.mp4#frag',
    '/relative/path.mp4',
    'mailto:someone@example.com?subject=x',
  ),
  fc.string(),
  garbage,
);

const recording = fc.record(
  {
    rid: fc.oneof(fc.constantFrom('r1', 'r2', 'r3', '../x', 'a/b'), fc.nat(), fc.string(), garbage),
    recording_url: recordingUrl,
    recordingUrl: recordingUrl,
    startTime: timestamp,
    endTime: timestamp,
    duration: quantity,
    recordingDate: fc.oneof(fc.constant('2024-05-20'), garbage),
  },
  { requiredKeys: [] },
);

const entities = fc.record(
  {
    entities: fc.record(
      {
        initiator: fc.oneof(fc.record({ entity: fc.record({ uid: text }, { requiredKeys: [] }) }), garbage),
        receiver: fc.oneof(fc.record({ entity: fc.record({ uid: text }, { requiredKeys: [] }) }), garbage),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

/** Arrays of mostly-plausible entries with some garbage mixed in. */
function entriesOf<T>(entry: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<unknown[]> {
  return fc.array(fc.oneof({ weight: 5, arbitrary: entry }, { weight: 1, arbitrary: garbage }), {
    maxLength,
  });
}

/** Entries drawn from tiny pools, so that (uid, device) pairs and rids repeat with ties in time. */
const collidingParticipant = fc.record(
  {
    uid: fc.constantFrom('a', 'a#b'),
    deviceId: fc.constantFrom('-', 'c', 'c#2', 'b#c'),
    joinedAt: fc.constantFrom(100, 200),
    leftAt: fc.constant(300),
    name: fc.constantFrom('A', 'B'),
    state: fc.constantFrom('ended', 'ongoing'),
  },
  { requiredKeys: ['uid', 'deviceId'] },
);
const collidingRecording = fc.record(
  {
    rid: fc.constantFrom('r1', 'r2', 7),
    recording_url: fc.constantFrom(
      'https://recordings.cometchat.io/a.mp4',
      'https://recordings.cometchat.io/a.mp4?v=2',
    ),
    startTime: fc.constantFrom(100, '100'),
    endTime: fc.constant(200),
    duration: fc.constantFrom(1, 2),
  },
  { requiredKeys: ['rid', 'recording_url'] },
);

/** A Get Call `data` object that mixes plausible fields, documented variants and garbage. */
const rawCall = fc.record(
  {
    sessionId,
    status,
    type: text,
    mode: text,
    receiverType: text,
    initiator: text,
    receiver: text,
    initiatedAt: timestamp,
    startedAt: timestamp,
    endedAt: timestamp,
    totalDuration: quantity,
    totalDurationInMinutes: quantity,
    totalAudioMinutes: quantity,
    totalVideoMinutes: quantity,
    totalParticipants: quantity,
    hasRecording: fc.oneof(fc.boolean(), fc.constantFrom('true', 'false', 1, 0), garbage),
    participants: fc.oneof(
      { weight: 5, arbitrary: entriesOf(fc.oneof(participant, collidingParticipant), 12) },
      { weight: 1, arbitrary: garbage },
    ),
    recordings: fc.oneof(
      { weight: 5, arbitrary: entriesOf(fc.oneof(recording, collidingRecording), 6) },
      { weight: 1, arbitrary: garbage },
    ),
    data: fc.oneof(entities, garbage),
    tags: garbage,
    mid: garbage,
  },
  { requiredKeys: [] },
);

/** A call that always normalises, with arrays built to repeat uids, devices and rids. */
const validCall = fc.record({
  sessionId: fc.constant('v1.us.31780434a95d45.1716200400c4d9a2e7f13b6058e2d1c7a9b4f0e6d3c8a5b172'),
  status: fc.constantFrom(...CALL_STATUSES),
  initiatedAt: fc.option(seconds, { nil: undefined }),
  participants: entriesOf(fc.oneof({ weight: 3, arbitrary: collidingParticipant }, participant), 15),
  // Every entry usable: an unusable recording fails the whole call (nothing is dropped).
  recordings: fc.array(collidingRecording, { maxLength: 8 }),
});

/**
 * Normalises, then checks the outcome: a valid call, an InvalidCallDataError, or (for a
 * recording it cannot fetch) a RecordingRejectedError; nothing else.
 */
function outcomeOf(raw: unknown, expected?: string): NormalisedCall | Error {
  let result: NormalisedCall;
  try {
    result = normaliseCall(raw, expected);
  } catch (error) {
    expect([InvalidCallDataError, RecordingRejectedError].some((type) => error instanceof type)).toBe(true);
    return error as Error;
  }
  expectValidNormalisedCall(result);
  if (expected !== undefined) expect(result.call.sessionId).toBe(expected);
  return result;
}

describe('normaliseCall (properties)', () => {
  it('returns a valid call or throws a named error for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        outcomeOf(raw);
      }),
    );
  });

  it('returns a valid call or throws a named error for any mix of call fields and garbage', () => {
    let normalised = 0;
    fc.assert(
      fc.property(rawCall, fc.boolean(), (raw, passExpected) => {
        const expected = passExpected && typeof raw.sessionId === 'string' ? raw.sessionId : undefined;
        if (!(outcomeOf(raw, expected) instanceof Error)) normalised++;
      }),
    );
    // Guards the arbitrary itself: a generator that only ever produced rejects would prove nothing.
    expect(normalised).toBeGreaterThan(0);
  });

  it('gives the same result whatever the order of participants and recordings', () => {
    const withShuffles = validCall.chain((raw) =>
      fc.tuple(
        fc.constant(raw),
        fc.shuffledSubarray(raw.participants, {
          minLength: raw.participants.length,
          maxLength: raw.participants.length,
        }),
        fc.shuffledSubarray(raw.recordings, {
          minLength: raw.recordings.length,
          maxLength: raw.recordings.length,
        }),
      ),
    );
    fc.assert(
      fc.property(withShuffles, ([raw, participants, recordings]) => {
        const original = normaliseCall(raw);

        const shuffled = normaliseCall({ ...raw, participants, recordings });

        expectValidNormalisedCall(original);
        expect(shuffled).toStrictEqual(original);
      }),
    );
  });
});

const controlCharacter = fc
  .oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }))
  .map((code) => String.fromCharCode(code));
const printableCharacter = fc
  .oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0xa0, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0x10ffff }),
  )
  .map((codePoint) => String.fromCodePoint(codePoint));

describe('parseSessionId (properties)', () => {
  it('rejects any string with a control character', () => {
    const withControl = fc
      .tuple(
        fc.string({ unit: 'binary', maxLength: 150 }),
        controlCharacter,
        fc.string({ unit: 'binary', maxLength: 150 }),
      )
      .map(([before, control, after]) => `${before}${control}${after}`);
    fc.assert(
      fc.property(withControl, (value) => {
        expect(() => parseSessionId(value)).toThrow(InvalidInputError);
      }),
    );
  });

  it('rejects any string longer than 256 characters', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: printableCharacter, minLength: MAX_SESSION_ID_LENGTH + 1, maxLength: 400 }),
        (value) => {
          expect(() => parseSessionId(value)).toThrow(InvalidInputError);
        },
      ),
    );
  });

  it('returns any printable string of 1..256 characters unchanged, but . and ..', () => {
    const printable = fc
      .string({ unit: printableCharacter, minLength: 1, maxLength: MAX_SESSION_ID_LENGTH })
      .filter((s) => s.length <= MAX_SESSION_ID_LENGTH && s.trim() !== '' && s !== '.' && s !== '..');
    fc.assert(
      fc.property(printable, (value) => {
        expect(parseSessionId(value)).toBe(value);
      }),
    );
  });

  it('answers any JSON event with a session id or an InvalidInputError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ sessionId: fc.jsonValue() })), (event) => {
        try {
          expect(typeof sessionIdFromEvent(event)).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidInputError);
        }
      }),
    );
  });
});
