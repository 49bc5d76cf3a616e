import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PART_SIZE_BYTES,
  MAX_OBJECT_BYTES,
  MAX_PARTS,
  MIN_PART_SIZE_BYTES,
  partLength,
  partRange,
  planParts,
} from '../../../lib/recordings/part-plan.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('planParts', () => {
  it('cuts 6 GiB into 8 MiB parts by default', () => {
    const plan = planParts(6 * GiB);

    expect(plan).toEqual({ totalBytes: 6 * GiB, partSize: 8 * MiB, partCount: 768 });
    expect(partRange(plan, 768)).toEqual({ start: 6 * GiB - 8 * MiB, end: 6 * GiB - 1 });
  });

  it('fits 5 TiB, the largest S3 object, in at most 10,000 parts of whole MiB', () => {
    const plan = planParts(MAX_OBJECT_BYTES);

    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize % MiB).toBe(0);
    expect(plan.partSize * plan.partCount).toBeGreaterThanOrEqual(MAX_OBJECT_BYTES);
    expect((plan.partSize - MiB) * MAX_PARTS).toBeLessThan(MAX_OBJECT_BYTES);
    expect(partRange(plan, plan.partCount).end).toBe(MAX_OBJECT_BYTES - 1);
  });

  it('keeps the preferred size up to 10,000 parts and grows it just past', () => {
    expect(planParts(MAX_PARTS * DEFAULT_PART_SIZE_BYTES).partSize).toBe(DEFAULT_PART_SIZE_BYTES);
    expect(planParts(MAX_PARTS * DEFAULT_PART_SIZE_BYTES + 1).partSize).toBe(DEFAULT_PART_SIZE_BYTES + MiB);
  });

  it('makes a file of exactly one part one part, and one byte more two', () => {
    expect(planParts(5 * MiB, 5 * MiB)).toEqual({ totalBytes: 5 * MiB, partSize: 5 * MiB, partCount: 1 });
    const plan = planParts(5 * MiB + 1, 5 * MiB);
    expect(plan.partCount).toBe(2);
    expect(partLength(plan, 2)).toBe(1);
  });

  it('makes an empty file one empty part', () => {
    expect(planParts(0)).toEqual({ totalBytes: 0, partSize: DEFAULT_PART_SIZE_BYTES, partCount: 1 });
  });

  it('refuses sizes beyond S3 and parts below its minimum', () => {
    expect(() => planParts(MAX_OBJECT_BYTES + 1)).toThrow(RangeError);
    expect(() => planParts(-1)).toThrow(RangeError);
    expect(() => planParts(1.5)).toThrow(RangeError);
    expect(() => planParts(10 * MiB, MIN_PART_SIZE_BYTES - 1)).toThrow(RangeError);
  });

  it('covers every byte exactly once, in order', () => {
    const plan = planParts(100 * MiB + 12_345, 5 * MiB);
    let next = 0;
    for (let n = 1; n <= plan.partCount; n += 1) {
      const { start, end } = partRange(plan, n);
      expect(start).toBe(next);
      next = end + 1;
    }
    expect(next).toBe(plan.totalBytes);
  });
});
