/** Builders for the records a store test saves: shaped as lib/calls would normalise a Get Call response. */
import { randomUUID } from 'node:crypto';
import type { CallItem, CallStatus, ParticipantItem, RecordingItem } from '../../../lib/calls/types.ts';
import { callPk } from '../../../lib/calls/types.ts';
import type { SaveInput } from '../../../lib/store/call-store.ts';

/** 2023-11-14T22:13:20Z. */
export const T0 = 1_700_000_000;

/** A session id no other test uses. */
export function newSessionId(): string {
  return `v1.us.test.${randomUUID()}`;
}

/** One participant entry, as a test describes it. */
export interface ParticipantSpec {
  uid: string;
  deviceId?: string;
  joinedAt?: number;
  leftAt?: number;
  state?: string;
  totalAudioMinutes?: number;
}

/** One recording, as a test describes it. */
export interface RecordingSpec {
  rid: string;
  startTime: number;
  endTime: number;
  copiedAt?: string;
  bytes?: number;
}

/** A call, as a test describes it. */
export interface CallSpec {
  status: CallStatus;
  initiatedAt?: number;
  startedAt?: number;
  endedAt?: number;
  participants: ParticipantSpec[];
  recordings?: RecordingSpec[];
  /** Defaults to the number of `recordings`. */
  recordingCount?: number;
}

/** The participant sk the normaliser derives: uid, then device id or `-`. */
export function participantSk(p: Pick<ParticipantSpec, 'uid' | 'deviceId'>): string {
  return `PARTICIPANT#${p.uid}#${p.deviceId ?? '-'}`;
}

/** The records for `spec`; absent values are absent properties. */
export function callRecords(sessionId: string, spec: CallSpec): SaveInput {
  const pk = callPk(sessionId);
  const initiatedAt = spec.initiatedAt ?? T0;
  const iso = new Date(initiatedAt * 1000).toISOString();
  const recordings = spec.recordings ?? [];
  const recordingCount = spec.recordingCount ?? recordings.length;
  const call: CallItem = {
    pk,
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
    ...(spec.endedAt !== undefined && spec.startedAt !== undefined
      ? { durationSeconds: spec.endedAt - spec.startedAt }
      : {}),
    totalParticipants: spec.participants.length,
    hasRecording: recordingCount > 0,
    recordingCount,
    gsi2pk: `DAY#${iso.slice(0, 10)}`,
    gsi2sk: `${iso}#${sessionId}`,
  };
  const participants: ParticipantItem[] = spec.participants.map((p) => ({
    pk,
    sk: participantSk(p),
    entity: 'participant',
    sessionId,
    uid: p.uid,
    name: p.uid.toUpperCase(),
    ...(p.deviceId !== undefined ? { deviceId: p.deviceId } : {}),
    ...(p.state !== undefined ? { state: p.state } : {}),
    isJoined: p.joinedAt !== undefined && p.leftAt === undefined,
    ...(p.joinedAt !== undefined ? { joinedAt: p.joinedAt } : {}),
    ...(p.leftAt !== undefined ? { leftAt: p.leftAt } : {}),
    ...(p.totalAudioMinutes !== undefined ? { totalAudioMinutes: p.totalAudioMinutes } : {}),
    gsi1pk: `USER#${p.uid}`,
    gsi1sk: `${iso}#${sessionId}`,
  }));
  const recordingItems: RecordingItem[] = recordings.map((r) => ({
    pk,
    sk: `RECORDING#${r.rid}`,
    entity: 'recording',
    sessionId,
    rid: r.rid,
    startTime: r.startTime,
    endTime: r.endTime,
    durationSeconds: r.endTime - r.startTime,
    sourceUrl: `https://recordings.cometchat.io/${r.rid}.mp4`,
    bucket: 'archive',
    key: `recordings/${sessionId}/${r.rid}.mp4`,
    bytes: r.bytes ?? 1024,
    sha256: 'ab'.repeat(32),
    contentType: 'video/mp4',
    copiedAt: r.copiedAt ?? '2023-11-14T23:00:00.000Z',
  }));
  return { call, participants, recordings: recordingItems };
}
