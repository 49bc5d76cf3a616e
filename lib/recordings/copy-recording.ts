/**
 * Archives one recording: kept when an earlier run stored it whole, else copied by copy-file.ts
 * (ranges, resumable, written once, sha256-tagged) and described as the call item's recording
 * entry. A URL refused with 401/403 is replaced through `refreshSource` (Get Call again).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { RecordingEntry, RecordingSource } from '../calls/types.ts';
import type { UploadRecords } from '../store/upload-records.ts';
import { copySource, stillStored, storedWhole } from './copy-source.ts';
import {
  CONTENT_TYPE_BY_EXTENSION,
  defaultCallFolder,
  recordingExtension,
  recordingKeyIn,
} from './object-key.ts';
import { DEFAULT_PART_SIZE_BYTES } from './part-plan.ts';
import { DEFAULT_CONCURRENCY } from './ranged-copy.ts';
import { checkRecordingUrl, type UrlPolicy } from './url-policy.ts';

/** One recording to archive. */
export interface CopyRecordingInput {
  sessionId: string;
  source: RecordingSource;
  /** The call's folder key (`<prefix>…/`, lib/recordings/object-key.ts); default `<prefix><sessionId>/`. */
  folder?: string;
  /** The entry an earlier run stored for this rid, if any. */
  existing?: RecordingEntry;
  /**
   * Asked when the host refuses the URL (401/403, an expired signature): a fresh source for
   * this recording (Get Call again), or undefined when there is none.
   */
  refreshSource?: () => Promise<RecordingSource | undefined>;
}

/** The outcome: the entry to store, and whether bytes were copied this time. */
export interface CopyRecordingResult {
  entry: RecordingEntry;
  copied: boolean;
}

/** Copies recordings into the bucket. */
export interface RecordingCopier {
  copy(input: CopyRecordingInput, options?: { signal?: AbortSignal }): Promise<CopyRecordingResult>;
}

/** What a copier needs. */
export interface RecordingCopierOptions {
  s3: S3Client;
  bucket: string;
  /** Empty, or ends with `/`. */
  prefix: string;
  policy: UrlPolicy;
  /** Where a copy cut off half way is remembered, so the next run resumes it; none: start over. */
  uploads?: UploadRecords;
  /** Preferred part size, at least 5 MiB; larger files get larger parts (up to 10,000 of them). */
  partSizeBytes?: number;
  /** Parts fetched at once (K). Memory is about K + 2 part buffers plus a constant. */
  concurrency?: number;
  timeoutMs?: number;
  now?: () => Date;
}

const MEDIA_TYPE = /^(?:audio|video)\/[a-z0-9][a-z0-9!#$&^_.+-]*$|^application\/(?:mp4|ogg)$/;

/** `url` without credentials, query string or fragment: the only form that is stored. */
function storableSourceUrl(source: RecordingSource): string {
  for (const candidate of [source.sourceUrl, source.url]) {
    try {
      const url = new URL(candidate);
      return `${url.origin}${url.pathname}`;
    } catch {
      // fall through to the next candidate
    }
  }
  return source.sourceUrl.split(/[?#]/, 1)[0] ?? '';
}

function mediaType(header: string | undefined): string | undefined {
  const value = header?.split(';', 1)[0]?.trim().toLowerCase();
  return value && MEDIA_TYPE.test(value) ? value : undefined;
}

/** S3 metadata travels as HTTP headers: percent-encoding keeps any value ASCII-safe. */
function metadataValue(value: string): string {
  return encodeURIComponent(value);
}

/** Creates a copier bound to one bucket, prefix and URL policy. */
export function createRecordingCopier(options: RecordingCopierOptions): RecordingCopier {
  const { s3, bucket, prefix, policy } = options;
  const now = options.now ?? (() => new Date());
  const settings = {
    policy,
    partSizeBytes: options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  };

  async function copy(
    input: CopyRecordingInput,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<CopyRecordingResult> {
    const { sessionId, source, existing, refreshSource } = input;
    const ext = recordingExtension(source.url);
    const key = recordingKeyIn(input.folder ?? defaultCallFolder(prefix, sessionId), source.rid, ext);

    if (
      existing &&
      existing.rid === source.rid &&
      existing.sha256 &&
      (await stillStored(s3, existing, signal))
    ) {
      return { entry: existing, copied: false };
    }

    const target = { s3, bucket, key };
    // A URL the policy refuses is refused whatever S3 holds.
    checkRecordingUrl(source.url, policy);
    const kept = existing ? undefined : await storedWhole(target, signal);
    if (kept) {
      const object = { ...kept, contentType: kept.contentType ?? CONTENT_TYPE_BY_EXTENSION[ext] };
      return { entry: entryOf(source, object), copied: false };
    }

    const { object, described } = await copySource(
      {
        target,
        metadata: { 'session-id': metadataValue(sessionId), rid: metadataValue(source.rid) },
        contentType: (header) => mediaType(header) ?? CONTENT_TYPE_BY_EXTENSION[ext],
        source,
        refreshSource,
        ...(options.uploads && { resume: { records: options.uploads, sessionId } }),
      },
      settings,
      signal,
    );

    return { entry: entryOf(described, object), copied: true };
  }

  function entryOf(
    described: RecordingSource,
    object: Pick<RecordingEntry, 'bucket' | 'key' | 'bytes' | 'sha256' | 'contentType'>,
  ): RecordingEntry {
    return {
      rid: described.rid,
      ...(described.startTime !== undefined && { startTime: described.startTime }),
      ...(described.endTime !== undefined && { endTime: described.endTime }),
      ...(described.durationSeconds !== undefined && { durationSeconds: described.durationSeconds }),
      sourceUrl: storableSourceUrl(described),
      ...object,
      copiedAt: now().toISOString(),
    };
  }

  return { copy };
}
