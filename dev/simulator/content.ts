/**
 * What a simulated recording contains: bytes anyone can regenerate from the rid, so tests check
 * digests without keeping files, and any byte range can be produced without the ones before it.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK_BYTES);
const BLOCK = 16;

/** Which part of which version of a recording to produce. */
export interface RecordingSlice {
  /** First byte, default 0. */
  start?: number;
  /** 0 (default) is the content a rid starts with; a replaced recording counts up. */
  version?: number;
}

/**
 * Deterministic recording content: AES-128-CTR keystream keyed by the rid (and version), so byte i
 * depends only on (rid, version, i), any prefix of a longer recording is the shorter one, and it is
 * fast enough to stream gigabytes. CTR mode can start at any block, which makes ranges cheap.
 * Produced a chunk at a time, on demand, so backpressure bounds memory. `bytes` is the end (exclusive).
 */
export function recordingStream(rid: string, bytes: number, slice: RecordingSlice = {}): Readable {
  const start = slice.start ?? 0;
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError('bytes must be a non-negative integer');
  if (!Number.isSafeInteger(start) || start < 0 || start > bytes) {
    throw new RangeError('start must be an integer between 0 and bytes');
  }
  // Version 0 keeps the original label so digests computed before versions existed still hold.
  const label = `cometchat-simulator recording ${rid}${slice.version ? ` v${slice.version}` : ''}`;
  const seed = createHash('sha256').update(label).digest();
  const block = Math.floor(start / BLOCK);
  const cipher = createCipheriv('aes-128-ctr', seed.subarray(0, 16), counterAt(seed.subarray(16, 32), block));
  let skip = start - block * BLOCK;
  let remaining = bytes - start;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK_BYTES, remaining + skip);
      const out = cipher.update(ZEROS.subarray(0, size)).subarray(skip);
      skip = 0;
      remaining -= out.length;
      this.push(out);
    },
  });
}

/** A simulated transcript's content: JSON anyone can regenerate from the session and file name. */
export function transcriptContent(sessionId: string, name: string): Buffer {
  const words = createHash('sha256').update(`${sessionId}/${name}`).digest('hex');
  return Buffer.from(
    `${JSON.stringify({
      sessionId,
      segments: [
        { speaker: 'uid-1', start: 0, end: 4, text: `hello ${words.slice(0, 8)}` },
        { speaker: 'uid-2', start: 4, end: 9, text: `hi ${words.slice(8, 16)}` },
      ],
    })}\n`,
  );
}

/** The 128-bit big-endian counter `iv + block`, as CTR mode counts it. */
function counterAt(iv: Buffer, block: number): Buffer {
  const sum = (BigInt(`0x${iv.toString('hex')}`) + BigInt(block)) % 2n ** 128n;
  return Buffer.from(sum.toString(16).padStart(32, '0'), 'hex');
}
