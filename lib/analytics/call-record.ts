/**
 * The analytics record of a call: one JSON object per call, on one line, under
 * `analytics/calls/day=<YYYY-MM-DD>/<sessionId>.json`, which the Glue table `calls`
 * (infra/analytics.yml) reads with the OpenX JSON SerDe. Pure: no I/O, no AWS SDK.
 *
 * Columns are snake_case so SQL needs no quoting; the record carries no avatar, no source URL and
 * no object tag, only what counting needs. It is derived from the call item, so a redacted call
 * gives a redacted record.
 */
import type { CallItem, Participant, RecordingEntry, TranscriptEntry } from '../calls/types.ts';
import { objectKeySegment } from '../recordings/object-key.ts';

/** Where the records live in the bucket; the writers' IAM allows puts under this prefix only. */
export const ANALYTICS_CALLS_PREFIX = 'analytics/calls/';

/** One participant entry, as the `participants` column's struct holds it. */
export interface AnalyticsParticipant {
  uid: string;
  name?: string;
  device_id?: string;
  state?: string;
  is_joined?: boolean;
  joined_at?: number;
  left_at?: number;
  duration_seconds?: number;
  total_audio_minutes?: number;
  total_video_minutes?: number;
}

/** One archived file (recording or transcript), as the `recordings` / `transcripts` structs hold it. */
export interface AnalyticsFile {
  id: string;
  start_time?: number;
  end_time?: number;
  /** Recordings only: transcripts have no duration of their own. */
  duration_seconds?: number;
  size_bytes: number;
  content_type?: string;
  object_key: string;
}

/** One row of the `calls` table. Absent values are absent keys (the SerDe reads them as NULL). */
export interface AnalyticsCallRecord {
  session_id: string;
  type?: string;
  mode?: string;
  status: string;
  receiver_type?: string;
  initiator?: string;
  receiver?: string;
  initiated_at?: number;
  started_at?: number;
  ended_at?: number;
  duration_seconds?: number;
  total_audio_minutes?: number;
  total_video_minutes?: number;
  total_participants?: number;
  has_recording: boolean;
  has_transcription?: boolean;
  participants: AnalyticsParticipant[];
  recordings: AnalyticsFile[];
  transcripts: AnalyticsFile[];
  recording_count: number;
  recording_bytes: number;
  transcript_count: number;
  transcript_bytes: number;
  enriched_at: string;
}

/** What the record is built from: the committed call item (contract v2). */
export type AnalyticsSource = Pick<
  CallItem,
  | 'sessionId'
  | 'type'
  | 'mode'
  | 'status'
  | 'receiverType'
  | 'initiator'
  | 'receiver'
  | 'initiatedAt'
  | 'startedAt'
  | 'endedAt'
  | 'durationSeconds'
  | 'totalAudioMinutes'
  | 'totalVideoMinutes'
  | 'totalParticipants'
  | 'hasRecording'
  | 'hasTranscription'
  | 'participants'
  | 'recordings'
  | 'transcripts'
  | 'enrichedAt'
>;

// Columns typed bigint/int must never receive a fraction (the SerDe would fail the row).
function whole(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? Math.trunc(value) : undefined;
}

function finite(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function text(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Drops keys whose value is undefined, so absent stays absent in the JSON. */
function compact<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

function participant(p: Participant): AnalyticsParticipant {
  return compact({
    uid: p.uid,
    name: text(p.name),
    device_id: text(p.deviceId),
    state: text(p.state),
    is_joined: p.isJoined,
    joined_at: whole(p.joinedAt),
    left_at: whole(p.leftAt),
    duration_seconds: finite(p.durationSeconds),
    total_audio_minutes: finite(p.totalAudioMinutes),
    total_video_minutes: finite(p.totalVideoMinutes),
  });
}

function file(
  id: string,
  entry: Pick<RecordingEntry, 'startTime' | 'endTime' | 'bytes' | 'contentType' | 'key'> & {
    durationSeconds?: number;
  },
): AnalyticsFile {
  return compact({
    id,
    start_time: whole(entry.startTime),
    end_time: whole(entry.endTime),
    duration_seconds: finite(entry.durationSeconds),
    size_bytes: whole(entry.bytes) ?? 0,
    content_type: text(entry.contentType),
    object_key: entry.key,
  });
}

const sum = (files: readonly AnalyticsFile[]) => files.reduce((total, f) => total + f.size_bytes, 0);

/** The analytics record of a committed call item. */
export function analyticsCallRecord(call: AnalyticsSource): AnalyticsCallRecord {
  const recordings = call.recordings.map((r: RecordingEntry) => file(r.rid, r));
  const transcripts = call.transcripts.map((t: TranscriptEntry) => file(t.tid, t));
  return compact({
    session_id: call.sessionId,
    type: text(call.type),
    mode: text(call.mode),
    status: call.status,
    receiver_type: text(call.receiverType),
    initiator: text(call.initiator),
    receiver: text(call.receiver),
    initiated_at: whole(call.initiatedAt),
    started_at: whole(call.startedAt),
    ended_at: whole(call.endedAt),
    duration_seconds: finite(call.durationSeconds),
    total_audio_minutes: finite(call.totalAudioMinutes),
    total_video_minutes: finite(call.totalVideoMinutes),
    total_participants: whole(call.totalParticipants),
    has_recording: call.hasRecording,
    has_transcription: call.hasTranscription,
    participants: call.participants.map(participant),
    recordings,
    transcripts,
    recording_count: recordings.length,
    recording_bytes: sum(recordings),
    transcript_count: transcripts.length,
    transcript_bytes: sum(transcripts),
    enriched_at: call.enrichedAt,
  });
}

/** The UTC day a call belongs to: when it was initiated, else started, else ended. */
export function analyticsDay(
  call: Pick<CallItem, 'initiatedAt' | 'startedAt' | 'endedAt'>,
): string | undefined {
  const seconds = whole(call.initiatedAt) ?? whole(call.startedAt) ?? whole(call.endedAt);
  if (seconds === undefined) return undefined;
  const date = new Date(seconds * 1000);
  // A year outside 0000-9999 would not make a `yyyy-MM-dd` partition the projection can read.
  const day = Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 10);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : undefined;
}

/**
 * `analytics/calls/day=<YYYY-MM-DD>/<sessionId>.json`, the session id encoded as one key segment.
 * Undefined for a call with no time at all: it has no day to be counted under, so it gets no record.
 */
export function analyticsCallKey(
  call: Pick<CallItem, 'sessionId' | 'initiatedAt' | 'startedAt' | 'endedAt'>,
): string | undefined {
  const day = analyticsDay(call);
  return day === undefined
    ? undefined
    : `${ANALYTICS_CALLS_PREFIX}day=${day}/${objectKeySegment(call.sessionId)}.json`;
}

/** The object body: the record as one line of JSON, newline-terminated (JSON Lines). */
export function analyticsCallBody(record: AnalyticsCallRecord): string {
  return `${JSON.stringify(record)}\n`;
}
