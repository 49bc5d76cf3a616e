/**
 * The parallel path of a recording copy: up to K parts fetched by Range at once, each uploaded as
 * its own part of one multipart upload, and hashed in file order so the sha256 of the whole file
 * stays exact. A part that arrives early keeps its buffer until the parts before it are hashed,
 * so memory is K + 2 part buffers whatever the file's size: K downloading, and two more so a
 * connection need not sit idle while its last part is uploaded and hashed.
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
  /** May still be on its way: parts start downloading while the upload is being created. */
  uploadId: string | Promise<string>;
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

/** Part buffers beyond the K downloading. */
const SPARE_BUFFERS = 2;

/**
 * Copies the parts not yet done; resolves with every part (in order) once all are uploaded and
 * hashed. On failure it stops starting parts, cancels the downloads in flight, lets the uploads
 * in flight finish, waits until everything has settled, and only then rejects with the first
 * error (never the cancellations it caused).
 */
export async function copyRanges(options: RangedCopyOptions): Promise<UploadedPart[]> {
  const { plan, target, hasher } = options;
  const done = [...options.done];
  const cancel = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
  let failure: { error: unknown } | undefined;
  let next = done.length + 1;
  let first = options.first;
  const firstPart = next;
  // Part n waits here until part n - 1 is hashed.
  const turns = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();
  const free: Buffer[] = [];
  const bufferWaiters: (() => void)[] = [];
  let allocated = first ? 1 : 0;
  const finishing = new Set<Promise<void>>();

  const fail = (error: unknown) => {
    if (failure) return;
    failure = { error };
    cancel.abort(error);
    for (const waiter of turns.values()) waiter.reject(error);
    turns.clear();
    for (const wake of bufferWaiters.splice(0)) wake();
  };

  const takeBuffer = async (): Promise<Buffer | undefined> => {
    for (;;) {
      if (failure) return undefined;
      const buffer = free.pop();
      if (buffer) return buffer;
      if (allocated < options.concurrency + SPARE_BUFFERS) {
        allocated += 1;
        return Buffer.allocUnsafeSlow(plan.partSize);
      }
      await new Promise<void>((resolve) => bufferWaiters.push(resolve));
    }
  };

  const giveBack = (buffer: Buffer) => {
    free.push(buffer);
    bufferWaiters.shift()?.();
  };

  const turn = (partNumber: number): Promise<void> => {
    if (failure) return Promise.reject(failure.error);
    if (done.length === partNumber - 1) return Promise.resolve();
    return new Promise((resolve, reject) => turns.set(partNumber, { resolve, reject }));
  };

  /** Uploads a fetched part, then hashes it in its turn. */
  const finish = async (partNumber: number, bytes: Buffer) => {
    // Not cancelled by a failure elsewhere: a part already sent is left to finish, so the
    // upload is aborted only once S3 has answered every part.
    const part = await uploadPart(target, await options.uploadId, partNumber, bytes, options.signal);
    await turn(partNumber);
    hasher.update(bytes);
    done.push(part);
    turns.get(partNumber + 1)?.resolve();
    turns.delete(partNumber + 1);
    options.onProgress?.(done, hasher.save());
  };

  const worker = async () => {
    while (!failure && next <= plan.partCount) {
      const partNumber = next;
      next += 1;
      const range = partRange(plan, partNumber);
      const probe = partNumber === firstPart ? first : undefined;
      if (probe) first = undefined;
      const buffer = probe?.buffer ?? (await takeBuffer());
      if (!buffer) return;
      try {
        const arrived = probe
          ? await probe.body.then(
              () => true,
              () => false,
            )
          : false;
        if (!arrived) await options.fetchPart(range, buffer, { signal });
      } catch (error) {
        fail(error);
        giveBack(buffer);
        return;
      }
      // The connection moves on to the next part while this one is uploaded and hashed.
      const task = finish(partNumber, buffer.subarray(0, range.end - range.start + 1))
        .catch(fail)
        .finally(() => {
          finishing.delete(task);
          giveBack(buffer);
        });
      finishing.add(task);
    }
  };

  const workers = Array.from({ length: Math.min(options.concurrency, plan.partCount - done.length) }, worker);
  await Promise.allSettled(workers);
  while (finishing.size > 0) await Promise.allSettled([...finishing]);
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
