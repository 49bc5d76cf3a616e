/**
 * Uploads a stream to S3 in parts through a fixed pool of part buffers, so the parts take
 * `partSize * (queueSize + 1)` of memory and nothing more, whatever the object's size.
 *
 * Why not lib-storage's `Upload`: its chunker `Buffer.concat`s every part into a fresh buffer
 * that lives as long as the part's upload, long enough to be promoted, so each one stays as
 * old-generation garbage until V8's next full collection, which external memory only triggers
 * after tens of MiB. Measured (docs/benchmarks.md): a bare `Upload` peaks at 60-80 MiB of
 * Buffers and 150-200 MiB RSS; this uploader at ~30 MiB and ~115 MiB. Here the same buffers are
 * refilled part after part, and reading stops while every upload slot is busy, which is what
 * carries backpressure back to the download socket.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
/**
 * A young-generation collection after this many bytes read. Every socket read allocates its own
 * 64 KiB buffer, dead as soon as it is copied into a part; V8 counts those as external memory
 * and, left alone, lets ~64 MiB of them pile up before a full collection. A scavenge every MiB
 * frees them for well under a millisecond each.
 */
const MINOR_GC_EVERY_BYTES = 1024 * 1024;
/**
 * A full collection after this many: what does outlive a scavenge (the SDK's per-request objects)
 * otherwise grows the old generation by ~10 MiB per GiB copied before V8 gets to it. A few ms
 * every 64 MiB.
 */
const MAJOR_GC_EVERY_BYTES = 64 * 1024 * 1024;

/** Where and how to upload. */
export interface MultipartUploadOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  contentType?: string;
  metadata?: Record<string, string>;
  /** At least {@link MIN_PART_SIZE_BYTES}. */
  partSize: number;
  /** Parts uploaded at once, at least 1. */
  queueSize: number;
}

/** One upload. `uploadId` is set once a multipart upload has been created (to abort it on failure). */
export interface MultipartUpload {
  readonly uploadId: string | undefined;
  /**
   * Reads `body` to its end and stores it: one PutObject when it fits in one part, else a
   * multipart upload. Rejects with the stream's or S3's error, and never completes an upload
   * from a stream that failed; it does not abort one either (the caller decides).
   */
  done(): Promise<{ etag: string | undefined }>;
}

type Gc = (options?: { type?: 'minor' | 'major' }) => void;
let gcOnRequest: Gc | null | undefined;

/**
 * The garbage collector, if this runtime lets us run it: `globalThis.gc` when Node was started
 * with --expose-gc, else the gc extension of a fresh context (the usual `v8.setFlagsFromString`
 * idiom; the flag is turned off again at once). Null when neither works: copies then still
 * work, with more memory.
 */
function garbageCollector(): Gc | null {
  if (gcOnRequest !== undefined) return gcOnRequest;
  gcOnRequest = (globalThis as { gc?: Gc }).gc ?? null;
  if (!gcOnRequest) {
    try {
      setFlagsFromString('--expose-gc');
      gcOnRequest = runInNewContext('gc') as Gc;
      setFlagsFromString('--no-expose-gc');
    } catch {
      gcOnRequest = null;
    }
  }
  return gcOnRequest;
}

/** Creates an upload of `body` (a byte stream) to `bucket`/`key`. */
export function createMultipartUpload(
  body: AsyncIterable<Uint8Array>,
  options: MultipartUploadOptions,
): MultipartUpload {
  const { s3, bucket, key, partSize, queueSize } = options;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE_BYTES) {
    throw new RangeError(`part size must be at least ${MIN_PART_SIZE_BYTES} bytes`);
  }
  if (!Number.isSafeInteger(queueSize) || queueSize < 1)
    throw new RangeError('queue size must be at least 1');
  const objectParams = {
    Bucket: bucket,
    Key: key,
    ...(options.contentType !== undefined && { ContentType: options.contentType }),
    ...(options.metadata !== undefined && { Metadata: options.metadata }),
  };
  const gc = garbageCollector();

  let uploadId: string | undefined;
  let created: Promise<string> | undefined;
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let failure: { error: unknown } | undefined;

  async function create(): Promise<string> {
    // With the SDK's default integrity setting, parts carry a CRC32; S3 then wants the upload
    // created with that algorithm, as lib-storage does.
    const checksums = await s3.config.requestChecksumCalculation();
    const answer = await s3.send(
      new CreateMultipartUploadCommand({
        ...objectParams,
        ...(checksums === 'WHEN_SUPPORTED' && { ChecksumAlgorithm: 'CRC32' }),
      }),
    );
    if (!answer.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
    uploadId = answer.UploadId;
    return uploadId;
  }

  function takeBuffer(): Buffer {
    const buffer = free.pop();
    return buffer ?? Buffer.allocUnsafeSlow(partSize);
  }

  function sendPart(buffer: Buffer, length: number, partNumber: number): void {
    if (partNumber > MAX_PARTS) throw new RangeError(`more than ${MAX_PARTS} parts of ${partSize} bytes`);
    const task = (async () => {
      created ??= create();
      const id = await created;
      const answer = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: id,
          PartNumber: partNumber,
          Body: buffer.subarray(0, length),
          ContentLength: length,
        }),
      );
      if (!answer.ETag) throw new Error(`UploadPart ${partNumber} answered without an ETag`);
      parts.push({
        PartNumber: partNumber,
        ETag: answer.ETag,
        ...(answer.ChecksumCRC32 && { ChecksumCRC32: answer.ChecksumCRC32 }),
        ...(answer.ChecksumCRC32C && { ChecksumCRC32C: answer.ChecksumCRC32C }),
        ...(answer.ChecksumCRC64NVME && { ChecksumCRC64NVME: answer.ChecksumCRC64NVME }),
        ...(answer.ChecksumSHA1 && { ChecksumSHA1: answer.ChecksumSHA1 }),
        ...(answer.ChecksumSHA256 && { ChecksumSHA256: answer.ChecksumSHA256 }),
      });
    })()
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        // Only now is the buffer free: the SDK may resend it on a retry until the send settles.
        inFlight.delete(task);
        free.push(buffer);
      });
    inFlight.add(task);
  }

  function throwIfFailed(): void {
    if (failure) throw failure.error;
  }

  async function done(): Promise<{ etag: string | undefined }> {
    let buffer = takeBuffer();
    let filled = 0;
    let partNumber = 0;
    let read = 0;
    try {
      for await (const chunk of body) {
        let offset = 0;
        while (offset < chunk.byteLength) {
          // A full buffer goes out only once more data proves it is not the last part, so an
          // object of exactly one part is a single PutObject, as with lib-storage.
          if (filled === partSize) {
            // Not reading while every upload slot is busy is the backpressure: the socket
            // fills and the sender slows down, instead of parts piling up here.
            while (inFlight.size >= queueSize) await Promise.race(inFlight);
            throwIfFailed();
            partNumber += 1;
            sendPart(buffer, filled, partNumber);
            buffer = takeBuffer();
            filled = 0;
          }
          const n = Math.min(partSize - filled, chunk.byteLength - offset);
          buffer.set(chunk.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
        }
        const before = read;
        read += chunk.byteLength;
        if (gc && Math.floor(read / MINOR_GC_EVERY_BYTES) !== Math.floor(before / MINOR_GC_EVERY_BYTES)) {
          const major = Math.floor(read / MAJOR_GC_EVERY_BYTES) !== Math.floor(before / MAJOR_GC_EVERY_BYTES);
          gc({ type: major ? 'major' : 'minor' });
        }
      }
    } catch (error) {
      await Promise.all(inFlight);
      throw error;
    }

    if (partNumber === 0) {
      const answer = await s3.send(
        new PutObjectCommand({ ...objectParams, Body: buffer.subarray(0, filled), ContentLength: filled }),
      );
      return { etag: answer.ETag };
    }
    while (inFlight.size >= queueSize) await Promise.race(inFlight);
    throwIfFailed();
    partNumber += 1;
    sendPart(buffer, filled, partNumber);
    await Promise.all(inFlight);
    throwIfFailed();
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const answer = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return { etag: answer.ETag };
  }

  return {
    get uploadId() {
      return uploadId;
    },
    done,
  };
}
