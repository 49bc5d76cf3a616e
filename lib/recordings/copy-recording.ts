/**
 * Streams one recording from its (vetted) URL into S3 without holding it in memory: the body
 * flows through a byte counter and SHA-256 into a multipart upload whose part buffers are
 * reused, so memory stays at part size x (queue size + 1) whatever the file's size. A download
 * that ends short never completes the upload, so no partial object ever appears at the key.
 */
import { createHash, type Hash } from 'node:crypto';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { RecordingEntry, RecordingSource } from '../calls/types.ts';
import { RecordingDownloadError, StorageError } from '../errors.ts';
import { createMultipartUpload } from './multipart-upload.ts';
import { CONTENT_TYPE_BY_EXTENSION, recordingExtension, recordingObjectKey } from './object-key.ts';
import { asDownloadError, openRecording } from './safe-get.ts';
import type { UrlPolicy } from './url-policy.ts';

/** One recording to archive. */
export interface CopyRecordingInput {
  sessionId: string;
  source: RecordingSource;
  /** The entry an earlier run stored for this rid, if any. */
  existing?: RecordingEntry;
  /**
   * Asked once when the host refuses the URL (401/403, an expired signature): a fresh source for
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
  /** Multipart part size; at least 5 MiB (S3's minimum). */
  partSizeBytes?: number;
  /** Parts uploaded at once; memory is about `partSizeBytes * (queueSize + 1)`. */
  queueSize?: number;
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * Default multipart part size: S3's minimum. Five buffers of it (four in flight, one filling)
 * are 25 MiB, which keeps a copy's peak RSS near 115 MiB at any size (docs/benchmarks.md).
 */
export const DEFAULT_PART_SIZE_BYTES = 5 * 1024 * 1024;
/** Default number of parts in flight: lib-storage's own default, for the same throughput. */
export const DEFAULT_QUEUE_SIZE = 4;

const MEDIA_TYPE = /^(?:audio|video)\/[a-z0-9][a-z0-9!#$&^_.+-]*$|^application\/(?:mp4|ogg)$/;

/** Counts and hashes the bytes going by, and refuses to end short of the declared length. */
class DigestingCounter extends Transform {
  bytes = 0;
  readonly #hash: Hash = createHash('sha256');

  constructor(
    private readonly expectedBytes: number | undefined,
    private readonly host: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expectedBytes !== undefined && this.bytes > this.expectedBytes) {
      callback(this.#mismatch());
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  // Failing here, before the readable side ends, is what keeps the Upload from completing
  // (or from sending a single short PutObject) when the body stopped early but "cleanly".
  override _flush(callback: TransformCallback): void {
    callback(this.expectedBytes !== undefined && this.bytes !== this.expectedBytes ? this.#mismatch() : null);
  }

  digest(): string {
    return this.#hash.digest('hex');
  }

  #mismatch(): RecordingDownloadError {
    return new RecordingDownloadError(
      `download from recording host ${this.host} gave ${this.bytes} bytes, not the ${this.expectedBytes} announced`,
    );
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

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
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
  const now = options.now ?? (() => new Date());

  /** True when the object an earlier run stored is still there, whole, with the same digest. */
  async function stillStored(existing: RecordingEntry): Promise<boolean> {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: existing.bucket, Key: existing.key }));
      return head.ContentLength === existing.bytes && head.Metadata?.sha256 === existing.sha256;
    } catch (error) {
      // Without s3:ListBucket, S3 answers 403 rather than 404 for a missing key; either way
      // there is nothing to trust, and a genuine permission problem will surface on the upload.
      const status = statusOf(error);
      if (status === 404 || status === 403) return false;
      throw new StorageError(`could not check s3://${existing.bucket}/${existing.key}`, { cause: error });
    }
  }

  async function abortQuietly(key: string, uploadId: string | undefined): Promise<void> {
    if (!uploadId) return;
    try {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch {
      // Secondary to the error being thrown; the bucket's lifecycle rule removes incomplete
      // multipart uploads (and s3rver does not implement this call at all).
    }
  }

  async function copy(
    input: CopyRecordingInput,
    copyOptions: { signal?: AbortSignal } = {},
  ): Promise<CopyRecordingResult> {
    try {
      return await copyFrom(input.sessionId, input.source, input.existing, copyOptions);
    } catch (error) {
      // An expired or revoked signed URL: a fresh one, once, may work.
      const expired =
        error instanceof RecordingDownloadError && (error.statusCode === 401 || error.statusCode === 403);
      const fresh = expired ? await input.refreshSource?.() : undefined;
      if (!fresh) throw error;
      return copyFrom(input.sessionId, fresh, input.existing, copyOptions);
    }
  }

  async function copyFrom(
    sessionId: string,
    source: RecordingSource,
    existing: RecordingEntry | undefined,
    copyOptions: { signal?: AbortSignal },
  ): Promise<CopyRecordingResult> {
    const ext = recordingExtension(source.url);
    const key = recordingObjectKey(prefix, sessionId, source.rid, ext);

    if (
      existing &&
      existing.rid === source.rid &&
      existing.bytes !== undefined &&
      existing.sha256 &&
      (await stillStored(existing))
    ) {
      return { entry: existing, copied: false };
    }

    const opened = await openRecording(source.url, {
      policy,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(copyOptions.signal && { signal: copyOptions.signal }),
    });
    const host = opened.finalUrl.host;
    const contentType = mediaType(opened.contentType) ?? CONTENT_TYPE_BY_EXTENSION[ext];
    const counter = new DigestingCounter(opened.contentLength, host);
    // Errors of either stream (an abort `signal` included: openRecording destroys the body with
    // a RecordingDownloadError) reach the Upload through `counter`, which is what it reads.
    const body = pipeline(opened.body, counter, () => {});
    const identity = { 'session-id': metadataValue(sessionId), rid: metadataValue(source.rid) };
    // It never aborts by itself: we do, below, so a failing abort cannot hide the real error.
    const upload = createMultipartUpload(body, {
      s3,
      bucket,
      key,
      contentType,
      metadata: identity,
      partSize,
      queueSize,
    });

    let etag: string | undefined;
    try {
      ({ etag } = await upload.done());
    } catch (error) {
      // Read before tearing the streams down, which would record an error of its own.
      const downloadFailure =
        counter.errored ?? (error instanceof RecordingDownloadError ? error : undefined);
      opened.body.destroy();
      await abortQuietly(key, upload.uploadId);
      if (downloadFailure) throw asDownloadError(downloadFailure, host);
      throw new StorageError(`could not upload recording to s3://${bucket}/${key}`, { cause: error });
    }

    const sha256 = counter.digest();
    // The digest is only known once the last byte has gone by, long after CreateMultipartUpload
    // fixed the object's metadata; a copy onto itself is how S3 lets metadata change (objects
    // up to 5 GiB). CopySourceIfMatch makes sure it is our upload being stamped, not a racer's.
    try {
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          ...(etag && { CopySourceIfMatch: etag }),
          MetadataDirective: 'REPLACE',
          Metadata: { ...identity, sha256 },
          ContentType: contentType,
        }),
      );
    } catch (error) {
      throw new StorageError(`could not record the digest on s3://${bucket}/${key}`, { cause: error });
    }

    const entry: RecordingEntry = {
      rid: source.rid,
      ...(source.startTime !== undefined && { startTime: source.startTime }),
      ...(source.endTime !== undefined && { endTime: source.endTime }),
      ...(source.durationSeconds !== undefined && { durationSeconds: source.durationSeconds }),
      sourceUrl: storableSourceUrl(source),
      bucket,
      key,
      bytes: counter.bytes,
      sha256,
      contentType,
      copiedAt: now().toISOString(),
    };
    return { entry, copied: true };
  }

  return { copy };
}
