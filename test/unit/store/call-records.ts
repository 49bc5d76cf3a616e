/** Builders for the calls a store test saves: shaped as lib/calls and the copier would produce them. */
import { randomUUID } from 'node:crypto';
import type { CallDraft, CallStatus, Participant, RecordingEntry } from '../../../lib/calls/types.ts';
import { callPk } from '../../../lib/calls/types.ts';

/** 2023-11-14T22:13:20Z. */
export const T0 = 1_700_000_000;

/** A session id no other test uses. */
export function newSessionId(): string {
  return `v1.us.test.${randomUUID()}`;
}

/** One recording, as a test describes it. */
export interface RecordingSpec {
  rid: string;
  startTime?: number;
  endTime?: number;
  copiedAt?: string;
  bytes?: number;
}

/** A call, as a test describes it. */
export interface CallSpec {
  status: CallStatus;
  initiatedAt?: number;
  startedAt?: number;
  endedAt?: number;
  participants: Participant[];
  recordings?: RecordingSpec[];
}

/** The entry the copier would return for `spec`. */
export function recordingEntry(sessionId: string, spec: RecordingSpec): RecordingEntry {
  return {
    rid: spec.rid,
    ...(spec.startTime !== undefined ? { startTime: spec.startTime } : {}),
    ...(spec.endTime !== undefined ? { endTime: spec.endTime } : {}),
    sourceUrl: `https://recordings.cometchat.io/${encodeURIComponent(spec.rid)}.mp4`,
    bucket: 'archive',
    key: `recordings/${sessionId}/${encodeURIComponent(spec.rid)}.mp4`,
    bytes: spec.bytes ?? 1024,
    sha256: 'ab'.repeat(32),
    contentType: 'video/mp4',
    copiedAt: spec.copiedAt ?? '2023-11-14T23:00:00.000Z',
  };
}

/** The call draft for `spec`; absent values are absent properties. */
export function callDraft(sessionId: string, spec: CallSpec): CallDraft {
  const initiatedAt = spec.initiatedAt ?? T0;
  const iso = new Date(initiatedAt * 1000).toISOString();
  const recordings = (spec.recordings ?? []).map((r) => recordingEntry(sessionId, r));
  return {
    pk: callPk(sessionId),
    sk: 'CALL',
    entity: 'call',
    sessionId,
    type: 'video',
    mode: 'call',
    status: spec.status,
    receiverType: 'user',
    initiator: 'alice',
    receiver: 'bob',
    initiatedAt,
    ...(spec.startedAt !== undefined ? { startedAt: spec.startedAt } : {}),
    ...(spec.endedAt !== undefined ? { endedAt: spec.endedAt } : {}),
    totalParticipants: spec.participants.length,
    hasRecording: recordings.length > 0,
    participants: spec.participants,
    recordings,
    transcripts: [],
    gsi2pk: `DAY#${iso.slice(0, 10)}`,
    gsi2sk: `${iso}#${sessionId}`,
  };
}
