/**
 * Pure answers to the two questions the store asks before committing a call: what the call is
 * once a new response is merged into the stored one, and whether that changes anything. No I/O.
 */
import { canonicalJson, compareStrings } from '../calls/coerce.ts';
import { type CallDraft, type CallItem, STATUS_RANK } from '../calls/types.ts';

/** The call item without what the store stamps on a commit or after it (`publishedRevision`, `expiresAt`). */
export function draftOf(call: CallItem | CallDraft): CallDraft {
  const {
    enrichedAt: _enrichedAt,
    revision: _revision,
    publishedRevision: _publishedRevision,
    expiresAt: _expiresAt,
    ...draft
  } = call as CallItem;
  return draft;
}

/**
 * How far along a call a response describes: its status rank, then the latest time in it (every
 * event in a call's life, a start, a join, a leave, the end, adds a later one).
 */
function progressOf(call: CallDraft): [number, number] {
  const times = [call.initiatedAt, call.startedAt, call.endedAt];
  for (const p of call.participants) times.push(p.joinedAt, p.leftAt);
  return [STATUS_RANK[call.status], Math.max(0, ...times.filter((t) => t !== undefined))];
}

function atLeastAsFar(a: CallDraft, b: CallDraft): boolean {
  const [rankA, timeA] = progressOf(a);
  const [rankB, timeB] = progressOf(b);
  return rankA !== rankB ? rankA > rankB : timeA >= timeB;
}

/** Every entry of both lists, one per id, `next`'s where both have it, in id order. */
function union<T>(previous: readonly T[], next: readonly T[], id: (entry: T) => string): T[] {
  const byId = new Map(previous.map((entry) => [id(entry), entry]));
  for (const entry of next) byId.set(id(entry), entry);
  return [...byId.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, entry]) => entry);
}

/**
 * `next` merged into what is stored. The call's own attributes and participants come from
 * whichever is further along (the status only moves forward; on a tie, `next`). Recordings and
 * transcripts are evidence of files archived: the union of both, so a response that looks
 * older still adds its files, and one that leaves a file out never removes it.
 */
export function mergeCall(previous: CallItem | undefined, next: CallDraft): CallDraft {
  if (previous === undefined) return next;
  const before = draftOf(previous);
  const base = atLeastAsFar(next, before) ? next : before;
  const recordings = union(before.recordings, next.recordings, (r) => r.rid);
  const merged: CallDraft = {
    ...base,
    hasRecording: before.hasRecording || next.hasRecording || recordings.length > 0,
    recordings,
    transcripts: union(before.transcripts, next.transcripts, (t) => t.tid),
  };
  if (before.hasTranscription === true || next.hasTranscription === true) merged.hasTranscription = true;
  // The archive's own record of where the manifest is: kept until a run writes another.
  const manifestKey = next.manifestKey ?? before.manifestKey;
  if (manifestKey !== undefined) merged.manifestKey = manifestKey;
  // A legal hold is the archive's own state too: only `setHeld` sets or lifts it.
  if ((next.held ?? before.held) === true) merged.held = true;
  return merged;
}

/** True when committing `draft` over `stored` would change nothing but the write stamps. */
export function sameCall(draft: CallDraft, stored: CallItem): boolean {
  return canonicalJson(draftOf(draft)) === canonicalJson(draftOf(stored));
}
