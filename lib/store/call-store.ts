/**
 * The DynamoDB adapter for the contract's data model: one partition per call (`CALL#<sessionId>`)
 * holding the call item, which is the whole call, and the participant items of the `byUser`
 * index derived from it; plus the backfill checkpoints. docs/data-model.md explains the protocol.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandOutput,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../aws/dynamodb.ts';
import { backoffDelayMs, sleep } from '../backoff.ts';
import { canonicalJson } from '../calls/coerce.ts';
import {
  type CallDraft,
  type CallItem,
  type CallStatus,
  callPk,
  type ParticipantIndexItem,
} from '../calls/types.ts';
import type { RetentionConfig } from '../config.ts';
import { InvalidCallDataError, StorageError } from '../errors.ts';
import { expiresAt } from '../retention/retention.ts';
import { assertStorable } from './call-limits.ts';
import { mergeCall, sameCall } from './merge-call.ts';
import { PARTICIPANT_PREFIX, participantIndexItems } from './participant-index.ts';

/** What `load` finds: the committed call item and the index items present beside it. */
export interface StoredCall {
  call: CallItem;
  /** As found, which may lag the call item after a crash; the next `save` repairs it. */
  index: ParticipantIndexItem[];
}

/** What `save` did: committed a new call, committed a new version, or found nothing new. */
export type SaveOutcome = 'created' | 'updated' | 'unchanged';

/** What the backfill needs to know of a stored call. */
export interface CallSummary {
  status: CallStatus;
  recordings: number;
  transcripts: number;
}

/** Per-request options: `signal` aborts every request in flight. */
export interface StoreOptions {
  signal?: AbortSignal;
}

/** The calls table, as the use cases need it. */
export interface CallStore {
  /** One strongly consistent Query of the call's partition; undefined when no call item is stored. */
  load(sessionId: string, options?: StoreOptions): Promise<StoredCall | undefined>;
  /**
   * Merges `draft` into the stored call (`previous`, as `load` returned it), commits the result
   * with one conditional PutItem unless nothing changed, then brings the index in line with it.
   * Throws `InvalidCallDataError` before writing anything when the call is beyond DynamoDB's limits.
   */
  save(
    draft: CallDraft,
    options: StoreOptions & { previous: StoredCall | undefined; now?: Date },
  ): Promise<{ outcome: SaveOutcome; call: CallItem }>;
  /**
   * Records that the manifest (and event) of `revision` went out: sets `publishedRevision`, on
   * the condition that the call is still at that revision. False when another commit came first.
   */
  markPublished(sessionId: string, revision: number, options?: StoreOptions): Promise<boolean>;
  /**
   * Puts a call item rebuilt from its manifest, unless the table holds a later revision, and
   * brings the index in line with it. Returns whether the item was put.
   */
  restore(call: CallItem, options?: StoreOptions): Promise<boolean>;
  /** Backfill checkpoint item pk=BACKFILL, sk=CHECKPOINT#<name>: { highWaterMark: number (unix s), takenAt: ISO }. */
  getCheckpoint(
    name: string,
    options?: StoreOptions,
  ): Promise<{ highWaterMark: number; takenAt: string } | undefined>;
  /** Only moves forward: conditional on the stored highWaterMark being lower (or absent). Returns whether it moved. */
  putCheckpoint(name: string, highWaterMark: number, now?: Date, options?: StoreOptions): Promise<boolean>;
  /** Status and file counts of each stored call (eventually consistent); calls not stored are absent. */
  getSummaries(sessionIds: readonly string[], options?: StoreOptions): Promise<Map<string, CallSummary>>;
  /**
   * Puts the call under legal hold (`held: true`, no `expiresAt`) or takes it off (`expiresAt`
   * back with retention), as a new revision, and brings the index items in line. Undefined when
   * no call is stored.
   */
  setHeld(
    sessionId: string,
    held: boolean,
    options?: StoreOptions & { now?: Date },
  ): Promise<CallItem | undefined>;
}

const CALL_SK = 'CALL';
const CHECKPOINT_PK = 'BACKFILL';
const CHECKPOINT_PREFIX = 'CHECKPOINT#';
/** Commits tried, each lost to another run that committed first, before a StorageError. */
const SAVE_ATTEMPTS = 5;
/** Index repairs (write, read back) before leaving the rest to the next run. */
const INDEX_ROUNDS = 3;
/** BatchGetItem's and BatchWriteItem's own limits on keys per request. */
const BATCH_GET_KEYS = 100;
const BATCH_WRITE_ITEMS = 25;
/** Requests per batch before unprocessed keys (throttling) become a StorageError. */
const BATCH_ATTEMPTS = 6;
const BATCH_BASE_DELAY_MS = 50;
const BATCH_MAX_DELAY_MS = 2_000;

type Item = Record<string, unknown>;

let defaultClient: DynamoDBDocumentClient | undefined;

/** The module-level client, created on first use so an injected one costs nothing at start-up. */
function defaultDocumentClient(): DynamoDBDocumentClient {
  defaultClient ??= createDocumentClient();
  return defaultClient;
}

/** A CallStore over `tableName`, using `client` or a module-level document client. */
export function createCallStore(options: {
  tableName: string;
  client?: DynamoDBDocumentClient;
  /** RETENTION_DAYS: each commit stamps `expiresAt` on the call and its index items unless held. */
  retention?: RetentionConfig;
}): CallStore {
  const client = options.client ?? defaultDocumentClient();
  const TableName = options.tableName;
  const { retention } = options;

  /** `call` with the `expiresAt` its initiation, commit time and hold give it (none without retention). */
  function stamped(call: CallItem): CallItem {
    const { expiresAt: _previous, ...rest } = call;
    const at = expiresAt(rest, retention, { held: rest.held === true });
    return at === undefined ? rest : { ...rest, expiresAt: at };
  }

  /** Sends one command; any failure but a failed condition becomes a StorageError. */
  async function send<T>(operation: string, command: unknown, signal?: AbortSignal): Promise<T> {
    try {
      // biome-ignore lint/suspicious/noExplicitAny: one path for every command type
      return (await client.send(command as any, signal ? { abortSignal: signal } : {})) as T;
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException') throw error;
      throw new StorageError(`DynamoDB ${operation} on table ${TableName} failed`, { cause: error });
    }
  }

  /** A conditional PutItem; false when the condition did not hold. */
  async function putIf(Item: object, ConditionExpression: string, values?: Item, signal?: AbortSignal) {
    try {
      await send(
        'PutItem',
        new PutCommand({ TableName, Item, ConditionExpression, ExpressionAttributeValues: values }),
        signal,
      );
      return true;
    } catch (error) {
      if (error instanceof StorageError) throw error;
      return false;
    }
  }

  /** Sends `requests` in chunks, retrying what the service leaves unprocessed (throttling) with backoff. */
  async function batched<T>(
    operation: string,
    requests: readonly T[],
    size: number,
    run: (chunk: T[]) => Promise<T[]>,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let start = 0; start < requests.length; start += size) {
      let pending = requests.slice(start, start + size);
      for (let retry = 0; pending.length > 0; retry += 1) {
        if (retry === BATCH_ATTEMPTS) {
          throw new StorageError(
            `DynamoDB ${operation} on table ${TableName} left ${pending.length} requests ` +
              `unprocessed after ${BATCH_ATTEMPTS} attempts`,
          );
        }
        if (retry > 0) {
          await sleep(
            backoffDelayMs(retry - 1, BATCH_BASE_DELAY_MS, BATCH_MAX_DELAY_MS, Math.random),
            signal,
          );
        }
        pending = await run(pending);
      }
    }
  }

  async function load(sessionId: string, { signal }: StoreOptions = {}): Promise<StoredCall | undefined> {
    const items: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await send<QueryCommandOutput>(
        'Query',
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': callPk(sessionId) },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
        signal,
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    // Other sort-key prefixes in the partition belong to other features: not ours to read.
    const call = items.find((item) => item.sk === CALL_SK);
    if (!call) return undefined;
    // Retrying cannot help, and writing over it would drop what 0.1.0 kept in other items.
    if (!Number.isSafeInteger(call.revision)) {
      throw new InvalidCallDataError(
        `the stored call item for session ${JSON.stringify(sessionId)} has no revision: it was written ` +
          'by version 0.1.0, whose table layout contract v2 replaced; empty the table and rebuild it',
      );
    }
    const index = items.filter((item) => String(item.sk).startsWith(PARTICIPANT_PREFIX));
    return { call: call as unknown as CallItem, index: index as unknown as ParticipantIndexItem[] };
  }

  /**
   * Puts the index items `call` implies that `found` lacks or holds otherwise, and deletes those
   * it no longer names; then reads back, and goes again if a concurrent commit moved the call on.
   */
  async function repairIndex(call: CallItem, found: readonly Item[], signal?: AbortSignal): Promise<void> {
    for (let round = 1; ; round += 1) {
      const wanted = participantIndexItems(call) as unknown as Item[];
      const present = new Map(found.map((item) => [String(item.sk), canonicalJson(item)]));
      const names = new Set(wanted.map((item) => String(item.sk)));
      const writes = [
        ...wanted
          .filter((item) => present.get(String(item.sk)) !== canonicalJson(item))
          .map((Item) => ({ PutRequest: { Item } })),
        ...[...present.keys()]
          .filter((sk) => !names.has(sk))
          .map((sk) => ({ DeleteRequest: { Key: { pk: call.pk, sk } } })),
      ];
      if (writes.length === 0) return;
      await batched(
        'BatchWriteItem',
        writes,
        BATCH_WRITE_ITEMS,
        async (chunk) => {
          const response = await send<BatchWriteCommandOutput>(
            'BatchWriteItem',
            new BatchWriteCommand({ RequestItems: { [TableName]: chunk } }),
            signal,
          );
          return (response.UnprocessedItems?.[TableName] ?? []) as typeof chunk;
        },
        signal,
      );
      // What remains (a run racing this one to the end) is repaired by the next save.
      if (round === INDEX_ROUNDS) return;
      const after = await load(call.sessionId, { signal });
      if (!after) return;
      call = after.call;
      found = after.index as unknown as Item[];
    }
  }

  async function save(
    draft: CallDraft,
    options: StoreOptions & { previous: StoredCall | undefined; now?: Date },
  ): Promise<{ outcome: SaveOutcome; call: CallItem }> {
    const { signal } = options;
    if (options.previous && options.previous.call.pk !== draft.pk) {
      throw new TypeError(`previous is ${options.previous.call.pk}, not ${draft.pk}`);
    }
    let current = options.previous;
    for (let attempt = 1; attempt <= SAVE_ATTEMPTS; attempt += 1) {
      const merged = mergeCall(current?.call, draft);
      assertStorable(merged);
      // Unchanged also means the stored expiry is what retention gives it now.
      if (
        current &&
        sameCall(merged, current.call) &&
        stamped(current.call).expiresAt === current.call.expiresAt
      ) {
        await repairIndex(current.call, current.index as unknown as Item[], signal);
        return { outcome: 'unchanged', call: current.call };
      }
      const call: CallItem = stamped({
        ...merged,
        enrichedAt: (options.now ?? new Date()).toISOString(),
        revision: (current?.call.revision ?? 0) + 1,
      });
      const committed = current
        ? await putIf(call, 'revision = :seen', { ':seen': current.call.revision }, signal)
        : await putIf(call, 'attribute_not_exists(pk)', undefined, signal);
      if (committed) {
        await repairIndex(call, (current?.index ?? []) as unknown as Item[], signal);
        return { outcome: current ? 'updated' : 'created', call };
      }
      // Another run committed since `current` was read: merge into what it committed.
      current = await load(draft.sessionId, { signal });
    }
    throw new StorageError(`call ${draft.sessionId}: other runs committed first ${SAVE_ATTEMPTS} times`);
  }

  async function markPublished(
    sessionId: string,
    revision: number,
    { signal }: StoreOptions = {},
  ): Promise<boolean> {
    try {
      await send(
        'UpdateItem',
        new UpdateCommand({
          TableName,
          Key: { pk: callPk(sessionId), sk: CALL_SK },
          UpdateExpression: 'SET publishedRevision = :revision',
          ConditionExpression: 'revision = :revision',
          ExpressionAttributeValues: { ':revision': revision },
        }),
        signal,
      );
      return true;
    } catch (error) {
      if (error instanceof StorageError) throw error;
      return false;
    }
  }

  async function restore(call: CallItem, { signal }: StoreOptions = {}): Promise<boolean> {
    assertStorable(call);
    const put = await putIf(
      call,
      'attribute_not_exists(pk) OR revision <= :revision',
      { ':revision': call.revision },
      signal,
    );
    if (!put) return false;
    const stored = await load(call.sessionId, { signal });
    if (stored) await repairIndex(stored.call, stored.index as unknown as Item[], signal);
    return true;
  }

  async function getCheckpoint(
    name: string,
    { signal }: StoreOptions = {},
  ): Promise<{ highWaterMark: number; takenAt: string } | undefined> {
    const { Item: item } = await send<GetCommandOutput>(
      'GetItem',
      new GetCommand({
        TableName,
        Key: { pk: CHECKPOINT_PK, sk: `${CHECKPOINT_PREFIX}${name}` },
        ConsistentRead: true,
      }),
      signal,
    );
    if (!item) return undefined;
    return { highWaterMark: Number(item.highWaterMark), takenAt: String(item.takenAt) };
  }

  async function putCheckpoint(
    name: string,
    highWaterMark: number,
    now = new Date(),
    { signal }: StoreOptions = {},
  ): Promise<boolean> {
    if (!Number.isFinite(highWaterMark)) throw new RangeError('highWaterMark must be a finite number');
    return putIf(
      {
        pk: CHECKPOINT_PK,
        sk: `${CHECKPOINT_PREFIX}${name}`,
        entity: 'checkpoint',
        highWaterMark,
        takenAt: now.toISOString(),
      },
      'attribute_not_exists(pk) OR highWaterMark < :mark',
      { ':mark': highWaterMark },
      signal,
    );
  }

  async function getSummaries(
    sessionIds: readonly string[],
    { signal }: StoreOptions = {},
  ): Promise<Map<string, CallSummary>> {
    const summaries = new Map<string, CallSummary>();
    // A key twice in one request is a ValidationException.
    const keys = [...new Set(sessionIds)].map((sessionId) => ({ pk: callPk(sessionId), sk: CALL_SK }));
    await batched(
      'BatchGetItem',
      keys,
      BATCH_GET_KEYS,
      async (chunk) => {
        const response = await send<BatchGetCommandOutput>(
          'BatchGetItem',
          new BatchGetCommand({
            RequestItems: {
              [TableName]: {
                Keys: chunk,
                ProjectionExpression: 'sessionId, #status, recordings, transcripts',
                ExpressionAttributeNames: { '#status': 'status' },
              },
            },
          }),
          signal,
        );
        for (const item of response.Responses?.[TableName] ?? []) {
          summaries.set(String(item.sessionId), {
            status: item.status as CallStatus,
            recordings: Array.isArray(item.recordings) ? item.recordings.length : 0,
            transcripts: Array.isArray(item.transcripts) ? item.transcripts.length : 0,
          });
        }
        return (response.UnprocessedKeys?.[TableName]?.Keys ?? []) as typeof chunk;
      },
      signal,
    );
    return summaries;
  }

  async function setHeld(
    sessionId: string,
    held: boolean,
    options: StoreOptions & { now?: Date } = {},
  ): Promise<CallItem | undefined> {
    const { signal } = options;
    for (let attempt = 1; attempt <= SAVE_ATTEMPTS; attempt += 1) {
      const current = await load(sessionId, { signal });
      if (!current) return undefined;
      const { held: _held, ...rest } = current.call;
      // A new revision, so a run that read the call before the hold cannot commit over it.
      const call = stamped({
        ...rest,
        ...(held && { held: true as const }),
        enrichedAt: (options.now ?? new Date()).toISOString(),
        revision: current.call.revision + 1,
      });
      if (await putIf(call, 'revision = :seen', { ':seen': current.call.revision }, signal)) {
        await repairIndex(call, current.index as unknown as Item[], signal);
        return call;
      }
    }
    throw new StorageError(`call ${sessionId}: other runs committed first ${SAVE_ATTEMPTS} times`);
  }

  return { load, save, markPublished, restore, getCheckpoint, putCheckpoint, getSummaries, setHeld };
}
