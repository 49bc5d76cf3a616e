/**
 * The archive's events (contract, "Events"): `CallArchived` after a commit that changed a call,
 * `CallArchiveFailed` when a message is dead-lettered. Details are built field by field from what
 * the contract allows, so nothing else a call holds (source URLs, avatars, tags) can slip in, and
 * error messages lose any signed query string. Delivery is at least once: consumers must expect
 * duplicates. Where events go is a sink: EventBridge when deployed, a JSON Lines file locally.
 */
import type { CallItem, RecordingEntry, TranscriptEntry } from '../calls/types.ts';
import { redactText } from '../logger.ts';

/** The `source` of every event the archive sends. */
export const EVENT_SOURCE = 'cometchat-call-archive';

/** The detail-types the archive sends. */
export const DETAIL_TYPES = { callArchived: 'CallArchived', callArchiveFailed: 'CallArchiveFailed' } as const;

/** An S3 object. */
export interface ObjectRef {
  bucket: string;
  key: string;
}

/** `CallArchived` detail. */
export interface CallArchivedDetail {
  sessionId: string;
  status: string;
  /** Unix seconds. */
  initiatedAt?: number;
  /** How many participant entries the call has. */
  participants: number;
  recordings: { rid: string; bucket: string; key: string; bytes: number; sha256: string }[];
  transcripts: { tid: string; bucket: string; key: string; bytes: number; sha256: string }[];
  /** The call's manifest (`call.json`); absent only for a call stored without one. */
  manifest?: ObjectRef;
}

/** `CallArchiveFailed` detail. */
export interface CallArchiveFailedDetail {
  /** Absent when the dead-lettered message carried no session id. */
  sessionId?: string;
  errorName: string;
  errorMessage: string;
}

/** One event, ready for a sink. */
export type ArchiveEvent =
  | { detailType: typeof DETAIL_TYPES.callArchived; detail: CallArchivedDetail }
  | { detailType: typeof DETAIL_TYPES.callArchiveFailed; detail: CallArchiveFailedDetail };

/** Per-call limits: the invocation's abort signal. */
export interface PublishOptions {
  signal?: AbortSignal;
}

/** Where events go. `put` resolves once every event is taken, or throws `StorageError`. */
export interface EventSink {
  put(events: readonly ArchiveEvent[], options?: PublishOptions): Promise<void>;
}

/** What a `CallArchived` event is built from: the committed call item. */
export type ArchivedCall = Pick<
  CallItem,
  'sessionId' | 'status' | 'initiatedAt' | 'participants' | 'recordings' | 'transcripts' | 'manifestKey'
>;

// Long enough for any of the project's messages; EventBridge takes 256 KB per request.
const MAX_ERROR_MESSAGE_LENGTH = 1024;
const MAX_SESSION_ID_LENGTH = 256;

function safeText(value: string, max: number): string {
  return redactText(value).toWellFormed().slice(0, max);
}

const recording = (r: RecordingEntry) => ({
  rid: r.rid,
  bucket: r.bucket,
  key: r.key,
  bytes: r.bytes,
  sha256: r.sha256,
});

const transcript = (t: TranscriptEntry) => ({
  tid: t.tid,
  bucket: t.bucket,
  key: t.key,
  bytes: t.bytes,
  sha256: t.sha256,
});

/** The `CallArchived` event of a committed call; `bucket` is the archive bucket holding its manifest. */
export function callArchivedEvent(call: ArchivedCall, bucket: string): ArchiveEvent {
  const detail: CallArchivedDetail = {
    sessionId: call.sessionId,
    status: call.status,
    ...(call.initiatedAt === undefined ? {} : { initiatedAt: call.initiatedAt }),
    participants: call.participants.length,
    recordings: call.recordings.map(recording),
    transcripts: call.transcripts.map(transcript),
    ...(call.manifestKey === undefined ? {} : { manifest: { bucket, key: call.manifestKey } }),
  };
  return { detailType: DETAIL_TYPES.callArchived, detail };
}

/** The `CallArchiveFailed` event of a dead-lettered message and the error that parked it. */
export function callArchiveFailedEvent(sessionId: string | undefined, error: unknown): ArchiveEvent {
  const errorName = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const detail: CallArchiveFailedDetail = {
    ...(sessionId ? { sessionId: safeText(sessionId, MAX_SESSION_ID_LENGTH) } : {}),
    errorName: safeText(errorName, 128) || 'Error',
    errorMessage: safeText(message, MAX_ERROR_MESSAGE_LENGTH),
  };
  return { detailType: DETAIL_TYPES.callArchiveFailed, detail };
}

/** Sends `CallArchived` for a committed call. Throws `StorageError` when the sink does not take it. */
export function publishCallArchived(
  sink: EventSink,
  call: ArchivedCall,
  options: PublishOptions & { bucket: string },
): Promise<void> {
  return sink.put([callArchivedEvent(call, options.bucket)], { signal: options.signal });
}

/** Sends `CallArchiveFailed` for a dead-lettered message. Throws `StorageError` when not taken. */
export function publishCallArchiveFailed(
  sink: EventSink,
  failure: { sessionId?: string; error: unknown },
  options: PublishOptions = {},
): Promise<void> {
  return sink.put([callArchiveFailedEvent(failure.sessionId, failure.error)], options);
}
