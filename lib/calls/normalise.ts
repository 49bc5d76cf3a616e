import { InvalidCallDataError, InvalidInputError } from '../errors.ts';
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
  toKeyPart,
  toQuantity,
  toText,
  toUnixSeconds,
} from './coerce.ts';
import { parseSessionId } from './session-id.ts';
import {
  CALL_STATUSES,
  type CallItem,
  type CallStatus,
  callPk,
  type NormalisedCall,
  type ParticipantItem,
  type RecordingSource,
} from './types.ts';

/**
 * Turns one Get Call `data` object (already unwrapped from its object-or-array envelope) into
 * the call item, its participant items and the recordings to copy. Accepts every variant the
 * CometChat docs publish; anything optional that is unusable is left absent. Throws
 * `InvalidCallDataError` only when the payload lacks a valid `sessionId` (or names another
 * session than `expectedSessionId`) or a `status` we can rank.
 */
export function normaliseCall(raw: unknown, expectedSessionId?: string): NormalisedCall {
  if (!isObject(raw)) throw new InvalidCallDataError('the Get Call data is not an object');
  const sessionId = readSessionId(raw, expectedSessionId);
  const status = readStatus(raw);
  const pk = callPk(sessionId);

  const initiatedAt = toUnixSeconds(field(raw, 'initiatedAt'));
  const initiatedIso = initiatedAt === undefined ? undefined : new Date(initiatedAt * 1000).toISOString();
  const startedAt = toUnixSeconds(field(raw, 'startedAt'));
  const endedAt = toUnixSeconds(field(raw, 'endedAt'));

  const participants = normaliseParticipants(field(raw, 'participants'), { pk, sessionId, initiatedIso });
  const recordings = normaliseRecordings(field(raw, 'recordings'));

  const call = dropAbsent<CallItem>({
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
    recordingCount: recordings.length,
    gsi2pk: initiatedIso === undefined ? undefined : `DAY#${initiatedIso.slice(0, 10)}`,
    gsi2sk: initiatedIso === undefined ? undefined : `${initiatedIso}#${sessionId}`,
  });
  return { call, participants, recordings };
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

interface CallContext {
  pk: string;
  sessionId: string;
  initiatedIso: string | undefined;
}

type ParticipantDraft = Omit<ParticipantItem, 'sk'>;

/**
 * Sort-key parts are percent-escaped where they could make two different (uid, device) pairs
 * collide: `#` (the separator), `%` (the escape itself) and a device id that is literally `-`
 * (the "no device" placeholder). CometChat's uids never contain these, so real keys read plainly.
 */
function escapeKeyPart(part: string): string {
  return part.replaceAll('%', '%25').replaceAll('#', '%23');
}

function participantBaseSk(draft: ParticipantDraft): string {
  const device =
    draft.deviceId === undefined ? '-' : draft.deviceId === '-' ? '%2D' : escapeKeyPart(draft.deviceId);
  return `PARTICIPANT#${escapeKeyPart(draft.uid)}#${device}`;
}

function normaliseParticipant(entry: unknown, context: CallContext): ParticipantDraft | undefined {
  if (!isObject(entry)) return undefined;
  const uid = toKeyPart(field(entry, 'uid'));
  if (uid === undefined) return undefined;
  const joinedAt = toUnixSeconds(field(entry, 'joinedAt'));
  const leftAt = toUnixSeconds(field(entry, 'leftAt'));
  return dropAbsent<ParticipantDraft>({
    pk: context.pk,
    entity: 'participant',
    sessionId: context.sessionId,
    uid,
    name: toText(field(entry, 'name')),
    deviceId: toKeyPart(field(entry, 'deviceId')),
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
    gsi1pk: `USER#${uid}`,
    gsi1sk: context.initiatedIso === undefined ? undefined : `${context.initiatedIso}#${context.sessionId}`,
  });
}

/**
 * The last tie-breaker between two look-alike entries: their `[key, value]` pairs in key order,
 * as JSON, compared as text. Total and independent of CometChat's array order. This exact text
 * decides which duplicate is numbered `#2` (or kept), so a different form would renumber items
 * already stored.
 */
function compareContent(a: object, b: object): number {
  return compareStrings(canonicalJson(sortedEntries(a)), canonicalJson(sortedEntries(b)));
}

function compareParticipants(a: ParticipantDraft, b: ParticipantDraft): number {
  return (
    compareOptionalNumbers(a.joinedAt, b.joinedAt) ||
    compareOptionalNumbers(a.leftAt, b.leftAt) ||
    compareContent(a, b)
  );
}

/**
 * One item per usable entry (CometChat lists one entry per device). Repeats of a (uid, device)
 * pair get `#2`, `#3`… in an order fixed by their content, not by CometChat's array order, so
 * fetching the same call twice always yields the same keys.
 */
function normaliseParticipants(value: unknown, context: CallContext): ParticipantItem[] {
  if (!Array.isArray(value)) return [];
  const groups = new Map<string, ParticipantDraft[]>();
  for (const entry of value) {
    const draft = normaliseParticipant(entry, context);
    if (draft === undefined) continue;
    const base = participantBaseSk(draft);
    const group = groups.get(base);
    if (group === undefined) groups.set(base, [draft]);
    else group.push(draft);
  }
  const items: ParticipantItem[] = [];
  for (const [base, group] of groups) {
    group.sort(compareParticipants);
    group.forEach((draft, index) => {
      items.push({ ...draft, sk: index === 0 ? base : `${base}#${index + 1}` });
    });
  }
  return items.sort((a, b) => compareStrings(a.sk, b.sk));
}

/** A rid goes into an S3 key and a sort key as it is, so it must be plain. */
const RID = /^[A-Za-z0-9._-]{1,128}$/;
/** Longer than any signed URL we have seen by far; a longer one is not a recording link. */
const MAX_URL_LENGTH = 8192;

function toRid(value: unknown): string | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : undefined) : value;
  return typeof text === 'string' && RID.test(text) ? text : undefined;
}

function toAbsoluteUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.href.length > MAX_URL_LENGTH ? undefined : url;
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

function normaliseRecording(entry: unknown): RecordingSource | undefined {
  if (!isObject(entry)) return undefined;
  const rid = toRid(field(entry, 'rid'));
  const url = toAbsoluteUrl(field(entry, 'recording_url')) ?? toAbsoluteUrl(field(entry, 'recordingUrl'));
  if (rid === undefined || url === undefined) return undefined;
  const startTime = toUnixSeconds(field(entry, 'startTime'));
  const endTime = toUnixSeconds(field(entry, 'endTime'));
  return dropAbsent<RecordingSource>({
    rid,
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
 * Usable recordings sorted by rid. Of entries sharing a rid the first is kept — first in a
 * content order (earliest start, then end, then the entry itself), not CometChat's array
 * order, so the choice does not change when CometChat reorders its list.
 */
function normaliseRecordings(value: unknown): RecordingSource[] {
  if (!Array.isArray(value)) return [];
  const sorted = value
    .map(normaliseRecording)
    .filter((r): r is RecordingSource => r !== undefined)
    .sort(compareRecordings);
  return sorted.filter((recording, index) => index === 0 || sorted[index - 1]?.rid !== recording.rid);
}
