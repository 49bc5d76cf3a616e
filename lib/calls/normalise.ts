import { createHash } from 'node:crypto';
import { InvalidCallDataError, InvalidInputError, RecordingRejectedError } from '../errors.ts';
import {
  canonicalJson,
  clockToSeconds,
  compareOptionalNumbers,
  compareStrings,
  dropAbsent,
  field,
  isObject,
  type JsonObject,
  path,
  quoteForMessage,
  sortedEntries,
  span,
  toBoolean,
  toCount,
  toDurationSeconds,
  toIdentifier,
  toQuantity,
  toText,
  toUnixSeconds,
} from './coerce.ts';
import { parseSessionId } from './session-id.ts';
import {
  CALL_STATUSES,
  type CallDraft,
  type CallStatus,
  callPk,
  dayIndexKeys,
  type NormalisedCall,
  type Participant,
  type RecordingSource,
  type TranscriptSource,
} from './types.ts';

/**
 * Turns one Get Call `data` object (already unwrapped from its object-or-array envelope) into
 * the call (with its participants) and the recordings to copy. Accepts every variant the
 * CometChat docs publish; anything optional that is unusable is left absent. Throws
 * `InvalidCallDataError` when the payload lacks a valid `sessionId` (or names another session
 * than `expectedSessionId`), a `status` we can rank, or lists a recording that is not an object;
 * `RecordingRejectedError` for a recording whose URL is missing, empty or relative.
 */
export function normaliseCall(raw: unknown, expectedSessionId?: string): NormalisedCall {
  if (!isObject(raw)) throw new InvalidCallDataError('the Get Call data is not an object');
  const sessionId = readSessionId(raw, expectedSessionId);
  const status = readStatus(raw);
  const pk = callPk(sessionId);

  const initiatedAt = toUnixSeconds(field(raw, 'initiatedAt'));
  const startedAt = toUnixSeconds(field(raw, 'startedAt'));
  const endedAt = toUnixSeconds(field(raw, 'endedAt'));

  const participants = normaliseParticipants(field(raw, 'participants'));
  const recordings = normaliseRecordings(field(raw, 'recordings'));
  const transcripts = normaliseTranscripts(field(raw, 'transcriptions'));

  const call = dropAbsent<CallDraft>({
    pk,
    sk: 'CALL',
    entity: 'call',
    sessionId,
    type: toText(field(raw, 'type')),
    mode: toText(field(raw, 'mode')),
    status,
    receiverType: toText(field(raw, 'receiverType')),
    initiator:
      toText(field(raw, 'initiator')) ??
      toText(path(raw, ['data', 'entities', 'initiator', 'entity', 'uid'])),
    receiver:
      toText(field(raw, 'receiver')) ?? toText(path(raw, ['data', 'entities', 'receiver', 'entity', 'uid'])),
    initiatedAt,
    startedAt,
    endedAt,
    durationSeconds: toDurationSeconds(
      span(startedAt, endedAt) ??
        reportedDuration(field(raw, 'totalDuration')) ??
        minutesToSeconds(field(raw, 'totalDurationInMinutes')),
    ),
    totalAudioMinutes: toQuantity(field(raw, 'totalAudioMinutes')),
    totalVideoMinutes: toQuantity(field(raw, 'totalVideoMinutes')),
    totalParticipants: toCount(field(raw, 'totalParticipants')),
    // CometChat may report the flag before (or without) the recordings list, so either counts.
    hasRecording: toBoolean(field(raw, 'hasRecording')) === true || recordings.length > 0,
    hasTranscription:
      toBoolean(field(raw, 'hasTranscription')) === true || transcripts.length > 0
        ? true
        : toBoolean(field(raw, 'hasTranscription')),
    participants,
    recordings: [],
    transcripts: [],
    // CometChat sometimes sends startedAt in place of initiatedAt; a call with neither has no day.
    ...dayIndexKeys(sessionId, initiatedAt ?? startedAt),
  });
  return { call, recordings, transcripts };
}

function readSessionId(raw: JsonObject, expected: string | undefined): string {
  let sessionId: string;
  try {
    sessionId = parseSessionId(field(raw, 'sessionId'));
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidCallDataError(`the Get Call data has no usable sessionId: ${error.message}`, {
      cause: error,
    });
  }
  if (expected !== undefined && sessionId !== expected) {
    throw new InvalidCallDataError(
      `the Get Call data is for session ${quoteForMessage(sessionId)}, ` +
        `not the requested ${quoteForMessage(expected)}`,
    );
  }
  return sessionId;
}

function readStatus(raw: JsonObject): CallStatus {
  const value = field(raw, 'status');
  if (typeof value !== 'string') throw new InvalidCallDataError('the Get Call data has no status');
  const lower = value.trim().toLowerCase();
  // The REST overview spells it the American way; the rest of the docs do not.
  const spelled = lower === 'canceled' ? 'cancelled' : lower;
  const status = CALL_STATUSES.find((s) => s === spelled);
  if (status === undefined) {
    throw new InvalidCallDataError(
      `the Get Call data has status ${quoteForMessage(value)}, which we cannot rank`,
    );
  }
  return status;
}

function minutesToSeconds(value: unknown): number | undefined {
  const minutes = toQuantity(value);
  return minutes === undefined ? undefined : minutes * 60;
}

/** `totalDuration` is `"HH:MM:SS"` for a call, and a number of minutes for a participant in one doc variant. */
function reportedDuration(value: unknown): number | undefined {
  return clockToSeconds(value) ?? minutesToSeconds(value);
}

function normaliseParticipant(entry: unknown): Participant | undefined {
  if (!isObject(entry)) return undefined;
  const uid = toIdentifier(field(entry, 'uid'));
  if (uid === undefined) return undefined;
  const joinedAt = toUnixSeconds(field(entry, 'joinedAt'));
  const leftAt = toUnixSeconds(field(entry, 'leftAt'));
  return dropAbsent<Participant>({
    uid,
    name: toText(field(entry, 'name')),
    avatar: toText(field(entry, 'avatar')),
    deviceId: toIdentifier(field(entry, 'deviceId')),
    state: toText(field(entry, 'state')),
    isJoined: toBoolean(field(entry, 'isJoined')),
    joinedAt,
    leftAt,
    durationSeconds: toDurationSeconds(
      span(joinedAt, leftAt) ??
        minutesToSeconds(field(entry, 'totalDurationInMinutes')) ??
        reportedDuration(field(entry, 'totalDuration')),
    ),
    totalAudioMinutes: toQuantity(field(entry, 'totalAudioMinutes')),
    totalVideoMinutes: toQuantity(field(entry, 'totalVideoMinutes')),
  });
}

/**
 * The last tie-breaker between two look-alike entries: their `[key, value]` pairs in key order,
 * as JSON, compared as text. Total and independent of CometChat's array order.
 */
function compareContent(a: object, b: object): number {
  return compareStrings(canonicalJson(sortedEntries(a)), canonicalJson(sortedEntries(b)));
}

function compareParticipants(a: Participant, b: Participant): number {
  return (
    compareStrings(a.uid, b.uid) ||
    compareStrings(a.deviceId ?? '', b.deviceId ?? '') ||
    compareOptionalNumbers(a.joinedAt, b.joinedAt) ||
    compareOptionalNumbers(a.leftAt, b.leftAt) ||
    compareContent(a, b)
  );
}

/**
 * Every usable entry (one per uid and device; repeats kept), in an order fixed by content, not
 * by CometChat's array order, so fetching the same call twice gives the same list.
 */
function normaliseParticipants(value: unknown): Participant[] {
  if (!Array.isArray(value)) return [];
  return value
    .map(normaliseParticipant)
    .filter((p): p is Participant => p !== undefined)
    .sort(compareParticipants);
}

/** Longer than any signed URL we have seen by far; a longer one is not a recording link. */
const MAX_URL_LENGTH = 8192;

/** Any rid CometChat gives (keys encode it); a number is taken as its decimal text. */
function toRid(value: unknown): string | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : undefined) : value;
  return typeof text === 'string' && text.trim() !== '' ? text.toWellFormed() : undefined;
}

/** A stable id for a file listed without one: the same file path always gives the same id. */
function ridFromPath(url: URL): string {
  return `url-${createHash('sha256').update(url.pathname).digest('hex').slice(0, 32)}`;
}

/** A file's absolute URL from the first of `fields` set; a missing, empty or relative one can never be fetched. */
function fileUrl(entry: JsonObject, fields: readonly string[], label: string): URL {
  const value = fields
    .map((name) => field(entry, name))
    .find((v) => typeof v === 'string' && v.trim() !== '');
  // The URL may be signed: messages name the file, never the URL.
  if (typeof value !== 'string') throw new RecordingRejectedError(`${label} has no URL`);
  if (value.length > MAX_URL_LENGTH || !URL.canParse(value)) {
    throw new RecordingRejectedError(`${label} has no absolute URL of at most ${MAX_URL_LENGTH} characters`);
  }
  return new URL(value);
}

/** The recording's absolute URL (`recording_url` in the REST docs, `recordingUrl` in the SDK's). */
function recordingUrl(entry: JsonObject, label: string): URL {
  return fileUrl(entry, ['recording_url', 'recordingUrl'], `recording ${label}`);
}

/** The URL minus credentials, query string and fragment: what may be stored and logged. */
function withoutSecrets(url: URL): string {
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  bare.search = '';
  bare.hash = '';
  return bare.href;
}

function normaliseRecording(entry: unknown, index: number): RecordingSource {
  if (!isObject(entry)) throw new InvalidCallDataError(`recording entry ${index} is not an object`);
  const given = toRid(field(entry, 'rid'));
  const url = recordingUrl(entry, given === undefined ? `entry ${index}` : quoteForMessage(given));
  const startTime = toUnixSeconds(field(entry, 'startTime'));
  const endTime = toUnixSeconds(field(entry, 'endTime'));
  return dropAbsent<RecordingSource>({
    rid: given ?? ridFromPath(url),
    url: url.href,
    sourceUrl: withoutSecrets(url),
    startTime,
    endTime,
    // `duration` is minutes in the REST overview but seconds in the SDK and webhook docs, and a
    // value cannot say which. The measured span wins; failing that, we take the majority reading
    // (seconds), so a REST-style value would come out 60 times too short, never too long.
    durationSeconds: toDurationSeconds(span(startTime, endTime) ?? toQuantity(field(entry, 'duration'))),
  });
}

function compareRecordings(a: RecordingSource, b: RecordingSource): number {
  return (
    compareStrings(a.rid, b.rid) ||
    compareOptionalNumbers(a.startTime, b.startTime) ||
    compareOptionalNumbers(a.endTime, b.endTime) ||
    compareContent(a, b)
  );
}

/**
 * Every recording, sorted by rid. An entry repeating a rid names the same file (its key is the
 * rid's), so of those the first is kept — first in a content order (earliest start, then end,
 * then the entry itself), not CometChat's array order.
 */
function normaliseRecordings(value: unknown): RecordingSource[] {
  if (!Array.isArray(value)) return [];
  const sorted = value.map(normaliseRecording).sort(compareRecordings);
  return sorted.filter((recording, index) => index === 0 || sorted[index - 1]?.rid !== recording.rid);
}

/**
 * One transcript entry (REST: `transcriptUrl`; SDK: `url`). Like a recording, any `tid` is kept
 * (keys encode it) and one without a tid gets a stable id from its URL's path.
 */
export function normaliseTranscript(entry: unknown, index: number): TranscriptSource {
  if (!isObject(entry)) throw new InvalidCallDataError(`transcript entry ${index} is not an object`);
  const given = toRid(field(entry, 'tid'));
  const url = fileUrl(
    entry,
    ['transcriptUrl', 'url'],
    `transcript ${given === undefined ? `entry ${index}` : quoteForMessage(given)}`,
  );
  return dropAbsent<TranscriptSource>({
    tid: given ?? ridFromPath(url),
    url: url.href,
    sourceUrl: withoutSecrets(url),
    startTime: toUnixSeconds(field(entry, 'startTime')),
    endTime: toUnixSeconds(field(entry, 'endTime')),
  });
}

function compareTranscripts(a: TranscriptSource, b: TranscriptSource): number {
  return (
    compareStrings(a.tid, b.tid) ||
    compareOptionalNumbers(a.startTime, b.startTime) ||
    compareOptionalNumbers(a.endTime, b.endTime) ||
    compareContent(a, b)
  );
}

/**
 * Every transcript of `entries` (Get Call's `transcriptions[]` or pages of the transcriptions
 * endpoint), sorted by tid, one per tid, chosen in content order as for recordings.
 */
export function normaliseTranscripts(value: unknown): TranscriptSource[] {
  if (!Array.isArray(value)) return [];
  const sorted = value.map(normaliseTranscript).sort(compareTranscripts);
  return sorted.filter((t, index) => index === 0 || sorted[index - 1]?.tid !== t.tid);
}
