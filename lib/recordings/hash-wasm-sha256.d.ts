/** hash-wasm's SHA-256 alone (18 KB, against 216 KB for the package's index): same API. */
declare module 'hash-wasm/dist/sha256.umd.min.js' {
  import type { createSHA256 } from 'hash-wasm';

  const sha256Only: { createSHA256: typeof createSHA256 };
  export default sha256Only;
}
