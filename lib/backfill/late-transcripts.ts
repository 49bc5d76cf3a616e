/**
 * Late transcripts: CometChat produces a call's transcripts after it ended and no webhook says so
 * (../shared/cometchat/api-facts.md, "Transcripts"), often after the backfill's window has left
 * the call. So each run also walks List Calls with `hasTranscription=true` and looks again at the
 * calls that ended within the watch. Pure: which span to watch, which calls to enqueue.
 */

import { GET_CALL_TRANSCRIPTS } from '../enrich/transcripts.ts';
import type { CallSummary } from '../store/call-store.ts';
import type { ListedFiles } from './list-walk.ts';
import type { TimeWindow } from './window.ts';

/** How long after a call ended a transcript that appears is still picked up: a day (issue 12). */
export const TRANSCRIPT_WATCH_SECONDS = 86_400;
/** The checkpoint of the last complete late-transcript walk (pk `BACKFILL`, sk `CHECKPOINT#late-transcripts`). */
export const LATE_TRANSCRIPTS_CHECKPOINT = 'late-transcripts';

/**
 * The calls to look at again, by when they ended: a day before the last complete walk (`lastWalk`,
 * Unix seconds), so a transcript that appears up to a day after its call is seen by the first run
 * after it appears, however far apart runs are; a day before now on a first run. Never more than
 * two days back, so runs that keep failing do not widen it without end.
 */
export function watchWindow(nowSeconds: number, lastWalk: number | undefined): TimeWindow {
  const since = Math.min(nowSeconds, lastWalk ?? nowSeconds);
  return {
    from: Math.max(nowSeconds - 2 * TRANSCRIPT_WATCH_SECONDS, since - TRANSCRIPT_WATCH_SECONDS),
    to: nowSeconds,
  };
}

/** Whether the listing says the call has transcripts. */
export function listsTranscripts(files: ListedFiles): boolean {
  return files.hasTranscription || (files.transcripts ?? 0) > 0;
}

/**
 * Whether a watched call goes to enrichment again: its listing shows more transcripts than the call
 * item holds (none stored counts as 0), or cannot tell — it lists only the
 * {@link GET_CALL_TRANSCRIPTS} newest, or says `hasTranscription` without a list — so only
 * enrichment (which pages the transcriptions endpoint) can. A shorter listing, all stored, asks
 * for nothing.
 */
export function mayLackTranscripts(files: ListedFiles, stored: CallSummary | undefined): boolean {
  const listed = files.transcripts ?? 0;
  if (listed === 0) return files.hasTranscription;
  return listed >= GET_CALL_TRANSCRIPTS || listed > (stored?.transcripts ?? 0);
}
