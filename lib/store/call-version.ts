/**
 * Pure answers to the two questions the store asks before writing a call: which of two responses
 * is newer (the version), and did anything change (the content hash). No I/O.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, compareStrings } from '../calls/coerce.ts';
import type { CallItem, ParticipantItem, RecordingItem } from '../calls/types.ts';
import { STATUS_RANK } from '../calls/types.ts';

/** Everything one enrichment writes for a call. */
export interface CallRecords {
  call: CallItem;
  participants: readonly ParticipantItem[];
  recordings: readonly RecordingItem[];
}

/**
 * Attributes the store adds or stamps, which say when or how something was written rather than
 * what CometChat said: left out of every comparison and of the content hash.
 */
export const STORE_ATTRIBUTES = [
  'enrichedAt',
  'copiedAt',
  'statusRank',
  'freshness',
  'contentHash',
  'participantKeys',
  'version',
] as const;

const STORE_ATTRIBUTE_SET: ReadonlySet<string> = new Set(STORE_ATTRIBUTES);

/**
 * The item's attributes as CometChat's data defines them: store attributes and `undefined`
 * values dropped, so an absent value and an `undefined` one compare (and hash) the same.
 */
export function contentOf<T extends object>(item: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (value !== undefined && !STORE_ATTRIBUTE_SET.has(name)) out[name] = value;
  }
  return out as Partial<T>;
}

/** True when two items hold the same content (store attributes ignored). */
export function sameContent(a: object, b: object): boolean {
  return canonicalJson(contentOf(a)) === canonicalJson(contentOf(b));
}

/** Sort order of items within a partition, as a Query returns them. */
export function bySk(a: { sk: string }, b: { sk: string }): number {
  return compareStrings(a.sk, b.sk);
}

/**
 * sha256 (hex) of the call's content: the call, its participants and recordings in `sk` order,
 * without store attributes. Equal for two responses that say the same thing.
 */
export function contentHash(records: CallRecords): string {
  const text = canonicalJson({
    call: contentOf(records.call),
    participants: [...records.participants].sort(bySk).map(contentOf),
    recordings: [...records.recordings].sort(bySk).map(contentOf),
  });
  return createHash('sha256').update(text).digest('hex');
}

function latest(current: number, value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > current ? value : current;
}

/**
 * The latest Unix time anywhere in the records (whole seconds; 0 when there is none). Every
 * event in a call's life (start, a join, a leave, the end, a recording) adds a later time, so a
 * response fetched later never has a smaller one.
 */
export function freshnessOf(records: CallRecords): number {
  const { call } = records;
  let max = latest(latest(latest(0, call.initiatedAt), call.startedAt), call.endedAt);
  for (const p of records.participants) max = latest(latest(max, p.joinedAt), p.leftAt);
  for (const r of records.recordings) max = latest(latest(max, r.startTime), r.endTime);
  return Math.floor(max);
}

// Fixed widths make string order equal tuple order, so DynamoDB can compare versions in a
// ConditionExpression. 15 digits hold Unix seconds (and milliseconds, should they ever appear).
const FRESHNESS_DIGITS = 15;
const COUNT_DIGITS = 6;

/**
 * How far along a call a response describes, as a string whose order is the order of
 * (status rank, freshness, recording count): `2:000001700000123:000001`. The recording count
 * breaks ties because a recording is listed after the call ends, without a later timestamp.
 */
export function versionOf(records: CallRecords): string {
  return formatVersion(STATUS_RANK[records.call.status], freshnessOf(records), records.call.recordingCount);
}

/** The version string for the given parts (see {@link versionOf}). */
export function formatVersion(statusRank: number, freshness: number, recordingCount: number): string {
  const count = Number.isFinite(recordingCount) && recordingCount > 0 ? Math.floor(recordingCount) : 0;
  return [
    String(statusRank),
    String(Math.max(0, Math.floor(freshness))).padStart(FRESHNESS_DIGITS, '0'),
    String(count).padStart(COUNT_DIGITS, '0'),
  ].join(':');
}
