/**
 * The records of the contract's data model (one DynamoDB table, keys `pk`/`sk`). The call item
 * is the whole call; participant index items are derived from it by the store.
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

/** One participant entry (CometChat lists a user once per device). */
export interface Participant {
  uid: string;
  name?: string;
  avatar?: string;
  deviceId?: string;
  state?: string;
  isJoined?: boolean;
  /** Unix seconds. */
  joinedAt?: number;
  leftAt?: number;
  durationSeconds?: number;
  totalAudioMinutes?: number;
  totalVideoMinutes?: number;
  /** Set when the user was erased in `redact` mode: uid, name and avatar are a salted hash. */
  redacted?: true;
}

/** What the call item lists for every archived file, recording or transcript. */
interface ArchivedFile {
  startTime?: number;
  endTime?: number;
  /** The URL it was fetched from, without credentials, query string or fragment. */
  sourceUrl: string;
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  contentType?: string;
  /** ISO-8601. */
  copiedAt: string;
}

/** A recording archived in S3, as the call item lists it. */
export interface RecordingEntry extends ArchivedFile {
  rid: string;
  durationSeconds?: number;
}

/** A transcript archived in S3, as the call item lists it. */
export interface TranscriptEntry extends ArchivedFile {
  tid: string;
}

/** The call as one enrichment describes it: the call item without what the store stamps. */
export interface CallDraft {
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
  hasTranscription?: boolean;
  participants: Participant[];
  recordings: RecordingEntry[];
  transcripts: TranscriptEntry[];
  manifestKey?: string;
  /** Under legal hold (`calls hold`): never expires. The archive's own state, kept by every merge. */
  held?: true;
  /** `DAY#<YYYY-MM-DD>` of `initiatedAt`, else `startedAt` (UTC); absent when the call has neither. */
  gsi2pk?: string;
  /** `<initiatedAt (else startedAt) ISO>#<sessionId>`. */
  gsi2sk?: string;
}

/** The call item as stored: `pk = CALL#<sessionId>`, `sk = CALL`. */
export interface CallItem extends CallDraft {
  /** ISO-8601: when this version was committed. */
  enrichedAt: string;
  /** Counts commits; each commit is conditional on the revision it was planned from. */
  revision: number;
  /**
   * The revision whose manifest (and, with a bus, `CallArchived` event) went out. A commit never
   * carries it over, so after any commit that changed the call it differs from `revision`: the
   * manifest and the event are owed until a run sends them and sets it (docs/data-model.md).
   */
  publishedRevision?: number;
  /** DynamoDB TTL (Unix seconds), stamped on each commit with retention unless held (lib/retention). */
  expiresAt?: number;
}

/** A participant index item (`byUser`), derived from the committed call item. */
export interface ParticipantIndexItem extends Participant {
  pk: string;
  /** `PARTICIPANT#<uid>#<deviceId or ->[#n]`, long or odd parts shortened. */
  sk: string;
  entity: 'participant';
  sessionId: string;
  /** `USER#<uid>`. */
  gsi1pk: string;
  /** `<initiatedAt, else startedAt, else 0000-00-00T00:00:00.000Z>#<sessionId>` (store/participant-index). */
  gsi1sk: string;
  /** The call item's `expiresAt`: an index item expires with its call. */
  expiresAt?: number;
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

/**
 * A transcript as CometChat describes it, before it is copied. `url` may be signed: it is used
 * to download and must never be stored or logged.
 */
export interface TranscriptSource {
  tid: string;
  url: string;
  /** `url` without its query string or fragment: safe to store and log. */
  sourceUrl: string;
  startTime?: number;
  endTime?: number;
}

/** Everything one Get Call response normalises into: the call (no files yet) and the files to copy. */
export interface NormalisedCall {
  call: CallDraft;
  recordings: RecordingSource[];
  /** Get Call's `transcriptions[]`: at most the 5 newest (the rest are paged from their own endpoint). */
  transcripts: TranscriptSource[];
}

/** The `byDay` index keys of a call initiated at `initiatedAt` (Unix seconds); none without it. */
export function dayIndexKeys(
  sessionId: string,
  initiatedAt: number | undefined,
): { gsi2pk?: string; gsi2sk?: string } {
  if (initiatedAt === undefined) return {};
  const iso = new Date(initiatedAt * 1000).toISOString();
  return { gsi2pk: `DAY#${iso.slice(0, 10)}`, gsi2sk: `${iso}#${sessionId}` };
}

/** `CALL#<sessionId>`: the partition holding a call and its index items. */
export function callPk(sessionId: string): string {
  return `CALL#${sessionId}`;
}
