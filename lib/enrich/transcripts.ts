/**
 * All of a call's transcripts. Get Call lists at most the 5 newest, so when it lists 5 (there
 * may be more) or says `hasTranscription` but lists none, the transcriptions endpoint is paged
 * through as well (newest first, 100 a page): one request for a call with up to 100 transcripts.
 */
import { normaliseTranscripts } from '../calls/normalise.ts';
import type { NormalisedCall, TranscriptSource } from '../calls/types.ts';
import type { CometChatClient, RequestOptions } from '../cometchat/client.ts';
import { InvalidCallDataError } from '../errors.ts';

/** How many transcripts Get Call lists at most (the newest). */
export const GET_CALL_TRANSCRIPTS = 5;
/** The endpoint's own default page size. */
export const TRANSCRIPTS_PER_PAGE = 100;
/** Pages read at most: 10,000 transcripts, far beyond what one call item could list anyway. */
const MAX_PAGES = 100;

/** True when Get Call's list may not be all of the call's transcripts. */
export function mayHaveMoreTranscripts(call: NormalisedCall): boolean {
  return (
    call.transcripts.length >= GET_CALL_TRANSCRIPTS ||
    (call.call.hasTranscription === true && call.transcripts.length === 0)
  );
}

/** Every transcript of `call`: Get Call's, and the endpoint's pages when there may be more. */
export async function allTranscripts(
  call: NormalisedCall,
  client: Pick<CometChatClient, 'listTranscriptions'>,
  options: RequestOptions,
  perPage = TRANSCRIPTS_PER_PAGE,
): Promise<TranscriptSource[]> {
  if (!mayHaveMoreTranscripts(call)) return call.transcripts;
  const listed: unknown[] = [];
  for (let page = 1; ; page += 1) {
    if (page > MAX_PAGES) {
      throw new InvalidCallDataError(
        `call ${call.call.sessionId} lists more than ${MAX_PAGES * perPage} transcripts, beyond what the archive can store`,
      );
    }
    const { transcripts, pagination } = await client.listTranscriptions(
      call.call.sessionId,
      { page, perPage },
      options,
    );
    listed.push(...transcripts);
    const last =
      pagination.totalPages !== undefined ? page >= pagination.totalPages : transcripts.length < perPage;
    if (last || transcripts.length === 0) break;
  }
  // Both lists, one entry per tid (Get Call's newest may have appeared after the pages were read).
  return normaliseTranscripts([...listed, ...call.transcripts.map(asRaw)]);
}

/** A normalised transcript back in CometChat's shape, so both lists go through one normalisation. */
function asRaw(t: TranscriptSource): Record<string, unknown> {
  return {
    tid: t.tid,
    transcriptUrl: t.url,
    ...(t.startTime !== undefined && { startTime: t.startTime }),
    ...(t.endTime !== undefined && { endTime: t.endTime }),
  };
}
