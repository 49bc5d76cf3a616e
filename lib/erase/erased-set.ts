/**
 * The erased set: one item per erased user (`pk = ERASED#<uidHash>`, `sk = ERASED`), written
 * before an erasure touches any call, and read by enrichment so an erasure sticks: a call with an
 * erased participant is not taken in again (delete) or is stored redacted (redact).
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
const ERASED_SK = 'ERASED';
/** BatchGetItem's limit on keys per request. */
const BATCH_GET_KEYS = 100;
const BATCH_ATTEMPTS = 6;

/** The key of a user's erased-set item. */
export function erasedKey(hash: string): { pk: string; sk: string } {
  return { pk: `${ERASED_PREFIX}${hash}`, sk: ERASED_SK };
}

/** Records that `entry.uidHash` was erased. A later erasure of the same user replaces it. */
export async function putErased(
  deps: ErasedSetDependencies,
  entry: ErasedEntry,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  try {
    await deps.client.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: { ...erasedKey(entry.uidHash), entity: 'erased', ...entry },
      }),
      { abortSignal: options.signal },
    );
  } catch (cause) {
    throw new StorageError(`DynamoDB PutItem on table ${deps.tableName} failed`, { cause });
  }
}

/**
 * Which of `hashes` are in the erased set, and how they were erased. One BatchGetItem for up to
 * 100 hashes (a call's participants), retried for what the service leaves unprocessed.
 */
export async function erasedAmong(
  deps: ErasedSetDependencies,
  hashes: readonly string[],
  options: { signal?: AbortSignal } = {},
): Promise<Map<string, EraseMode>> {
  const found = new Map<string, EraseMode>();
  const unique = [...new Set(hashes)];
  for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
    let keys: Record<string, unknown>[] = unique.slice(start, start + BATCH_GET_KEYS).map(erasedKey);
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
                ProjectionExpression: 'uidHash, #mode',
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
        found.set(String(item.uidHash), item.mode === 'delete' ? 'delete' : 'redact');
      }
      keys = response.UnprocessedKeys?.[deps.tableName]?.Keys ?? [];
    }
  }
  return found;
}

/** What enrichment must do with a call, given the erased set. */
export type Erasure =
  | { action: 'keep' }
  /** A participant was erased in `delete` mode: the call is not taken in. */
  | { action: 'skip' }
  /** Participants erased in `redact` mode: uid -> salted hash, to redact them out of the call. */
  | { action: 'redact'; hashes: Map<string, string> };

/**
 * The check enrichment runs on each call it fetched: the salted hashes of its participants (and
 * initiator and receiver) looked up in the erased set with one BatchGetItem.
 */
export function erasureCheck(deps: ErasedSetDependencies & { salt: () => Promise<string> }) {
  return async (call: CallDraft, options: { signal?: AbortSignal } = {}): Promise<Erasure> => {
    const uids = new Set(call.participants.filter((p) => p.redacted !== true).map((p) => p.uid));
    if (call.initiator) uids.add(call.initiator);
    if (call.receiver) uids.add(call.receiver);
    if (uids.size === 0) return { action: 'keep' };
    const salt = await deps.salt();
    const hashOf = new Map([...uids].map((uid) => [uid, uidHash(salt, uid)]));
    const erased = await erasedAmong(deps, [...hashOf.values()], options);
    if (erased.size === 0) return { action: 'keep' };
    if ([...erased.values()].includes('delete')) return { action: 'skip' };
    return { action: 'redact', hashes: new Map([...hashOf].filter(([, hash]) => erased.has(hash))) };
  };
}
