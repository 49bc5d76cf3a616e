/**
 * A SHA-256 whose state can be saved part way and continued in another run, so a resumed copy
 * still ends with the digest of the whole file without downloading the finished parts again.
 * Node's own hash cannot export its state; hash-wasm's can (a ~100-byte snapshot). It is slower
 * than OpenSSL (~190 MB/s against ~1.2 GB/s measured here), far above what a recording host
 * sends; its module (19 KB bundled) loads with the copier only, and compiling its WebAssembly
 * costs ~12 ms once per container (measured here, idle-ish; 15-30 ms under load).
 */
import type { IHasher } from 'hash-wasm';
// Only the SHA-256 build: the package's index bundles every algorithm (216 KB against 18 KB).
import sha256Only from 'hash-wasm/dist/sha256.umd.min.js';

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
  const hasher: IHasher = await sha256Only.createSHA256();
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
