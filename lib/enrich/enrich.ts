/**
 * The enrichment use case: one CometChat session in, its call, participants and recordings
 * stored. It takes its adapters as arguments, so the Lambda handlers, the queue consumer, the
 * local runner and the tests all drive the same code with their own clients.
 */

import { normaliseCall } from '../calls/normalise.ts';
import { sessionIdFromEvent } from '../calls/session-id.ts';
import type { NormalisedCall, RecordingItem, RecordingSource } from '../calls/types.ts';
import type { CometChatClient } from '../cometchat/client.ts';
import { RecordingDownloadError } from '../errors.ts';
import type { RecordingCopier } from '../recordings/copy-recording.ts';
import type { CallStore, SaveOutcome } from '../store/call-store.ts';

/** One recording in an {@link EnrichmentResult}. */
export interface RecordingResult {
  rid: string;
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  /** False when the object was already in S3 with the same size and digest: nothing downloaded. */
  copied: boolean;
}

/** What `enrichCall` returns (the contract's `EnrichmentResult`). */
export interface EnrichmentResult {
  sessionId: string;
  status: string;
  participants: number;
  recordings: RecordingResult[];
}

/** Adapters the use case needs. `recordings` is lazy: S3 is only loaded for calls that have any. */
export interface EnrichDependencies {
  cometChat: Pick<CometChatClient, 'getCall'>;
  store: Pick<CallStore, 'load' | 'save'>;
  recordings: () => Promise<RecordingCopier>;
  now?: () => Date;
  /** Told what happened, for logs and metrics; never given secrets. */
  observe?: (event: EnrichObservation) => void;
}

/** Something worth a log line or a metric. */
export type EnrichObservation =
  | { kind: 'fetched'; sessionId: string; status: string; participants: number; recordings: number }
  | { kind: 'recording'; sessionId: string; rid: string; copied: boolean; bytes: number }
  | { kind: 'url-refreshed'; sessionId: string; rid: string; statusCode: number }
  | { kind: 'saved'; sessionId: string; outcome: SaveOutcome };

/** Per-invocation limits. */
export interface EnrichOptions {
  /** Epoch ms by which CometChat requests must be done (from the Lambda's remaining time). */
  deadline?: number;
  signal?: AbortSignal;
}

/**
 * Enriches the call named by `event.sessionId`. Throws the contract's named errors
 * (InvalidInputError before any request is sent; CometChat*, Recording*, StorageError).
 */
export async function enrichCall(
  event: unknown,
  deps: EnrichDependencies,
  options: EnrichOptions = {},
): Promise<EnrichmentResult> {
  const sessionId = sessionIdFromEvent(event);
  const observe = deps.observe ?? (() => {});
  const fetchCall = async (): Promise<NormalisedCall> =>
    normaliseCall(await deps.cometChat.getCall(sessionId, options), sessionId);

  let fetched = await fetchCall();
  observe({
    kind: 'fetched',
    sessionId,
    status: fetched.call.status,
    participants: fetched.participants.length,
    recordings: fetched.recordings.length,
  });
  const previous = await deps.store.load(sessionId);

  const items: RecordingItem[] = [];
  const results: RecordingResult[] = [];
  if (fetched.recordings.length > 0) {
    const copier = await deps.recordings();
    let refreshed = false;
    for (const { rid } of fetched.recordings) {
      // Look the source up afresh each time: after a refresh, later recordings use the new URLs.
      const source = fetched.recordings.find((r) => r.rid === rid) as RecordingSource;
      const existing = previous?.recordings.find((r) => r.rid === rid);
      let outcome: Awaited<ReturnType<RecordingCopier['copy']>>;
      try {
        outcome = await copier.copy({ sessionId, source, existing }, { signal: options.signal });
      } catch (error) {
        // An expired or revoked signed URL: ask CometChat once for fresh URLs, then try again.
        if (refreshed || !isUrlExpired(error)) throw error;
        refreshed = true;
        observe({ kind: 'url-refreshed', sessionId, rid, statusCode: error.statusCode ?? 0 });
        const refetched = await fetchCall();
        const fresh = refetched.recordings.find((r) => r.rid === rid);
        if (!fresh) throw error;
        fetched = {
          ...refetched,
          recordings: fetched.recordings.map((r) => refetched.recordings.find((f) => f.rid === r.rid) ?? r),
        };
        outcome = await copier.copy({ sessionId, source: fresh, existing }, { signal: options.signal });
      }
      const { item, copied } = outcome;
      items.push(item);
      results.push({
        rid,
        bucket: item.bucket,
        key: item.key,
        bytes: item.bytes,
        sha256: item.sha256,
        copied,
      });
      observe({ kind: 'recording', sessionId, rid, copied, bytes: copied ? item.bytes : 0 });
    }
  }

  const { outcome, stored } = await deps.store.save(
    { call: fetched.call, participants: fetched.participants, recordings: items },
    { previous, now: deps.now?.() },
  );
  observe({ kind: 'saved', sessionId, outcome });
  return {
    sessionId,
    status: stored.call.status,
    participants: stored.participants.length,
    recordings: results,
  };
}

function isUrlExpired(error: unknown): error is RecordingDownloadError {
  return error instanceof RecordingDownloadError && (error.statusCode === 401 || error.statusCode === 403);
}
