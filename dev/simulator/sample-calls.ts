/**
 * A realistic set of calls for the simulator: what `npm start` serves and what tests can pick
 * from. Shapes follow CometChat's published examples and the variants in api-facts.md; values
 * are invented, timestamps are Unix seconds relative to `now`, ids are deterministic per `now`.
 */
import { createHash } from 'node:crypto';
import type { SimulatedCall } from './calls.ts';

/** The simulator's default app id (16 hex characters, like CometChat's). */
export const SAMPLE_APP_ID = '2f6c81d0a9e4b357';

/** The simulator's default REST API key: obviously fake, but shaped like a real one (40 hex). */
export const SAMPLE_API_KEY = 'cafef00dcafef00dcafef00dcafef00dcafef00d';

const REGION = 'us';
const AVATARS = 'https://assets.cometchat.io/sampleapp/v2';

const USERS = {
  'cometchat-uid-1': 'Andrew Joseph',
  'cometchat-uid-2': 'George Alan',
  'cometchat-uid-3': 'Nancy Grace',
  'cometchat-uid-4': 'Susan Marie',
  'cometchat-uid-5': 'John Paul',
} as const;
type Uid = keyof typeof USERS;

function hex(label: string, length: number): string {
  return createHash('sha256').update(label).digest('hex').slice(0, length);
}

/** `v1.<region>.<appId>.<initiatedAt><40 hex>`, the shape of every published example. */
function sessionIdFor(initiatedAt: number, label: string): string {
  return `v1.${REGION}.${SAMPLE_APP_ID}.${initiatedAt}${hex(`${label}:${initiatedAt}`, 40)}`;
}

function uuid(label: string): string {
  const h = hex(label, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function hhmmss(seconds: number): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
}

function user(uid: Uid): { uid: string; name: string; avatar: string } {
  return { uid, name: USERS[uid], avatar: `${AVATARS}/users/${uid}.webp` };
}

function entities(initiator: Uid, receiver: Record<string, unknown>): Record<string, unknown> {
  return { entities: { initiator: { entity: user(initiator) }, receiver: { entity: receiver } } };
}

/** A participant entry for one device that joined; minutes are fractional, as CometChat sends them. */
function joined(
  uid: Uid,
  session: string,
  device: string,
  media: 'audio' | 'video',
  joinedAt: number,
  leftAt: number | undefined,
  now: number,
): Record<string, unknown> {
  const minutes = ((leftAt ?? now) - joinedAt) / 60;
  return {
    ...user(uid),
    deviceId: uuid(`${session}:${device}`),
    isJoined: true,
    joinedAt,
    ...(leftAt === undefined ? {} : { leftAt }),
    mid: uuid(`${session}:${device}:mid`),
    state: leftAt === undefined ? 'ongoing' : 'ended',
    totalAudioMinutes: media === 'audio' ? minutes : 0,
    totalVideoMinutes: media === 'video' ? minutes : 0,
    totalDurationInMinutes: minutes,
  };
}

/** A participant who never joined: no deviceId, joinedAt, leftAt or mid; the initiator has no state. */
function absent(uid: Uid, state?: 'unanswered' | 'rejected'): Record<string, unknown> {
  return {
    uid,
    totalAudioMinutes: 0,
    totalVideoMinutes: 0,
    isJoined: false,
    ...(state ? { state } : {}),
    totalDurationInMinutes: 0,
    name: USERS[uid],
    avatar: `${AVATARS}/users/${uid}.webp`,
  };
}

function sum(participants: Record<string, unknown>[], field: string): number {
  return participants.reduce((total, p) => {
    const value = p[field];
    return total + (typeof value === 'number' ? value : 0);
  }, 0);
}

/** The Get Call reference page's own example (get-call.md), verbatim: served as `{"data": [call]}`. */
function docExample(): SimulatedCall {
  return {
    dataShape: 'array',
    raw: {
      sessionId: 'v1.eu.2574867aa2e6e417.17158459999d7fa95b1b4faea599f11eb5ecf07611b0b335c3',
      totalAudioMinutes: 0,
      totalVideoMinutes: 0,
      totalDuration: '00:00:00',
      hasRecording: false,
      initiatedAt: 1715845999,
      initiator: 'cometchat-uid-1',
      mode: 'call',
      receiver: 'cometchat-uid-2',
      receiverType: 'user',
      status: 'initiated',
      totalDurationInMinutes: 0,
      totalParticipants: 0,
      type: 'audio',
      participants: [
        {
          uid: 'cometchat-uid-1',
          totalAudioMinutes: 0,
          totalVideoMinutes: 0,
          isJoined: false,
          totalDurationInMinutes: 0,
          name: 'Andrew Joseph',
          avatar: 'https://assets.cometchat.io/sampleapp/v2/users/cometchat-uid-1.webp',
        },
        {
          uid: 'cometchat-uid-2',
          totalAudioMinutes: 0,
          totalVideoMinutes: 0,
          isJoined: false,
          state: 'unanswered',
          totalDurationInMinutes: 0,
          name: 'George Alan',
          avatar: 'https://assets.cometchat.io/sampleapp/v2/users/cometchat-uid-2.webp',
        },
      ],
      data: entities('cometchat-uid-1', user('cometchat-uid-2')),
    },
  };
}

/** A plain 1:1 audio call that ended after 19 seconds; no recording. */
function audioCall(nowSeconds: number): SimulatedCall {
  const initiatedAt = nowSeconds - 2 * 3600 + 13;
  const startedAt = initiatedAt + 6;
  const endedAt = startedAt + 19;
  const sessionId = sessionIdFor(initiatedAt, 'audio-1to1');
  const participants = [
    joined('cometchat-uid-1', sessionId, 'laptop', 'audio', startedAt, endedAt, nowSeconds),
    joined('cometchat-uid-2', sessionId, 'phone', 'audio', startedAt + 1, endedAt, nowSeconds),
  ];
  return {
    raw: {
      sessionId,
      type: 'audio',
      mode: 'call',
      status: 'ended',
      receiverType: 'user',
      initiator: 'cometchat-uid-1',
      receiver: 'cometchat-uid-2',
      initiatedAt,
      startedAt,
      endedAt,
      totalDuration: hhmmss(endedAt - startedAt),
      totalDurationInMinutes: (endedAt - startedAt) / 60,
      totalAudioMinutes: sum(participants, 'totalAudioMinutes'),
      totalVideoMinutes: 0,
      totalParticipants: 2,
      hasRecording: false,
      mid: uuid(`${sessionId}:mid`),
      tags: [],
      metaData: [],
      participants,
      data: entities('cometchat-uid-1', user('cometchat-uid-2')),
    },
  };
}

/**
 * A group video meeting, yesterday: four people, one of them on two devices (laptop, then
 * phone), one who rejected; two recordings in the two documented item variants.
 */
function groupMeeting(nowSeconds: number): SimulatedCall {
  const initiatedAt = nowSeconds - 26 * 3600 + 417;
  const startedAt = initiatedAt + 4;
  const endedAt = startedAt + 2292;
  const sessionId = sessionIdFor(initiatedAt, 'group-meet');
  const participants = [
    joined('cometchat-uid-1', sessionId, 'laptop', 'video', startedAt, endedAt, nowSeconds),
    joined('cometchat-uid-3', sessionId, 'laptop', 'video', startedAt + 21, startedAt + 1204, nowSeconds),
    joined('cometchat-uid-3', sessionId, 'phone', 'video', startedAt + 1231, endedAt, nowSeconds),
    joined('cometchat-uid-4', sessionId, 'tablet', 'video', startedAt + 95, endedAt - 40, nowSeconds),
    absent('cometchat-uid-5', 'rejected'),
  ];
  const guid = 'cometchat-guid-1';
  return {
    raw: {
      sessionId,
      type: 'video',
      mode: 'meet',
      status: 'ended',
      receiverType: 'group',
      initiator: 'cometchat-uid-1',
      receiver: guid,
      initiatedAt,
      startedAt,
      endedAt,
      totalDuration: hhmmss(endedAt - startedAt),
      totalDurationInMinutes: (endedAt - startedAt) / 60,
      totalAudioMinutes: 0,
      totalVideoMinutes: sum(participants, 'totalVideoMinutes'),
      totalParticipants: 4,
      hasRecording: true,
      mid: uuid(`${sessionId}:mid`),
      tags: ['weekly-sync'],
      metaData: [],
      transcriptions: [],
      participants,
      data: entities('cometchat-uid-1', {
        guid,
        name: 'Hiking Group',
        icon: `${AVATARS}/groups/${guid}.webp`,
        type: 'public',
      }),
    },
    recordings: [
      {
        rid: hex(`${sessionId}:rec-1`, 24),
        bytes: 307_213,
        startTime: startedAt + 30,
        endTime: startedAt + 30 + 412,
        urlField: 'recording_url',
      },
      {
        rid: hex(`${sessionId}:rec-2`, 24),
        bytes: 6_303_819,
        startTime: startedAt + 600,
        endTime: endedAt - 3,
        urlField: 'recordingUrl',
        numbersAsStrings: true,
      },
    ],
    // Seven transcripts, one per segment of the meeting: Get Call lists the 5 newest, the
    // transcriptions endpoint all of them.
    transcripts: Array.from({ length: 7 }, (_, i) => ({
      tid: uuid(`${sessionId}:transcript-${i}`),
      startTime: startedAt + 300 * i,
      endTime: Math.min(startedAt + 300 * (i + 1), endedAt),
    })),
  };
}

/** A 1:1 video call the caller gave up on before it was answered (`canceled`, the REST spelling). */
function canceledCall(nowSeconds: number): SimulatedCall {
  const initiatedAt = nowSeconds - 30 * 60 + 7;
  const sessionId = sessionIdFor(initiatedAt, 'video-canceled');
  return {
    raw: {
      sessionId,
      type: 'video',
      mode: 'call',
      status: 'canceled',
      receiverType: 'user',
      initiator: 'cometchat-uid-2',
      receiver: 'cometchat-uid-5',
      initiatedAt,
      totalDuration: '00:00:00',
      totalDurationInMinutes: 0,
      totalAudioMinutes: 0,
      totalVideoMinutes: 0,
      totalParticipants: 0,
      hasRecording: false,
      participants: [absent('cometchat-uid-2'), absent('cometchat-uid-5', 'unanswered')],
      data: entities('cometchat-uid-2', user('cometchat-uid-5')),
    },
  };
}

/** A 1:1 audio call still in progress: no `endedAt`, no `leftAt`, participants `ongoing`. */
function ongoingCall(nowSeconds: number): SimulatedCall {
  const initiatedAt = nowSeconds - 5 * 60;
  const startedAt = initiatedAt + 8;
  const sessionId = sessionIdFor(initiatedAt, 'audio-ongoing');
  const participants = [
    joined('cometchat-uid-4', sessionId, 'phone', 'audio', startedAt, undefined, nowSeconds),
    joined('cometchat-uid-1', sessionId, 'laptop', 'audio', startedAt + 2, undefined, nowSeconds),
  ];
  return {
    raw: {
      sessionId,
      type: 'audio',
      mode: 'call',
      status: 'ongoing',
      receiverType: 'user',
      initiator: 'cometchat-uid-4',
      receiver: 'cometchat-uid-1',
      initiatedAt,
      startedAt,
      totalDuration: hhmmss(nowSeconds - startedAt),
      totalDurationInMinutes: (nowSeconds - startedAt) / 60,
      totalAudioMinutes: sum(participants, 'totalAudioMinutes'),
      totalVideoMinutes: 0,
      totalParticipants: 2,
      hasRecording: false,
      participants,
      data: entities('cometchat-uid-4', user('cometchat-uid-1')),
    },
  };
}

/**
 * Five calls: (1) a 1:1 audio call, ended, no recording; (2) the Get Call page's own example
 * (`initiated`, array-shaped); (3) a group video meeting with a two-device participant, two
 * recordings (~300 KiB `recording_url` + numbers; ~6 MiB `recordingUrl` + numeric strings) and
 * seven transcripts (more than Get Call lists);
 * (4) a `canceled` call; (5) an ongoing call.
 */
export function sampleCalls(now = Date.now()): SimulatedCall[] {
  const nowSeconds = Math.floor(now / 1000);
  return [
    audioCall(nowSeconds),
    docExample(),
    groupMeeting(nowSeconds),
    canceledCall(nowSeconds),
    ongoingCall(nowSeconds),
  ];
}
