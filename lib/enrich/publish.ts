/**
 * After a commit: the call's manifest, its analytics record, then (with a bus) its `CallArchived`
 * event, then the mark that they went out. A commit leaves `publishedRevision` behind `revision`, so what a failed or
 * interrupted run owes is still owed on the next run, which sends it (at least once; duplicates
 * are possible and consumers are told so). docs/data-model.md explains why the manifest left in
 * S3 is always the latest revision's, even when runs overlap.
 */
import type { CallItem } from '../calls/types.ts';
import { StorageError } from '../errors.ts';
import { type EventSink, publishCallArchived, publishCallArchiveFailed } from '../events/archive-events.ts';
import { buildManifest } from '../manifest/manifest.ts';
import type { ManifestStore } from '../manifest/manifest-store.ts';
import type { CallStore } from '../store/call-store.ts';

/** Writes a committed call's analytics record (lib/analytics); returns its key, if it has one. */
export type AnalyticsWriter = (
  call: CallItem,
  options: { signal?: AbortSignal },
) => Promise<string | undefined>;

/** What publication needs. */
export interface PublishDependencies {
  store: Pick<CallStore, 'load' | 'markPublished'>;
  manifests: () => Promise<ManifestStore>;
  analytics: () => Promise<AnalyticsWriter>;
  /** Absent: no events (EVENT_BUS_NAME unset). */
  events?: () => Promise<EventSink>;
}

/** Rounds lost to other runs' commits before giving up (retryably) for now. */
const PUBLISH_ROUNDS = 5;

/** True when `call`'s manifest (and event) have not gone out since its last commit. */
export function isOwed(call: CallItem): boolean {
  return call.publishedRevision !== call.revision;
}

/**
 * Sends what `call` owes, if anything. When another run commits meanwhile, the newer revision
 * is sent too: whatever this run wrote is then overwritten by a manifest at least as new. Returns
 * the revision sent, or undefined when nothing was owed. Throws `StorageError` (retryable).
 */
export async function publishOwed(
  call: CallItem,
  response: unknown,
  deps: PublishDependencies,
  { signal }: { signal?: AbortSignal } = {},
): Promise<number | undefined> {
  if (!isOwed(call)) return undefined;
  const { sessionId } = call;
  let current: CallItem = call;
  for (let round = 1; round <= PUBLISH_ROUNDS; round += 1) {
    const key = current.manifestKey;
    if (key === undefined) throw new TypeError(`call ${sessionId} has no manifestKey to publish to`);
    const manifests = await deps.manifests();
    await manifests.put(key, buildManifest(current, response), { signal });
    // Owed like the manifest: a failed write leaves the mark unset, so the retry writes it again.
    await (await deps.analytics())(current, { signal });
    if (deps.events) {
      await publishCallArchived(await deps.events(), current, { bucket: manifests.bucket, signal });
    }
    if (await deps.store.markPublished(sessionId, current.revision, { signal })) return current.revision;
    const reloaded = await deps.store.load(sessionId, { signal });
    if (!reloaded) return current.revision;
    current = reloaded.call;
  }
  throw new StorageError(
    `call ${sessionId}: other runs committed first ${PUBLISH_ROUNDS} times while publishing`,
  );
}

/** The `sessionId` a queue message's body names, if any (the body may be what failed). */
function sessionIdOfBody(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const sessionId = (parsed as { sessionId?: unknown } | null)?.sessionId;
    return typeof sessionId === 'string' && sessionId !== '' ? sessionId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends `CallArchiveFailed` for a message just dead-lettered, when a bus is configured. Throws
 * `StorageError` when the event is not taken: the consumer then leaves the record to be retried,
 * and it is parked (deduplicated) and announced again.
 */
export async function publishDeadLettered(
  events: (() => Promise<EventSink>) | undefined,
  message: { body: string },
  error: unknown,
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  if (!events) return;
  await publishCallArchiveFailed(
    await events(),
    { sessionId: sessionIdOfBody(message.body), error },
    { signal },
  );
}
