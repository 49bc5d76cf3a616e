/**
 * A SHA-256 whose state can be saved part way and continued in another run, so a resumed copy
 * still ends with the digest of the whole file without downloading the finished parts again.
 * Node's own hash cannot export its state; hash-wasm's can (a ~100-byte snapshot). It is slower
 * than OpenSSL (~190 MB/s against ~1.2 GB/s measured here), far above what a recording host
 * sends, and its module only loads with the copier.
 */
import { createSHA256, type IHasher } from 'hash-wasm';

/** An in-progress SHA-256. */
export interface ResumableSha256 {
  update(bytes: Uint8Array): void;
  /** The state so far, base64; `createResumableSha256(saved)` continues from it. */
  save(): string;
  /** The hex digest; the hasher is finished after this. */
  digest(): string;
}

/** A new SHA-256, or one continuing from `saved` (from `save()`). */
export async function createResumableSha256(saved?: string): Promise<ResumableSha256> {
  const hasher: IHasher = await createSHA256();
  hasher.init();
  if (saved !== undefined) hasher.load(Buffer.from(saved, 'base64'));
  return {
    update: (bytes) => {
      hasher.update(bytes);
    },
    save: () => Buffer.from(hasher.save()).toString('base64'),
    digest: () => hasher.digest('hex'),
  };
}
