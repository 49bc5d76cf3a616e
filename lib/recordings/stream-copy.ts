/**
 * The single-stream path of a recording copy, for hosts that ignore Range or send no length:
 * the body is read front to back into a few reused part buffers, hashed as it goes by, and
 * uploaded in parts (up to K in flight), or with one PutObject when it fits in one part. Reading
 * stops while every upload slot is busy, which carries backpressure back to the socket. Memory
 * is (K + 1) part buffers whatever the file's size. (Why not lib-storage's `Upload`: see
 * ranged-copy.ts; this shares its part handling and error mapping with the ranged path.)
 */
import type { Readable } from 'node:stream';
import { RecordingDownloadError } from '../errors.ts';
import { MAX_PARTS } from './part-plan.ts';
import type { ResumableSha256 } from './resumable-sha256.ts';
import {
  abortUpload,
  completeUpload,
  createUpload,
  type ObjectAttributes,
  type ObjectTarget,
  putWhole,
  type UploadedPart,
  uploadPart,
} from './s3-object.ts';
import { asDownloadError } from './safe-get.ts';

/** One streamed copy. */
export interface StreamCopyOptions {
  target: ObjectTarget;
  attributes: ObjectAttributes;
  body: Readable;
  host: string;
  /** The declared length, when there was one: a body that ends short or runs over fails. */
  expectedBytes?: number;
  partSize: number;
  concurrency: number;
  hasher: ResumableSha256;
  signal?: AbortSignal;
}

/**
 * Stores the body at the key; resolves with its length. Nothing appears at the key unless the
 * whole body arrived. On failure every part in flight settles before the upload is aborted.
 */
export async function copyStream(options: StreamCopyOptions): Promise<number> {
  const { target, partSize, hasher, host, expectedBytes, signal } = options;
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  const parts: UploadedPart[] = [];
  let uploadId: Promise<string> | undefined;
  let failure: { error: unknown } | undefined;
  let partNumber = 0;
  let read = 0;

  const send = (buffer: Buffer, length: number) => {
    partNumber += 1;
    if (partNumber > MAX_PARTS) {
      throw new RecordingDownloadError(
        `recording from ${host} is longer than ${MAX_PARTS} parts of ${partSize} bytes, S3's limit`,
      );
    }
    const number = partNumber;
    uploadId ??= createUpload(target, options.attributes, signal);
    const created = uploadId;
    const task = (async () => {
      parts.push(await uploadPart(target, await created, number, buffer.subarray(0, length), signal));
    })()
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        // Only now is the buffer free: the SDK may send it again on a retry until the call settles.
        inFlight.delete(task);
        free.push(buffer);
      });
    inFlight.add(task);
  };

  const throwIfFailed = () => {
    if (failure) throw failure.error;
  };

  let buffer: Buffer = Buffer.allocUnsafeSlow(partSize);
  let filled = 0;
  try {
    try {
      for await (const chunk of options.body as AsyncIterable<Buffer>) {
        read += chunk.length;
        if (expectedBytes !== undefined && read > expectedBytes) {
          throw new RecordingDownloadError(
            `recording host ${host} sent more than the ${expectedBytes} bytes announced`,
          );
        }
        hasher.update(chunk);
        let offset = 0;
        while (offset < chunk.length) {
          // A full buffer goes out only once more data proves it is not the last part, so a file
          // of exactly one part is a single PutObject.
          if (filled === partSize) {
            while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
            throwIfFailed();
            send(buffer, filled);
            buffer = free.pop() ?? Buffer.allocUnsafeSlow(partSize);
            filled = 0;
          }
          const n = Math.min(partSize - filled, chunk.length - offset);
          chunk.copy(buffer, filled, offset, offset + n);
          filled += n;
          offset += n;
        }
      }
    } catch (error) {
      options.body.destroy();
      throw failure ? failure.error : asDownloadError(error, host);
    }
    if (expectedBytes !== undefined && read !== expectedBytes) {
      throw new RecordingDownloadError(
        `recording host ${host} sent ${read} of the ${expectedBytes} bytes announced`,
      );
    }
    if (partNumber === 0) {
      await putWhole(target, options.attributes, buffer.subarray(0, filled), signal);
      return read;
    }
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    throwIfFailed();
    send(buffer, filled);
    await Promise.all(inFlight);
    throwIfFailed();
    if (uploadId) await completeUpload(target, await uploadId, parts, signal);
    return read;
  } catch (error) {
    await Promise.all(inFlight);
    if (uploadId) {
      const id = await uploadId.catch(() => undefined);
      if (id) await abortUpload(target, id);
    }
    throw error;
  }
}
