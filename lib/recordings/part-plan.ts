/**
 * How a recording of known length is cut into multipart-upload parts: S3 allows at most 10,000
 * parts of at least 5 MiB (all but the last) and objects up to 5 TiB, so the part size grows
 * with the file only when the preferred size would need more than 10,000 parts.
 */

const MiB = 1024 * 1024;
/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE_BYTES = 5 * MiB;
/** S3's largest part. */
export const MAX_PART_SIZE_BYTES = 5 * 1024 * MiB;
/** S3's most parts in one upload. */
export const MAX_PARTS = 10_000;
/** S3's largest object. */
export const MAX_OBJECT_BYTES = 5 * 1024 * 1024 * MiB;
/** The part size used unless a file is too large for it. */
export const DEFAULT_PART_SIZE_BYTES = 8 * MiB;

/** Parts of a file of `totalBytes`. */
export interface PartPlan {
  totalBytes: number;
  partSize: number;
  partCount: number;
}

/**
 * The plan for `totalBytes` (0 to 5 TiB): `preferredPartSize` (at least 5 MiB) unless that
 * needs more than 10,000 parts, then the smallest whole number of MiB that fits. A file of
 * 0 bytes is one empty part. Throws RangeError past S3's limits.
 */
export function planParts(totalBytes: number, preferredPartSize = DEFAULT_PART_SIZE_BYTES): PartPlan {
  if (!Number.isSafeInteger(totalBytes) || totalBytes < 0 || totalBytes > MAX_OBJECT_BYTES) {
    throw new RangeError(`a recording of ${totalBytes} bytes is beyond S3's 5 TiB object limit`);
  }
  if (!Number.isSafeInteger(preferredPartSize) || preferredPartSize < MIN_PART_SIZE_BYTES) {
    throw new RangeError(`part size must be at least ${MIN_PART_SIZE_BYTES} bytes`);
  }
  const needed = Math.ceil(totalBytes / MAX_PARTS / MiB) * MiB;
  const partSize = Math.min(MAX_PART_SIZE_BYTES, Math.max(preferredPartSize, needed));
  const partCount = Math.max(1, Math.ceil(totalBytes / partSize));
  return { totalBytes, partSize, partCount };
}

/** Byte range of part `partNumber` (1-based), `end` inclusive as in an HTTP Range. */
export function partRange(plan: PartPlan, partNumber: number): { start: number; end: number } {
  const start = (partNumber - 1) * plan.partSize;
  const end = Math.min(plan.totalBytes, start + plan.partSize) - 1;
  return { start, end };
}

/** Length of part `partNumber` (1-based). */
export function partLength(plan: PartPlan, partNumber: number): number {
  const { start, end } = partRange(plan, partNumber);
  return end - start + 1;
}
