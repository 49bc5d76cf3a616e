/**
 * The `byUser` index: one item per participant entry, derived from the committed call item
 * alone, so any run can rebuild it and two runs derive the same items. No I/O.
 */
import { createHash } from 'node:crypto';
import { dropAbsent } from '../calls/coerce.ts';
import type { CallDraft, CallItem, ParticipantIndexItem } from '../calls/types.ts';

/** Sort-key prefix of the index items in a call's partition. */
export const PARTICIPANT_PREFIX = 'PARTICIPANT#';
/** Room for one id in a sort key: uid and device stay well within DynamoDB's 1,024 bytes. */
const MAX_PART_BYTES = 400;
/** Hex digits of sha256 kept when an id is shortened: 128 bits, no collision in practice. */
const HASH_DIGITS = 32;

/**
 * One id as a sort-key part: `%`, `#` (the separator) and `~` (which marks a shortened part)
 * escaped; over 400 bytes, its readable start, `~` and a hash of the whole id.
 */
function keyPart(id: string): string {
  const escaped = id.replaceAll('%', '%25').replaceAll('#', '%23').replaceAll('~', '%7E');
  if (Buffer.byteLength(escaped) <= MAX_PART_BYTES) return escaped;
  let start = '';
  let bytes = 0;
  for (const char of escaped) {
    bytes += Buffer.byteLength(char);
    if (bytes > MAX_PART_BYTES - HASH_DIGITS - 3) break;
    start += char;
  }
  // An escape cut in half would read as another character.
  start = start.replace(/%[0-9A-F]?$/, '');
  return `${start}~${createHash('sha256').update(id).digest('hex').slice(0, HASH_DIGITS)}`;
}

/**
 * The `byUser` sort key's time when a call has neither `initiatedAt` nor `startedAt`: it sorts
 * before every real time, so such a call lists as the user's oldest and is still found.
 */
export const UNDATED_SORT_TIME = '0000-00-00T00:00:00.000Z';

/**
 * `<time ISO>#<sessionId>`: the call's `initiatedAt`, else its `startedAt` (CometChat sometimes
 * sends only that), else {@link UNDATED_SORT_TIME}. Always set: `byUser` is a sparse index, and
 * an item without it would leave the call out of `list --user` and erasure.
 */
export function userIndexSortKey(call: Pick<CallDraft, 'sessionId' | 'initiatedAt' | 'startedAt'>): string {
  const at = call.initiatedAt ?? call.startedAt;
  const time = at === undefined ? UNDATED_SORT_TIME : new Date(at * 1000).toISOString();
  return `${time}#${call.sessionId}`;
}

/**
 * The index items of `call`: sk `PARTICIPANT#<uid>#<deviceId or ->`, and `#2`, `#3`… for
 * repeats of a (uid, device) pair in list order (which the normaliser fixes by content). A
 * redacted participant (erasure) has none: nobody finds the call through them. Each carries the
 * call's `expiresAt`, so retention removes the index with the call.
 */
export function participantIndexItems(
  call: CallDraft & Pick<Partial<CallItem>, 'expiresAt'>,
): ParticipantIndexItem[] {
  const gsi1sk = userIndexSortKey(call);
  const seen = new Map<string, number>();
  return call.participants.flatMap((participant) => {
    if (participant.redacted === true) return [];
    const { deviceId } = participant;
    // A device id that is literally `-` must not read as "no device".
    const device = deviceId === undefined ? '-' : deviceId === '-' ? '%2D' : keyPart(deviceId);
    const base = `${PARTICIPANT_PREFIX}${keyPart(participant.uid)}#${device}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return [
      dropAbsent<ParticipantIndexItem>({
        ...participant,
        pk: call.pk,
        sk: n === 1 ? base : `${base}#${n}`,
        entity: 'participant',
        sessionId: call.sessionId,
        gsi1pk: `USER#${participant.uid}`,
        gsi1sk,
        expiresAt: call.expiresAt,
      }),
    ];
  });
}
