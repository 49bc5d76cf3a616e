/**
 * The erased set, read by enrichment so an erasure sticks (contract "Retention and erasure"):
 * - one item per erased user (`pk = ERASED#<uidHash>`): a call they take part in is stored with
 *   them redacted, whichever mode erased them, so other people's later calls are still archived;
 * - one tombstone per call deleted by an erasure (`pk = ERASED#CALL#<sessionId>`): that call is
 *   not taken in again. It names the call only, never a person.
 * Both are written before the erasure touches the call they guard.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { CallDraft } from '../calls/types.ts';
import { StorageError } from '../errors.ts';
import { uidHash } from './redact.ts';

/** How a user was erased. */
export type EraseMode = 'delete' | 'redact';

/** An erased-set item, without its keys. No personal data: the uid only as its salted hash. */
export interface ErasedEntry {
  uidHash: string;
  mode: EraseMode;
  erasedAt: string;
  auditId: string;
}

/** The table. */
export interface ErasedSetDependencies {
  client: DynamoDBDocumentClient;
  tableName: string;
}

const ERASED_PREFIX = 'ERASED#';
// Hex hashes never hold `#`, so a tombstone's key never equals a user's.
const TOMBSTONE_PREFIX = 'ERASED#CALL#';
const ERASED_SK = 'ERASED';
/** BatchGetItem's limit on keys per request. */
const BATCH_GET_KEYS = 100;
const BATCH_ATTEMPTS = 6;

/** The key of a user's erased-set item. */
export function erasedKey(hash: string): { pk: string; sk: string } {
  return { pk: `${ERASED_PREFIX}${hash}`, sk: ERASED_SK };
}

/**
 * The key of a deleted call's tombstone. The session id as `CALL#` keys hold it: at most 256
 * characters (1 KiB of UTF-8), well within DynamoDB's 2 KiB partition key.
 */
export function tombstoneKey(sessionId: string): { pk: string; sk: string } {
  return { pk: `${TOMBSTONE_PREFIX}${sessionId}`, sk: ERASED_SK };
}

async function put(deps: ErasedSetDependencies, item: Record<string, unknown>, signal?: AbortSignal) {
  try {
    await deps.client.send(new PutCommand({ TableName: deps.tableName, Item: item }), {
      abortSignal: signal,
    });
  } catch (cause) {
    throw new StorageError(`DynamoDB PutItem on table ${deps.tableName} failed`, { cause });
  }
}

/** Records that `entry.uidHash` was erased. A later erasure of the same user replaces it. */
export async function putErased(
  deps: ErasedSetDependencies,
  entry: ErasedEntry,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  await put(deps, { ...erasedKey(entry.uidHash), entity: 'erased', ...entry }, options.signal);
}

/** Records that the call `sessionId` was deleted by the erasure `auditId`: it is not taken in again. */
export async function putTombstone(
  deps: ErasedSetDependencies,
  entry: { sessionId: string; erasedAt: string; auditId: string },
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  await put(deps, { ...tombstoneKey(entry.sessionId), entity: 'erased-call', ...entry }, options.signal);
}

/** What the erased set holds about one call. */
export interface ErasedLookup {
  /** The call was deleted by an erasure. */
  deleted: boolean;
  /** Which of the hashes asked about are erased users, and how they were erased. */
  users: Map<string, EraseMode>;
}

/**
 * The call's tombstone and which of `hashes` are erased users: one BatchGetItem for up to 100
 * keys (a call of more than 99 users takes more), retried for what the service leaves unprocessed.
 */
export async function lookUpErased(
  deps: ErasedSetDependencies,
  sessionId: string,
  hashes: readonly string[],
  options: { signal?: AbortSignal } = {},
): Promise<ErasedLookup> {
  const found: ErasedLookup = { deleted: false, users: new Map() };
  const all = [tombstoneKey(sessionId), ...[...new Set(hashes)].map(erasedKey)];
  for (let start = 0; start < all.length; start += BATCH_GET_KEYS) {
    let keys: Record<string, unknown>[] = all.slice(start, start + BATCH_GET_KEYS);
    for (let attempt = 0; keys.length > 0; attempt += 1) {
      if (attempt === BATCH_ATTEMPTS) {
        throw new StorageError(`DynamoDB BatchGetItem on table ${deps.tableName} left keys unread`);
      }
      let response: BatchGetCommandOutput;
      try {
        response = await deps.client.send(
          new BatchGetCommand({
            RequestItems: {
              [deps.tableName]: {
                Keys: keys,
                ProjectionExpression: 'entity, uidHash, #mode',
                ExpressionAttributeNames: { '#mode': 'mode' },
              },
            },
          }),
          { abortSignal: options.signal },
        );
      } catch (cause) {
        throw new StorageError(`DynamoDB BatchGetItem on table ${deps.tableName} failed`, { cause });
      }
      for (const item of response.Responses?.[deps.tableName] ?? []) {
        if (item.entity === 'erased-call') found.deleted = true;
        else found.users.set(String(item.uidHash), item.mode === 'delete' ? 'delete' : 'redact');
      }
      keys = response.UnprocessedKeys?.[deps.tableName]?.Keys ?? [];
    }
  }
  return found;
}

/** What enrichment must do with a call, given the erased set. */
export type Erasure =
  | { action: 'keep' }
  /** The call was deleted by an erasure: it is not taken in again. */
  | { action: 'skip' }
  /** Erased participants (either mode): uid -> salted hash, to redact them out of the call. */
  | { action: 'redact'; hashes: Map<string, string> };

/**
 * The check enrichment runs on each call it fetched: the call's tombstone and the salted hashes
 * of its participants (and initiator and receiver) looked up with one BatchGetItem.
 */
export function erasureCheck(deps: ErasedSetDependencies & { salt: () => Promise<string> }) {
  return async (call: CallDraft, options: { signal?: AbortSignal } = {}): Promise<Erasure> => {
    const uids = new Set(call.participants.filter((p) => p.redacted !== true).map((p) => p.uid));
    if (call.initiator) uids.add(call.initiator);
    if (call.receiver) uids.add(call.receiver);
    const salt = uids.size === 0 ? '' : await deps.salt();
    const hashOf = new Map([...uids].map((uid) => [uid, uidHash(salt, uid)]));
    const erased = await lookUpErased(deps, call.sessionId, [...hashOf.values()], options);
    if (erased.deleted) return { action: 'skip' };
    if (erased.users.size === 0) return { action: 'keep' };
    return { action: 'redact', hashes: new Map([...hashOf].filter(([, hash]) => erased.users.has(hash))) };
  };
}
