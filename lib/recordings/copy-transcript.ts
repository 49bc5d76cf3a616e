/**
 * Archives one transcript the way recordings are archived (copy-file.ts: written once, sha256
 * tag, nothing partial at the final key, 401/403 answered with a fresh URL through
 * `refreshSource`), at `<folder>transcripts/<tid>.<ext>`. An object an earlier run stored whole
 * (size and `sha256` tag) is kept without downloading anything.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { TranscriptEntry, TranscriptSource } from '../calls/types.ts';
import { copySource, stillStored, storedWhole } from './copy-source.ts';
import { transcriptKeyIn } from './object-key.ts';
import { checkRecordingUrl, type UrlPolicy } from './url-policy.ts';

/** The transcript formats a key may end in; anything else is stored as `json` (CometChat's format). */
export const TRANSCRIPT_CONTENT_TYPES = {
  json: 'application/json',
  vtt: 'text/vtt',
  srt: 'application/x-subrip',
  txt: 'text/plain',
} as const;
type TranscriptExtension = keyof typeof TRANSCRIPT_CONTENT_TYPES;

/** The extension of the URL path's last segment when it is a known transcript format, else `json`. */
export function transcriptExtension(url: string): TranscriptExtension {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return 'json';
  }
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(pathname.slice(pathname.lastIndexOf('/') + 1))?.[1]?.toLowerCase();
  return ext !== undefined && Object.hasOwn(TRANSCRIPT_CONTENT_TYPES, ext)
    ? (ext as TranscriptExtension)
    : 'json';
}

const TEXT_TYPE = /^(?:text\/[a-z0-9.+-]+|application\/(?:json|x-subrip|[a-z0-9.+-]+\+json))$/;

/** One transcript to archive. */
export interface CopyTranscriptInput {
  sessionId: string;
  source: TranscriptSource;
  /** The call's folder key (`<prefix>…/`, lib/recordings/object-key.ts). */
  folder: string;
  /** The entry an earlier run stored for this tid, if any. */
  existing?: TranscriptEntry;
  /** A fresh source after a 401/403 (the call and its transcripts fetched again), or undefined. */
  refreshSource?: () => Promise<TranscriptSource | undefined>;
}

/** Copies transcripts into the bucket. */
export interface TranscriptCopier {
  copy(
    input: CopyTranscriptInput,
    options?: { signal?: AbortSignal },
  ): Promise<{ entry: TranscriptEntry; copied: boolean }>;
}

/** A copier bound to one bucket and URL policy. */
export function createTranscriptCopier(options: {
  s3: S3Client;
  bucket: string;
  policy: UrlPolicy;
  timeoutMs?: number;
  now?: () => Date;
}): TranscriptCopier {
  const { s3, bucket, policy } = options;
  const now = options.now ?? (() => new Date());
  return {
    async copy(input, { signal } = {}) {
      const { sessionId, source, existing, refreshSource } = input;
      if (existing && existing.tid === source.tid && (await stillStored(s3, existing, signal))) {
        return { entry: existing, copied: false };
      }
      const ext = transcriptExtension(source.url);
      const key = transcriptKeyIn(input.folder, source.tid, ext);
      const target = { s3, bucket, key };
      // A URL the policy refuses is refused whatever S3 holds.
      checkRecordingUrl(source.url, policy);
      const kept = existing ? undefined : await storedWhole(target, signal);
      if (kept) {
        const object = { ...kept, contentType: kept.contentType ?? TRANSCRIPT_CONTENT_TYPES[ext] };
        return { entry: entryOf(source, object), copied: false };
      }
      const { object, described } = await copySource(
        {
          target,
          metadata: { 'session-id': encodeURIComponent(sessionId), tid: encodeURIComponent(source.tid) },
          contentType: (header) => {
            const type = header?.split(';', 1)[0]?.trim().toLowerCase();
            return type && TEXT_TYPE.test(type) ? type : TRANSCRIPT_CONTENT_TYPES[ext];
          },
          source,
          refreshSource,
        },
        { policy, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) },
        signal,
      );
      return { entry: entryOf(described, object), copied: true };
    },
  };

  function entryOf(
    described: TranscriptSource,
    object: Pick<TranscriptEntry, 'bucket' | 'key' | 'bytes' | 'sha256' | 'contentType'>,
  ): TranscriptEntry {
    return {
      tid: described.tid,
      ...(described.startTime !== undefined && { startTime: described.startTime }),
      ...(described.endTime !== undefined && { endTime: described.endTime }),
      sourceUrl: described.sourceUrl,
      ...object,
      copiedAt: now().toISOString(),
    };
  }
}
