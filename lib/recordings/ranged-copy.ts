/**
 * The parallel path of a recording copy: up to K parts fetched by Range at once, each uploaded as
 * its own part of one multipart upload, and hashed in file order so the sha256 of the whole file
 * stays exact. A part that arrives early keeps its buffer until the parts before it are hashed,
 * so memory is K part buffers whatever the file's size.
 *
 * Why not lib-storage's `Upload`: it reads one stream front to back, so it cannot take parts
 * fetched out of order, cannot carry on an upload a previous run began (resume), and copies each
 * part into a fresh buffer; here each worker refills its own buffer part after part.
 */
import { RecordingDownloadError } from '../errors.ts';
import { type PartPlan, partRange } from './part-plan.ts';
import type { PartFetcher } from './ranged-fetch.ts';
import type { ResumableSha256 } from './resumable-sha256.ts';
import { type ObjectTarget, type UploadedPart, uploadPart } from './s3-object.ts';

/** Default number of parts fetched and uploaded at once. */
export const DEFAULT_CONCURRENCY = 4;

/** One ranged copy into an existing multipart upload. */
export interface RangedCopyOptions {
  target: ObjectTarget;
  uploadId: string;
  plan: PartPlan;
  /** Parts 1..n already uploaded and hashed (a resumed copy); `hasher` holds the state after them. */
  done: readonly UploadedPart[];
  hasher: ResumableSha256;
  fetchPart: PartFetcher;
  concurrency: number;
  /**
   * The first missing part on its way in (the probe that found Range support): a part-size
   * buffer and the promise of its bytes. If they do not all arrive, the part is fetched again.
   */
  first?: { buffer: Buffer; body: Promise<void> };
  /** Told each time the prefix of finished parts grows, with the hash state after exactly those parts. */
  onProgress?: (done: readonly UploadedPart[], hashState: string) => void;
  signal?: AbortSignal;
}

/**
 * Copies the parts not yet done; resolves with every part (in order) once all are uploaded and
 * hashed. On failure it stops starting parts, cancels those in flight, waits until every one has
 * settled, and only then rejects with the first error (never the cancellations it caused).
 */
export async function copyRanges(options: RangedCopyOptions): Promise<UploadedPart[]> {
  const { plan, target, uploadId, hasher } = options;
  const done = [...options.done];
  const cancel = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
  let failure: { error: unknown } | undefined;
  let next = done.length + 1;
  let first = options.first;
  const firstPart = next;
  // Part n waits here until part n - 1 is hashed.
  const turns = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();

  const fail = (error: unknown) => {
    if (failure) return;
    failure = { error };
    cancel.abort(error);
    for (const waiter of turns.values()) waiter.reject(error);
    turns.clear();
  };

  const turn = (partNumber: number): Promise<void> => {
    if (failure) return Promise.reject(failure.error);
    if (done.length === partNumber - 1) return Promise.resolve();
    return new Promise((resolve, reject) => turns.set(partNumber, { resolve, reject }));
  };

  const worker = async () => {
    let buffer: Buffer | undefined;
    while (!failure && next <= plan.partCount) {
      const partNumber = next;
      next += 1;
      const range = partRange(plan, partNumber);
      const length = range.end - range.start + 1;
      // One buffer per worker, refilled part after part (the probe's becomes its worker's).
      const probe = partNumber === firstPart ? first : undefined;
      if (probe) {
        first = undefined;
        buffer = probe.buffer;
      }
      buffer ??= Buffer.allocUnsafeSlow(plan.partSize);
      try {
        const arrived = probe
          ? await probe.body.then(
              () => true,
              () => false,
            )
          : false;
        if (!arrived) await options.fetchPart(range, buffer, { signal });
        const bytes = buffer.subarray(0, length);
        // Not cancelled by a failure elsewhere: a part already sent is left to finish, so the
        // upload is aborted only once S3 has answered every part.
        const part = await uploadPart(target, uploadId, partNumber, bytes, options.signal);
        await turn(partNumber);
        hasher.update(bytes);
        done.push(part);
        turns.get(partNumber + 1)?.resolve();
        turns.delete(partNumber + 1);
        options.onProgress?.(done, hasher.save());
      } catch (error) {
        fail(error);
      }
    }
  };

  const workers = Array.from({ length: Math.min(options.concurrency, plan.partCount - done.length) }, worker);
  await Promise.allSettled(workers);
  if (failure) {
    if (options.signal?.aborted) {
      throw new RecordingDownloadError(`copy to ${target.key} was stopped before it finished`, {
        cause: options.signal.reason,
      });
    }
    throw failure.error;
  }
  return done;
}
