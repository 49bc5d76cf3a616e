/**
 * Erasing a user (contract "Retention and erasure"): every call they took part in (found through
 * `byUser`) is deleted (call item, index items, every version of its files and manifest, its
 * analytics record) or has the user redacted out of it (call item and manifest; their index items
 * go). The erased set records the user first, so enrichment redacts them from then on, and each
 * deleted call's tombstone before the call goes, so it is not taken in again; an audit record
 * keeps the salted hash, the mode and the counts. The uid itself is never
 * returned, logged or stored. Held calls are left alone unless `includeHeld`.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { putAnalyticsRecord } from '../analytics/analytics-store.ts';
import { analyticsCallKey } from '../analytics/call-record.ts';
import { byUserPartition, partitionItems } from '../archive/find.ts';
import { isObject } from '../calls/coerce.ts';
import { type CallItem, callPk } from '../calls/types.ts';
import { EraseInputError, StorageError } from '../errors.ts';
import { buildManifest } from '../manifest/manifest.ts';
import type { ManifestStore } from '../manifest/manifest-store.ts';
import { folderOfManifestKey, objectKeySegment } from '../recordings/object-key.ts';
import type { CallStore } from '../store/call-store.ts';
import { draftOf } from '../store/merge-call.ts';
import { type EraseMode, putErased, putTombstone } from './erased-set.ts';
import { deleteAllVersions, deleteVersions, listVersions } from './object-versions.ts';
import { redactCall, redactRaw, uidHash } from './redact.ts';

/** The `erase` function's input. */
export interface EraseInput {
  uid: string;
  mode: EraseMode;
  dryRun: boolean;
  includeHeld: boolean;
}

/** The `erase` function's result (contract "Functions"), plus the calls it touched. */
export interface EraseResult {
  uidHash: string;
  mode: EraseMode;
  /** Calls the user took part in. */
  calls: number;
  /** Calls deleted or redacted (on a dry run, none). */
  erased: number;
  /** Held calls left alone (all held calls, with includeHeld, are erased and none listed). */
  held: string[];
  dryRun: boolean;
  /** The audit record's id; null on a dry run, which writes nothing. */
  auditId: string | null;
  /** The calls erased, or on a dry run the calls that would be. */
  sessionIds: string[];
}

/** What erasure needs. */
export interface EraseDependencies {
  client: DynamoDBDocumentClient;
  tableName: string;
  store: Pick<CallStore, 'load' | 'save' | 'markPublished'>;
  s3: Pick<S3Client, 'send'>;
  bucket: string;
  manifests: Pick<ManifestStore, 'get' | 'put'>;
  salt: () => Promise<string>;
  now?: () => Date;
}

/** Calls erased at once: each is a handful of requests, and the table and bucket take more. */
const CONCURRENCY = 4;
/** byUser page size: a user's calls are walked a page at a time, however many there are. */
const PAGE = 100;
const BATCH_WRITE_ITEMS = 25;
const BATCH_ATTEMPTS = 6;
const AUDIT_PK = 'ERASURE';

/** Checks the invocation's input; `EraseInputError` names what is wrong (never the uid itself). */
export function parseEraseInput(event: unknown): EraseInput {
  if (!isObject(event)) throw new EraseInputError('the input must be an object');
  const { uid, mode, dryRun = false, includeHeld = false } = event;
  if (typeof uid !== 'string' || uid === '' || uid.length > 256) {
    throw new EraseInputError('uid must be a non-empty string of at most 256 characters');
  }
  if (mode !== 'delete' && mode !== 'redact') throw new EraseInputError('mode must be "delete" or "redact"');
  if (typeof dryRun !== 'boolean') throw new EraseInputError('dryRun must be a boolean');
  if (typeof includeHeld !== 'boolean') throw new EraseInputError('includeHeld must be a boolean');
  return { uid, mode, dryRun, includeHeld };
}

async function send<T>(deps: EraseDependencies, operation: string, command: unknown, signal?: AbortSignal) {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: one path for every command type
    return (await deps.client.send(command as any, { abortSignal: signal })) as T;
  } catch (cause) {
    throw new StorageError(`DynamoDB ${operation} on table ${deps.tableName} failed`, { cause });
  }
}

/** The session ids of every call `uid` has an index item in, page by page. */
async function callsOf(deps: EraseDependencies, uid: string, signal?: AbortSignal): Promise<string[]> {
  const items = partitionItems(deps, byUserPartition(uid), {
    attributes: ['sessionId'],
    pageSize: PAGE,
    signal,
  });
  const ids = new Set<string>();
  for await (const item of items) ids.add(String(item.sessionId));
  return [...ids];
}

/** Deletes every item of the call's partition (call, index, copy resume records). */
async function deletePartition(deps: EraseDependencies, sessionId: string, signal?: AbortSignal) {
  const partition = { pk: 'pk', sk: 'sk', value: callPk(sessionId) };
  const items = partitionItems(deps, partition, { attributes: ['pk', 'sk'], consistent: true, signal });
  const keys: Record<string, unknown>[] = [];
  for await (const key of items) keys.push(key);
  // The call item last: until it goes, a failed run is found again and finished by the next.
  keys.sort((a, b) => (a.sk === 'CALL' ? 1 : 0) - (b.sk === 'CALL' ? 1 : 0));
  for (let start = 0; start < keys.length; start += BATCH_WRITE_ITEMS) {
    let pending = keys.slice(start, start + BATCH_WRITE_ITEMS).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt === BATCH_ATTEMPTS) {
        throw new StorageError(`DynamoDB BatchWriteItem on table ${deps.tableName} left deletes unprocessed`);
      }
      const response = await send<BatchWriteCommandOutput>(
        deps,
        'BatchWriteItem',
        new BatchWriteCommand({ RequestItems: { [deps.tableName]: pending } }),
        signal,
      );
      pending = (response.UnprocessedItems?.[deps.tableName] ?? []) as typeof pending;
    }
  }
}

/** The folder (`…/<sessionId>/`) holding the call's files, from its manifest key or a file's key. */
function folderOf(call: CallItem): string | undefined {
  if (call.manifestKey) return folderOfManifestKey(call.manifestKey);
  const key = call.recordings[0]?.key;
  return key === undefined ? undefined : key.slice(0, key.lastIndexOf('/') + 1) || undefined;
}

async function deleteCall(deps: EraseDependencies, call: CallItem, signal?: AbortSignal): Promise<void> {
  const found = folderOf(call);
  // Only a folder of this call's own (`…/<sessionId>/…/`), never a prefix of other calls'.
  const folder =
    found?.endsWith('/') && found.includes(`${objectKeySegment(call.sessionId)}/`) ? found : undefined;
  if (folder) await deleteAllVersions(deps.s3, deps.bucket, folder, { signal });
  // Anything the call names outside that folder (none as the archive writes today), key by key.
  const named = [
    ...[...call.recordings, ...call.transcripts].map((f) => ({ bucket: f.bucket, key: f.key })),
    ...(call.manifestKey ? [{ bucket: deps.bucket, key: call.manifestKey }] : []),
  ];
  for (const file of named) {
    if (folder === undefined || !file.key.startsWith(folder)) {
      await deleteAllVersions(deps.s3, file.bucket, file.key, { exactKey: true, signal });
    }
  }
  const analyticsKey = analyticsCallKey(call);
  if (analyticsKey) await deleteAllVersions(deps.s3, deps.bucket, analyticsKey, { exactKey: true, signal });
  await deletePartition(deps, call.sessionId, signal);
}

/** Every version of `key` but the current one (`keep`): a redacted object's older bytes still name the user. */
async function deleteOlderVersions(deps: EraseDependencies, key: string, signal?: AbortSignal) {
  const versions = await listVersions(deps.s3, deps.bucket, key, { exactKey: true, signal });
  // ListObjectVersions lists a key's versions newest first; the first is the redacted one.
  await deleteVersions(deps.s3, deps.bucket, versions.slice(1), { signal });
}

async function redactUser(
  deps: EraseDependencies,
  stored: NonNullable<Awaited<ReturnType<CallStore['load']>>>,
  hashes: Map<string, string>,
  signal?: AbortSignal,
): Promise<void> {
  const { call: redacted } = await deps.store.save(draftOf(redactCall(stored.call, hashes)), {
    previous: stored,
    now: deps.now?.(),
    signal,
  });
  if (redacted.manifestKey) {
    const manifest = await deps.manifests.get(redacted.manifestKey, { signal });
    const response = isObject(manifest) ? manifest.response : undefined;
    await deps.manifests.put(redacted.manifestKey, buildManifest(redacted, redactRaw(response, hashes)), {
      signal,
    });
    await deleteOlderVersions(deps, redacted.manifestKey, signal);
    await deps.store.markPublished(redacted.sessionId, redacted.revision, { signal });
  }
  const analyticsKey = await putAnalyticsRecord(deps.s3, deps.bucket, redacted, { signal });
  if (analyticsKey) await deleteOlderVersions(deps, analyticsKey, signal);
}

/**
 * Runs `work` on each item, `CONCURRENCY` at a time. The first failure stops new items and fails
 * the whole, but only once the items under way have settled: none outlives the handler's throw.
 */
async function eachLimited<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next] as T;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  if (failure) throw failure.error;
}

/** Erases the user `event.uid` as the contract describes. Throws `EraseInputError` or `StorageError`. */
export async function eraseUser(
  event: unknown,
  deps: EraseDependencies,
  options: { signal?: AbortSignal } = {},
): Promise<EraseResult> {
  const input = parseEraseInput(event);
  const { signal } = options;
  const salt = await deps.salt();
  const hash = uidHash(salt, input.uid);
  const now = deps.now?.() ?? new Date();
  const auditId = `${now.toISOString()}-${randomUUID().slice(0, 8)}`;
  if (!input.dryRun) {
    // First: from here on enrichment redacts the user in any call it stores, old or new.
    await putErased(
      deps,
      { uidHash: hash, mode: input.mode, erasedAt: now.toISOString(), auditId },
      { signal },
    );
  }
  const sessionIds = await callsOf(deps, input.uid, signal);
  const held: string[] = [];
  const erased: string[] = [];
  const hashes = new Map([[input.uid, hash]]);
  await eachLimited(sessionIds, async (sessionId) => {
    const stored = await deps.store.load(sessionId, { signal });
    if (!stored) return;
    if (stored.call.held === true && !input.includeHeld) {
      held.push(sessionId);
      return;
    }
    erased.push(sessionId);
    if (input.dryRun) return;
    if (input.mode === 'delete') {
      // Before the call goes: a later webhook, backfill or invoke for it then takes nothing in.
      await putTombstone(deps, { sessionId, erasedAt: now.toISOString(), auditId }, { signal });
      await deleteCall(deps, stored.call, signal);
    } else await redactUser(deps, stored, hashes, signal);
  });
  held.sort();
  erased.sort();
  const result: EraseResult = {
    uidHash: hash,
    mode: input.mode,
    calls: sessionIds.length,
    erased: input.dryRun ? 0 : erased.length,
    held,
    dryRun: input.dryRun,
    auditId: input.dryRun ? null : auditId,
    sessionIds: erased,
  };
  if (!input.dryRun) {
    await send(
      deps,
      'PutItem',
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          pk: AUDIT_PK,
          sk: `AUDIT#${auditId}`,
          entity: 'erasure-audit',
          auditId,
          uidHash: hash,
          mode: input.mode,
          includeHeld: input.includeHeld,
          calls: result.calls,
          erased: result.erased,
          held: held.length,
          at: now.toISOString(),
        },
      }),
      signal,
    );
  }
  return result;
}
