/**
 * The enrichment use case: one CometChat session in; its call, participants and recordings
 * stored, then its manifest (and, with a bus, its `CallArchived` event) sent. It takes its
 * adapters as arguments, so the Lambda handlers, the queue consumer, the local runner and the
 * tests all drive the same code with their own clients.
 */

import { normaliseCall } from '../calls/normalise.ts';
import { sessionIdFromEvent } from '../calls/session-id.ts';
import type {
  NormalisedCall,
  RecordingEntry,
  RecordingSource,
  TranscriptEntry,
  TranscriptSource,
} from '../calls/types.ts';
import type { CometChatClient, RawCall } from '../cometchat/client.ts';
import { applyErasure, erasureForHeld } from '../erase/apply.ts';
import type { Erasure } from '../erase/erased-set.ts';
import type { RecordingCopier } from '../recordings/copy-recording.ts';
import type { TranscriptCopier } from '../recordings/copy-transcript.ts';
import { type FolderParts, folderOfManifestKey, manifestKeyIn } from '../recordings/object-key.ts';
import { assertStorable } from '../store/call-limits.ts';
import type { CallStore, SaveOutcome } from '../store/call-store.ts';
import { mergeCall } from '../store/merge-call.ts';
import { type PublishDependencies, publishOwed } from './publish.ts';
import { allTranscripts } from './transcripts.ts';

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

/** One transcript in an {@link EnrichmentResult}. */
export interface TranscriptResult {
  tid: string;
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  /** False when the object was already in S3 with the same size and digest: nothing downloaded. */
  copied: boolean;
}

/** What `enrichCall` returns (the contract's `EnrichmentResult`): what is stored after the run. */
export interface EnrichmentResult {
  sessionId: string;
  status: string;
  participants: number;
  recordings: RecordingResult[];
  transcripts: TranscriptResult[];
  /** Set when nothing was stored because an erasure deleted this call (its tombstone). */
  skipped?: 'erased';
}

/**
 * Adapters the use case needs. `recordings`, `manifests` and `events` are lazy: S3 is loaded
 * only for a call that has files or changed, EventBridge only when an event is owed.
 */
export interface EnrichDependencies extends PublishDependencies {
  cometChat: Pick<CometChatClient, 'getCall' | 'listTranscriptions'>;
  store: Pick<CallStore, 'load' | 'save' | 'markPublished'>;
  recordings: () => Promise<RecordingCopier>;
  transcripts: () => Promise<TranscriptCopier>;
  /** The folder key (`<prefix>…/`) of a call, as ARCHIVE_KEY_TEMPLATE places it. */
  folderOf: (call: FolderParts) => string;
  now?: () => Date;
  /** Told what happened, for logs and metrics; never given secrets. */
  observe?: (event: EnrichObservation) => void;
  /** Looks the call's tombstone and participants up in the erased set (lib/erase): one batched read per call. */
  erasure?: (call: NormalisedCall['call'], options: { signal?: AbortSignal }) => Promise<Erasure>;
}

/** Something worth a log line or a metric. */
export type EnrichObservation =
  | { kind: 'fetched'; sessionId: string; status: string; participants: number; recordings: number }
  | { kind: 'recording'; sessionId: string; rid: string; copied: boolean; bytes: number }
  | { kind: 'transcript'; sessionId: string; tid: string; copied: boolean; bytes: number }
  | { kind: 'url-refreshed'; sessionId: string; rid: string }
  | { kind: 'url-refreshed'; sessionId: string; tid: string }
  | { kind: 'saved'; sessionId: string; outcome: SaveOutcome }
  | { kind: 'published'; sessionId: string; revision: number }
  | { kind: 'erased'; sessionId: string; action: 'skip' | 'redact' };

/** Per-invocation limits. */
export interface EnrichOptions {
  /** Epoch ms by which CometChat requests must be done (from the Lambda's remaining time). */
  deadline?: number;
  signal?: AbortSignal;
}

/**
 * The largest entry a recording not yet copied could become (S3's longest key and bucket name,
 * the largest size), so a call that could not be stored is refused before anything is copied.
 */
function largestEntry<S extends RecordingSource | TranscriptSource>(
  source: S,
): Omit<S, 'url'> & Omit<RecordingEntry, 'rid'> {
  const { url: _url, ...described } = source;
  return {
    ...described,
    bucket: 'b'.repeat(63),
    key: 'k'.repeat(1024),
    bytes: Number.MAX_SAFE_INTEGER,
    sha256: '0'.repeat(64),
    contentType: 'c'.repeat(64),
    copiedAt: new Date(0).toISOString(),
  };
}

/**
 * Enriches the call named by `event.sessionId`. Throws the contract's named errors
 * (InvalidInputError before any request is sent; CometChat*, Recording*, InvalidCallDataError,
 * StorageError).
 */
export async function enrichCall(
  event: unknown,
  deps: EnrichDependencies,
  options: EnrichOptions = {},
): Promise<EnrichmentResult> {
  const sessionId = sessionIdFromEvent(event);
  const observe = deps.observe ?? (() => {});
  const { signal } = options;
  // The latest Get Call response, as received: the manifest keeps it (signed queries removed).
  let response: RawCall | undefined;
  // An erased user stays erased: every response (a refetch too) is redacted before it is used.
  let erasure: Erasure = { action: 'keep' };
  const fetchCall = async (): Promise<NormalisedCall> => {
    const raw = await deps.cometChat.getCall(sessionId, options);
    const applied = applyErasure(normaliseCall(raw, sessionId), raw, erasure);
    response = applied.raw;
    return applied.normalised;
  };

  let fetched = await fetchCall();
  const previous = await deps.store.load(sessionId, { signal });
  if (deps.erasure) {
    erasure = await deps.erasure(fetched.call, { signal });
    // Legal hold wins: a held call takes no erasure it was not given already (its new
    // recordings and transcripts are still archived).
    if (previous?.call.held === true) erasure = erasureForHeld(erasure, previous.call);
    if (erasure.action !== 'keep') observe({ kind: 'erased', sessionId, action: erasure.action });
    if (erasure.action === 'skip') {
      return {
        sessionId,
        status: fetched.call.status,
        participants: 0,
        recordings: [],
        transcripts: [],
        skipped: 'erased',
      };
    }
    const applied = applyErasure(fetched, response, erasure);
    fetched = applied.normalised;
    response = applied.raw;
  }
  observe({
    kind: 'fetched',
    sessionId,
    status: fetched.call.status,
    participants: fetched.call.participants.length,
    recordings: fetched.recordings.length,
  });
  // A stored call stays in the folder its manifest names, whatever the template says since.
  const folder =
    (previous?.call.manifestKey && folderOfManifestKey(previous.call.manifestKey)) ||
    deps.folderOf({
      sessionId,
      initiatedAt: previous?.call.initiatedAt ?? fetched.call.initiatedAt ?? fetched.call.startedAt,
    });
  const manifestKey = manifestKeyIn(folder);
  const transcriptSources = await allTranscripts(fetched, deps.cometChat, options);
  const stored = new Map(previous?.call.recordings.map((r) => [r.rid, r]));
  const storedTranscripts = new Map(previous?.call.transcripts.map((t) => [t.tid, t]));
  assertStorable(
    mergeCall(previous?.call, {
      ...fetched.call,
      manifestKey,
      recordings: fetched.recordings.map((r) => stored.get(r.rid) ?? largestEntry(r)),
      transcripts: transcriptSources.map((t) => storedTranscripts.get(t.tid) ?? largestEntry(t)),
    }),
  );

  const entries: RecordingEntry[] = [];
  const copiedNow = new Set<string>();
  // At most one Get Call again per run, shared by every file whose URL was refused.
  let refetched: Promise<NormalisedCall> | undefined;
  if (fetched.recordings.length > 0) {
    const copier = await deps.recordings();
    const freshSource = async (rid: string) => (await refetched)?.recordings.find((r) => r.rid === rid);
    for (const recording of fetched.recordings) {
      const { rid } = recording;
      const source = (await freshSource(rid)) ?? recording;
      const { entry, copied } = await copier.copy(
        {
          sessionId,
          source,
          folder,
          existing: stored.get(rid),
          refreshSource: async () => {
            if (refetched) return undefined;
            observe({ kind: 'url-refreshed', sessionId, rid });
            refetched = fetchCall();
            return freshSource(rid);
          },
        },
        { signal },
      );
      entries.push(entry);
      if (copied) copiedNow.add(rid);
      observe({ kind: 'recording', sessionId, rid, copied, bytes: copied ? entry.bytes : 0 });
    }
  }

  const transcriptEntries: TranscriptEntry[] = [];
  if (transcriptSources.length > 0) {
    const copier = await deps.transcripts();
    // At most one fetch of the transcripts again per run (sharing the recordings' Get Call).
    let refreshed: Promise<TranscriptSource[]> | undefined;
    const freshTranscript = async (tid: string) => (await refreshed)?.find((t) => t.tid === tid);
    for (const transcript of transcriptSources) {
      const { tid } = transcript;
      const { entry, copied } = await copier.copy(
        {
          sessionId,
          source: (await freshTranscript(tid)) ?? transcript,
          folder,
          existing: storedTranscripts.get(tid),
          refreshSource: async () => {
            if (refreshed) return undefined;
            observe({ kind: 'url-refreshed', sessionId, tid });
            refetched ??= fetchCall();
            refreshed = refetched.then((call) => allTranscripts(call, deps.cometChat, options));
            return freshTranscript(tid);
          },
        },
        { signal },
      );
      transcriptEntries.push(entry);
      if (copied) copiedNow.add(`transcript:${tid}`);
      observe({ kind: 'transcript', sessionId, tid, copied, bytes: copied ? entry.bytes : 0 });
    }
  }

  const { outcome, call } = await deps.store.save(
    { ...fetched.call, recordings: entries, transcripts: transcriptEntries, manifestKey },
    { previous, now: deps.now?.(), signal },
  );
  observe({ kind: 'saved', sessionId, outcome });
  // Owed after this commit, or still owed by an earlier run that failed after its commit.
  const published = await publishOwed(call, response, deps, { signal });
  if (published !== undefined) observe({ kind: 'published', sessionId, revision: published });
  return {
    sessionId,
    status: call.status,
    participants: call.participants.length,
    recordings: call.recordings.map(({ rid, bucket, key, bytes, sha256 }) => ({
      rid,
      bucket,
      key,
      bytes,
      sha256,
      copied: copiedNow.has(rid),
    })),
    transcripts: call.transcripts.map(({ tid, bucket, key, bytes, sha256 }) => ({
      tid,
      bucket,
      key,
      bytes,
      sha256,
      copied: copiedNow.has(`transcript:${tid}`),
    })),
  };
}
