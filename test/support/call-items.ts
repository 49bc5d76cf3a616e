/**
 * Contract v2 call items for tests that start from a committed call (events, analytics): one with
 * every field set, including what must never travel further (signed URLs, avatars).
 */
import type { CallItem } from '../../lib/calls/types.ts';

/** A signed URL of the kind CometChat hands out; its query string must never be passed on. */
export const SIGNED_URL =
  'https://recordings.cometchat.io/app/rec-1.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0123456789abcdef';

/** A committed call item with every optional field set, two participants, a recording and a transcript. */
export function fullCallItem(overrides: Partial<CallItem> = {}): CallItem {
  const sessionId = overrides.sessionId ?? 'v1.us.31780434a95d45.1700000000a1b2c3';
  return {
    pk: `CALL#${sessionId}`,
    sk: 'CALL',
    entity: 'call',
    sessionId,
    type: 'video',
    mode: 'call',
    status: 'ended',
    receiverType: 'user',
    initiator: 'alice',
    receiver: 'bob',
    initiatedAt: 1_764_500_000,
    startedAt: 1_764_500_005,
    endedAt: 1_764_500_125,
    durationSeconds: 120.5,
    totalAudioMinutes: 4.02,
    totalVideoMinutes: 3.5,
    totalParticipants: 2,
    hasRecording: true,
    hasTranscription: true,
    participants: [
      {
        uid: 'alice',
        name: 'Alice',
        avatar: SIGNED_URL,
        deviceId: 'web-1',
        state: 'left',
        isJoined: true,
        joinedAt: 1_764_500_005,
        leftAt: 1_764_500_125,
        durationSeconds: 120,
        totalAudioMinutes: 2.01,
        totalVideoMinutes: 2,
      },
      {
        uid: 'bob',
        name: 'Bob',
        deviceId: 'ios-7',
        state: 'left',
        isJoined: true,
        joinedAt: 1_764_500_010,
        leftAt: 1_764_500_120,
        durationSeconds: 110,
        totalAudioMinutes: 2.01,
        totalVideoMinutes: 1.5,
      },
    ],
    recordings: [
      {
        rid: 'rec-1',
        startTime: 1_764_500_006,
        endTime: 1_764_500_120,
        durationSeconds: 114,
        sourceUrl: SIGNED_URL,
        bucket: 'archive-bucket',
        key: `recordings/${sessionId}/rec-1.mp4`,
        bytes: 10_485_760,
        sha256: 'a'.repeat(64),
        contentType: 'video/mp4',
        copiedAt: '2025-11-30T11:00:00.000Z',
      },
    ],
    transcripts: [
      {
        tid: 'tr-1',
        startTime: 1_764_500_006,
        endTime: 1_764_500_120,
        sourceUrl: SIGNED_URL.replace('rec-1.mp4', 'tr-1.json'),
        bucket: 'archive-bucket',
        key: `recordings/${sessionId}/transcripts/tr-1.json`,
        bytes: 2048,
        sha256: 'b'.repeat(64),
        contentType: 'application/json',
        copiedAt: '2025-11-30T11:00:01.000Z',
      },
    ],
    manifestKey: `recordings/${sessionId}/call.json`,
    gsi2pk: 'DAY#2025-11-30',
    gsi2sk: `2025-11-30T10:53:20.000Z#${sessionId}`,
    enrichedAt: '2025-11-30T11:00:02.000Z',
    revision: 3,
    ...overrides,
  };
}
