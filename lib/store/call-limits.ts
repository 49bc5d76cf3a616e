/**
 * What one DynamoDB item can hold, checked before anything is written, so a call beyond it
 * fails as a named, permanent error instead of a service error retried for ever. No I/O.
 */
import type { CallDraft } from '../calls/types.ts';
import { InvalidCallDataError } from '../errors.ts';
import { participantIndexItems } from './participant-index.ts';

/** DynamoDB's item size limit (400 KB, counted in KiB). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's limits on key attributes, table and index alike, in UTF-8 bytes. */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;
/** What a commit (and its publication) adds to the draft, at their largest. */
const STAMP = { enrichedAt: '2000-01-01T00:00:00.000Z', revision: 1e15, publishedRevision: 1e15 };

/** Bytes a number takes: about one per two significant digits, plus one. */
function numberBytes(n: number): number {
  const digits = Math.abs(n).toExponential().replace(/e.*$/, '').replace('.', '').length;
  return Math.min(21, Math.ceil(digits / 2) + 1);
}

/** A value's size as DynamoDB counts it (names and values in UTF-8; 3 bytes per list or map, 1 per element). */
function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return numberBytes(value);
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typeof value === 'object') return 3 + attributesBytes(value as Record<string, unknown>, 1);
  return 0;
}

function attributesBytes(item: Record<string, unknown>, perElement = 0): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value !== undefined) bytes += perElement + Buffer.byteLength(name) + valueBytes(value);
  }
  return bytes;
}

/** The size DynamoDB would count for `item`. */
export function itemBytes(item: object): number {
  return attributesBytes(item as Record<string, unknown>);
}

function checkKey(what: string, value: string | undefined, max: number, sessionId: string): void {
  if (value !== undefined && Buffer.byteLength(value) > max) {
    throw new InvalidCallDataError(
      `call ${sessionId} cannot be stored: its ${what} would be over DynamoDB's ${max}-byte key limit`,
    );
  }
}

/**
 * Throws `InvalidCallDataError`, naming the limit, when the call item (as committed) or one of
 * its index items is more than DynamoDB can hold.
 */
export function assertStorable(call: CallDraft): void {
  const { sessionId } = call;
  checkKey('partition key', call.pk, MAX_PARTITION_KEY_BYTES, sessionId);
  checkKey('byDay sort key', call.gsi2sk, MAX_SORT_KEY_BYTES, sessionId);
  const bytes = itemBytes({ ...call, ...STAMP });
  if (bytes > MAX_ITEM_BYTES) {
    throw new InvalidCallDataError(
      `call ${sessionId} cannot be stored: its item would be ${bytes} bytes, over DynamoDB's ` +
        `400 KB item limit (${call.participants.length} participant entries, ` +
        `${call.recordings.length} recordings, ${call.transcripts.length} transcripts)`,
    );
  }
  for (const item of participantIndexItems(call)) {
    checkKey('participant sort key', item.sk, MAX_SORT_KEY_BYTES, sessionId);
    checkKey('byUser partition key (USER#<uid>)', item.gsi1pk, MAX_PARTITION_KEY_BYTES, sessionId);
    checkKey('byUser sort key', item.gsi1sk, MAX_SORT_KEY_BYTES, sessionId);
  }
}
