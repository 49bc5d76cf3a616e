/**
 * The records of the contract's data model (one DynamoDB table, keys `pk`/`sk`).
 * Absent values are absent properties: never `undefined` written out, never `''`, never `null`.
 */

/** Call statuses, in CometChat's spelling; `canceled` is normalised to `cancelled`. */
export const CALL_STATUSES = [
  'initiated',
  'ongoing',
  'ended',
  'unanswered',
  'rejected',
  'busy',
  'cancelled',
  'missed',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/**
 * How far along a call is. A status may only be replaced by one of equal or higher rank, which
 * is what lets writes arrive out of order: every terminal status shares the top rank.
 */
export const STATUS_RANK = {
  initiated: 0,
  ongoing: 1,
  ended: 2,
  unanswered: 2,
  rejected: 2,
  busy: 2,
  cancelled: 2,
  missed: 2,
} as const satisfies Record<CallStatus, number>;

/** Statuses after which a call never changes again. */
export const TERMINAL_STATUSES: readonly CallStatus[] = CALL_STATUSES.filter((s) => STATUS_RANK[s] === 2);

/** The call item: `pk = CALL#<sessionId>`, `sk = CALL`. */
export interface CallItem {
  pk: string;
  sk: 'CALL';
  entity: 'call';
  sessionId: string;
  type?: string;
  mode?: string;
  status: CallStatus;
  receiverType?: string;
  initiator?: string;
  receiver?: string;
  /** Unix seconds. */
  initiatedAt?: number;
  startedAt?: number;
  endedAt?: number;
  durationSeconds?: number;
  totalAudioMinutes?: number;
  totalVideoMinutes?: number;
  totalParticipants?: number;
  hasRecording: boolean;
  recordingCount: number;
  /** `DAY#<YYYY-MM-DD>` of `initiatedAt` (UTC); absent when `initiatedAt` is. */
  gsi2pk?: string;
  /** `<initiatedAt ISO>#<sessionId>`. */
  gsi2sk?: string;
}

/** One participant entry (one per uid and device): `sk = PARTICIPANT#<uid>#<deviceId|->[#n]`. */
export interface ParticipantItem {
  pk: string;
  sk: string;
  entity: 'participant';
  sessionId: string;
  uid: string;
  name?: string;
  deviceId?: string;
  state?: string;
  isJoined?: boolean;
  joinedAt?: number;
  leftAt?: number;
  durationSeconds?: number;
  totalAudioMinutes?: number;
  totalVideoMinutes?: number;
  /** `USER#<uid>`. */
  gsi1pk: string;
  /** `<initiatedAt ISO>#<sessionId>`; absent when the call has no `initiatedAt`. */
  gsi1sk?: string;
}

/**
 * A recording as CometChat describes it, before it is copied. `url` is the full URL, query
 * string included (it may be signed): it is used to download and must never be stored or logged.
 */
export interface RecordingSource {
  rid: string;
  url: string;
  /** `url` without its query string or fragment: safe to store and log. */
  sourceUrl: string;
  startTime?: number;
  endTime?: number;
  durationSeconds?: number;
}

/** The recording item: `sk = RECORDING#<rid>`, written once the file is in S3. */
export interface RecordingItem {
  pk: string;
  sk: string;
  entity: 'recording';
  sessionId: string;
  rid: string;
  startTime?: number;
  endTime?: number;
  durationSeconds?: number;
  sourceUrl: string;
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  contentType?: string;
  /** ISO-8601. */
  copiedAt: string;
}

/** Everything one Get Call response normalises into. */
export interface NormalisedCall {
  call: CallItem;
  participants: ParticipantItem[];
  recordings: RecordingSource[];
}

/** `CALL#<sessionId>`: the partition holding a call and all its parts. */
export function callPk(sessionId: string): string {
  return `CALL#${sessionId}`;
}
