/**
 * Rebuilds the calls table from the manifests alone (`npm run calls -- rebuild --from-s3`): each
 * `call.json` under the prefix becomes its call item again, with its `byUser` index items, unless
 * the table already holds a later revision of that call. The proof that the archive stands on its
 * own when the table is lost.
 */
import type { CallStore } from '../store/call-store.ts';
import { callItemFromManifest } from './manifest.ts';
import type { ManifestStore } from './manifest-store.ts';

/** What a rebuild did. */
export interface RebuildResult {
  /** Manifests found under the prefix. */
  manifests: number;
  /** Call items put back. */
  restored: number;
  /** Calls the table already held at a later revision (left as they are). */
  newer: number;
  /** Manifests that could not be restored, with why; the rest went on. */
  failed: { key: string; errorName: string; errorMessage: string }[];
}

/** Restores every call whose manifest is under `prefix`. */
export async function rebuildFromManifests(
  deps: { manifests: ManifestStore; store: Pick<CallStore, 'restore'> },
  prefix: string,
  options: { signal?: AbortSignal; onProgress?: (key: string, restored: boolean) => void } = {},
): Promise<RebuildResult> {
  const { signal } = options;
  const result: RebuildResult = { manifests: 0, restored: 0, newer: 0, failed: [] };
  for await (const key of deps.manifests.keys(prefix, { signal })) {
    try {
      const json = await deps.manifests.get(key, { signal });
      // A transcript whose tid is `call`: named like a manifest, but not one.
      if (json === undefined) continue;
      result.manifests += 1;
      const call = callItemFromManifest(json, `s3://${deps.manifests.bucket}/${key}`);
      const restored = await deps.store.restore(call, { signal });
      if (restored) result.restored += 1;
      else result.newer += 1;
      options.onProgress?.(key, restored);
    } catch (error) {
      if (signal?.aborted) throw error;
      const { name, message } = error as Error;
      result.failed.push({ key, errorName: name, errorMessage: message });
    }
  }
  return result;
}
