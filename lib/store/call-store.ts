/**
 * The DynamoDB adapter for the contract's data model: one partition per call (`CALL#<sessionId>`)
 * holding the call item, its participant items and its recording items, plus the backfill
 * checkpoints. docs/data-model.md explains the write protocol and why it is safe to repeat,
 * to run out of order and to run concurrently without transactions.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { CallItem, CallStatus, ParticipantItem, RecordingItem } from '../calls/types.ts';
import { CALL_STATUSES, callPk, STATUS_RANK } from '../calls/types.ts';
import { StorageError } from '../errors.ts';
import {
  bySk,
  contentHash,
  contentOf,
  formatVersion,
  freshnessOf,
  sameContent,
  versionOf,
} from './call-version.ts';

/** What the store adds to the call item. */
export interface StoredCallMeta {
  /** `STATUS_RANK[status]`. */
  statusRank: number;
  /** The latest Unix time anywhere in the call's records (see `freshnessOf`). */
  freshness: number;
  /** sha256 of the call's content, write times excluded (see `contentHash`). */
  contentHash: string;
  /** ISO-8601: when this version of the call was committed. */
  enrichedAt: string;
}

/** Everything stored for one call, as a reader should see it. */
export interface StoredCall {
  call: CallItem & StoredCallMeta;
  participants: ParticipantItem[];
  recordings: RecordingItem[];
}

/** What `save` did: wrote a new call, replaced an older version, found nothing new, or lost to a newer one. */
export type SaveOutcome = 'created' | 'updated' | 'unchanged' | 'stale';

/** One enrichment's records for a call, as the normaliser and the recording copier produced them. */
export interface SaveInput {
  call: CallItem;
  participants: ParticipantItem[];
  recordings: RecordingItem[];
}

/** The calls table, as the use cases need it. */
export interface CallStore {
  /** One Query on pk = CALL#<sessionId> (paginated if needed): everything stored for the call, or undefined. */
  load(sessionId: string): Promise<StoredCall | undefined>;
  /**
   * Applies the write protocol. `previous` is what load() returned (saves a read). `now` stamps
   * `enrichedAt` on the call and `copiedAt` on each recording item written.
   */
  save(
    input: SaveInput,
    options: { previous: StoredCall | undefined; now?: Date },
  ): Promise<{ outcome: SaveOutcome; stored: StoredCall }>;
  /** Backfill checkpoint item pk=BACKFILL, sk=CHECKPOINT#<name>: { highWaterMark: number (unix s), takenAt: ISO }. */
  getCheckpoint(name: string): Promise<{ highWaterMark: number; takenAt: string } | undefined>;
  /** Only moves forward: conditional on the stored highWaterMark being lower (or absent). Returns whether it moved. */
  putCheckpoint(name: string, highWaterMark: number, now?: Date): Promise<boolean>;
  /**
   * The stored status of each call that has a call item (BatchGetItem in chunks of 100, eventually
   * consistent, unprocessed keys retried); calls not stored are absent from the map.
   */
  getStatuses(sessionIds: readonly string[]): Promise<Map<string, CallStatus>>;
  /** Count of DynamoDB requests this store has sent (read + write), for benchmarks/tests. */
  readonly requestCount: { reads: number; writes: number };
}

const CALL_SK = 'CALL';
const PARTICIPANT_PREFIX = 'PARTICIPANT#';
const RECORDING_PREFIX = 'RECORDING#';
const CHECKPOINT_PK = 'BACKFILL';
const CHECKPOINT_PREFIX = 'CHECKPOINT#';
/**
 * A Query is not a snapshot: it can read an older call item and then miss a participant that a
 * newer commit has just dropped. Reading again sees the newer call item, which no longer names it.
 */
const LOAD_ATTEMPTS = 3;
/** Commits tried before giving up, each lost to another run that committed first. */
const SAVE_ATTEMPTS = 5;
/** BatchGetItem's own limit on keys per request. */
const BATCH_GET_KEYS = 100;
/** Requests per chunk before unprocessed keys (throttling) become a StorageError. */
const BATCH_GET_ATTEMPTS = 6;
const BATCH_GET_BASE_DELAY_MS = 50;

type Item = Record<string, unknown>;
interface Leftover {
  sk: string;
  version: string | undefined;
}

/**
 * Participant items a load found in the partition that the call item does not name: another
 * run's uncommitted writes, or what a run that crashed left. Kept out of the StoredCall's shape,
 * and handed to the next save of that StoredCall so it can delete those that are older.
 */
const leftoversOf = new WeakMap<StoredCall, readonly Leftover[]>();

let defaultClient: DynamoDBDocumentClient | undefined;

/** The module-level client, created on first use so an injected one costs nothing at start-up. */
function defaultDocumentClient(): DynamoDBDocumentClient {
  defaultClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return defaultClient;
}

function isConditionFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/** The version of the call as committed, rebuilt from its meta attributes. */
function storedVersion(call: CallItem & StoredCallMeta): string {
  return formatVersion(call.statusRank, call.freshness, call.recordingCount);
}

/** Drops the per-item version, which readers have no use for. */
function withoutVersion<T>(item: Item): T {
  const { version: _version, ...rest } = item;
  return rest as T;
}

/** Sorts a Query's items into a StoredCall, keeping only the participants the call item names. */
function assemble(items: readonly Item[]): { stored: StoredCall | undefined; complete: boolean } {
  let call: Item | undefined;
  const participants = new Map<string, Item>();
  const recordings: RecordingItem[] = [];
  for (const item of items) {
    const sk = String(item.sk);
    if (sk === CALL_SK) call = item;
    else if (sk.startsWith(PARTICIPANT_PREFIX)) participants.set(sk, item);
    else if (sk.startsWith(RECORDING_PREFIX)) recordings.push(withoutVersion(item));
  }
  if (!call) return { stored: undefined, complete: true };
  const { participantKeys, ...callAttributes } = call;
  // A call item without the list (written by hand, say) owns every participant in its partition.
  const listed = Array.isArray(participantKeys) ? participantKeys.map(String) : [...participants.keys()];
  const named = new Set(listed);
  const present = listed.flatMap((sk) => {
    const item = participants.get(sk);
    return item ? [withoutVersion<ParticipantItem>(item)] : [];
  });
  const stored: StoredCall = {
    call: callAttributes as unknown as CallItem & StoredCallMeta,
    participants: present,
    recordings,
  };
  const leftovers = [...participants.entries()]
    .filter(([sk]) => !named.has(sk))
    .map(([sk, item]) => ({ sk, version: typeof item.version === 'string' ? item.version : undefined }));
  leftoversOf.set(stored, leftovers);
  return { stored, complete: present.length === listed.length };
}

/** Refuses records that would land in another call's partition or collide with each other. */
function assertOnePartition(input: SaveInput): void {
  const pk = callPk(input.call.sessionId);
  const seen = new Set<string>();
  const check = (item: { pk: string; sk: string }, prefix: string) => {
    if (item.pk !== pk) throw new TypeError(`item ${item.sk} does not belong to partition ${pk}`);
    if (!item.sk.startsWith(prefix)) throw new TypeError(`item ${item.sk} does not start with ${prefix}`);
    if (seen.has(item.sk)) throw new TypeError(`item ${item.sk} appears twice in ${pk}`);
    seen.add(item.sk);
  };
  check(input.call, CALL_SK);
  for (const p of input.participants) check(p, PARTICIPANT_PREFIX);
  for (const r of input.recordings) check(r, RECORDING_PREFIX);
}

/** The records to write, their version and their meta attributes. */
interface Prepared {
  call: CallItem;
  participants: ParticipantItem[];
  recordings: RecordingItem[];
  version: string;
  meta: Omit<StoredCallMeta, 'enrichedAt'>;
}

function prepare(input: SaveInput): Prepared {
  // contentOf drops undefined values and any store attributes the caller passed back in, so
  // absent stays absent whatever the client's marshalling options.
  const call = contentOf(input.call) as CallItem;
  const participants = input.participants.map((p) => contentOf(p) as ParticipantItem);
  const recordings = input.recordings.map((r) => contentOf(r) as RecordingItem);
  const records = { call, participants, recordings };
  return {
    call,
    participants,
    recordings,
    version: versionOf(records),
    meta: {
      statusRank: STATUS_RANK[call.status],
      freshness: freshnessOf(records),
      contentHash: contentHash(records),
    },
  };
}

/** What one commit attempt writes, against a given previous state. */
interface WritePlan {
  /** Participant and recording items that are new or differ from what is stored. */
  puts: Item[];
  /** Participant sks the previous version named and this one does not. */
  removed: string[];
  /** The call as it will be stored if the commit succeeds. */
  stored: StoredCall;
  /** False when `previous` already holds exactly `next`: nothing to write. */
  changed: boolean;
}

/** The writes that take `previous` to `next`. */
function planWrites(next: Prepared, previous: StoredCall | undefined, now: Date): WritePlan {
  const enrichedAt = now.toISOString();
  const copiedAt = enrichedAt;
  const puts: Item[] = [];
  const before = new Map<string, object>();
  for (const item of [...(previous?.participants ?? []), ...(previous?.recordings ?? [])]) {
    before.set(item.sk, item);
  }
  const differs = (item: { sk: string }) => {
    const old = before.get(item.sk);
    return old === undefined || !sameContent(old, item);
  };
  for (const p of next.participants) if (differs(p)) puts.push({ ...p });
  // Recordings are evidence: one a later response leaves out is kept, so the union is stored.
  const recordings = new Map((previous?.recordings ?? []).map((r) => [r.sk, r]));
  for (const r of next.recordings) {
    if (!differs(r)) continue;
    const item = { ...r, copiedAt };
    puts.push(item);
    recordings.set(r.sk, item);
  }
  const keep = new Set(next.participants.map((p) => p.sk));
  const removed = (previous?.participants ?? []).map((p) => p.sk).filter((sk) => !keep.has(sk));
  // The hash covers the call item's content, so equal hashes leave only the children to compare.
  const sameCall = previous?.call.contentHash === next.meta.contentHash;
  return {
    puts,
    removed,
    changed: !sameCall || puts.length > 0 || removed.length > 0,
    stored: {
      call: { ...next.call, ...next.meta, enrichedAt },
      participants: next.participants,
      recordings: [...recordings.values()].sort(bySk),
    },
  };
}

/** A CallStore over `tableName`, using `client` or a module-level DocumentClient. */
export function createCallStore(options: { tableName: string; client?: DynamoDBDocumentClient }): CallStore {
  const client = options.client ?? defaultDocumentClient();
  const TableName = options.tableName;
  const requestCount = { reads: 0, writes: 0 };

  /** Sends one request, counting it; every failure but a failed condition becomes a StorageError. */
  async function send<T>(kind: 'reads' | 'writes', operation: string, run: () => Promise<T>): Promise<T> {
    requestCount[kind] += 1;
    try {
      return await run();
    } catch (error) {
      if (isConditionFailed(error)) throw error;
      throw new StorageError(`DynamoDB ${operation} on table ${TableName} failed`, { cause: error });
    }
  }

  /** A conditional write; false when the condition did not hold. */
  async function writeIf(operation: 'PutItem' | 'DeleteItem', run: () => Promise<unknown>): Promise<boolean> {
    try {
      await send('writes', operation, run);
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  function putIf(item: Item, condition: string, values?: Item): Promise<boolean> {
    return writeIf('PutItem', () =>
      client.send(
        new PutCommand({
          TableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /** Runs every write even when one fails, so none is left in flight; then reports the first failure. */
  async function all(writes: readonly Promise<boolean>[]): Promise<void> {
    const results = await Promise.allSettled(writes);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Deletes participant items of the partition whose version compares with `version` as `operator` says. */
  function deleteWhere(
    pk: string,
    sks: Iterable<string>,
    operator: '<' | '=',
    version: string,
  ): Promise<void> {
    return all(
      [...new Set(sks)].map((sk) =>
        writeIf('DeleteItem', () =>
          client.send(
            new DeleteCommand({
              TableName,
              Key: { pk, sk },
              ConditionExpression: `version ${operator} :version`,
              ExpressionAttributeValues: { ':version': version },
            }),
          ),
        ),
      ),
    );
  }

  async function queryPartition(pk: string): Promise<Item[]> {
    const items: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await send('reads', 'Query', () =>
        client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  async function load(sessionId: string): Promise<StoredCall | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const { stored, complete } = assemble(await queryPartition(callPk(sessionId)));
      // Still incomplete after the retries: return what is there, and the next save restores the rest.
      if (complete || attempt === LOAD_ATTEMPTS) return stored;
    }
  }

  async function save(
    input: SaveInput,
    options: { previous: StoredCall | undefined; now?: Date },
  ): Promise<{ outcome: SaveOutcome; stored: StoredCall }> {
    assertOnePartition(input);
    if (options.previous && options.previous.call.pk !== input.call.pk) {
      throw new TypeError(`previous is ${options.previous.call.pk}, not ${input.call.pk}`);
    }
    const now = options.now ?? new Date();
    const next = prepare(input);
    const pk = input.call.pk;
    const ours = new Set<string>();
    let previous = options.previous;

    for (let attempt = 1; ; attempt += 1) {
      if (previous && storedVersion(previous.call) > next.version) {
        // A newer version is committed. Participant items this run wrote that it does not name
        // would linger as leftovers; the ones it does name have been rewritten by the newer run.
        const named = new Set(previous.participants.map((p) => p.sk));
        await deleteWhere(
          pk,
          [...ours].filter((sk) => !named.has(sk)),
          '=',
          next.version,
        );
        return { outcome: 'stale', stored: previous };
      }

      const plan = planWrites(next, previous, now);
      if (previous && !plan.changed) {
        const committed = storedVersion(previous.call);
        await deleteWhere(pk, olderLeftovers(previous, committed), '<', committed);
        return { outcome: 'unchanged', stored: previous };
      }
      // Children first: a reader sees new content for a participant it already knew, and nothing
      // new until the commit names it. A child already holding a newer version is left alone.
      await all(
        plan.puts.map(async (item) => {
          const sk = String(item.sk);
          const wrote = await putIf(
            { ...item, version: next.version },
            'attribute_not_exists(version) OR version <= :version',
            { ':version': next.version },
          );
          if (wrote && sk.startsWith(PARTICIPANT_PREFIX)) ours.add(sk);
          return wrote;
        }),
      );
      if (await commit(plan.stored, previous)) {
        await deleteWhere(
          pk,
          [...plan.removed, ...olderLeftovers(previous, next.version)],
          '<',
          next.version,
        );
        return { outcome: previous ? 'updated' : 'created', stored: plan.stored };
      }
      if (attempt === SAVE_ATTEMPTS) {
        throw new StorageError(
          `call ${input.call.sessionId}: other runs committed first ${SAVE_ATTEMPTS} times`,
        );
      }
      // Another run committed since `previous` was read: plan again against what is there now.
      previous = await load(input.call.sessionId);
    }
  }

  /** Participant items the load of `previous` saw unnamed, older than `version`. */
  function olderLeftovers(previous: StoredCall | undefined, version: string): string[] {
    const leftovers = previous ? (leftoversOf.get(previous) ?? []) : [];
    return leftovers.filter((l) => l.version !== undefined && l.version < version).map((l) => l.sk);
  }

  /**
   * Writes the call item, which names the participants that belong to it. Conditional on the
   * call item still being the one the plan was made against (compare-and-set on its hash).
   */
  function commit(stored: StoredCall, previous: StoredCall | undefined): Promise<boolean> {
    const item = { ...stored.call, participantKeys: stored.participants.map((p) => p.sk) };
    return previous
      ? putIf(item, 'contentHash = :seen', { ':seen': previous.call.contentHash })
      : putIf(item, 'attribute_not_exists(pk)');
  }

  async function getCheckpoint(
    name: string,
  ): Promise<{ highWaterMark: number; takenAt: string } | undefined> {
    const { Item: item } = await send('reads', 'GetItem', () =>
      client.send(
        new GetCommand({
          TableName,
          Key: { pk: CHECKPOINT_PK, sk: `${CHECKPOINT_PREFIX}${name}` },
          ConsistentRead: true,
        }),
      ),
    );
    if (!item) return undefined;
    return { highWaterMark: Number(item.highWaterMark), takenAt: String(item.takenAt) };
  }

  async function putCheckpoint(name: string, highWaterMark: number, now = new Date()): Promise<boolean> {
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
    );
  }

  async function getStatuses(sessionIds: readonly string[]): Promise<Map<string, CallStatus>> {
    const statuses = new Map<string, CallStatus>();
    // A key twice in one request is a ValidationException.
    const unique = [...new Set(sessionIds)];
    for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
      let keys: Item[] = unique
        .slice(start, start + BATCH_GET_KEYS)
        .map((sessionId) => ({ pk: callPk(sessionId), sk: CALL_SK }));
      for (let attempt = 1; keys.length > 0; attempt += 1) {
        if (attempt > BATCH_GET_ATTEMPTS) {
          throw new StorageError(
            `DynamoDB BatchGetItem on table ${TableName} left ${keys.length} keys unprocessed ` +
              `after ${BATCH_GET_ATTEMPTS} attempts`,
          );
        }
        if (attempt > 1) await sleep(batchDelayMs(attempt - 1));
        const requestKeys = keys;
        const response = await send('reads', 'BatchGetItem', () =>
          client.send(
            new BatchGetCommand({
              RequestItems: {
                [TableName]: {
                  Keys: requestKeys,
                  ProjectionExpression: 'sessionId, #status',
                  ExpressionAttributeNames: { '#status': 'status' },
                },
              },
            }),
          ),
        );
        for (const item of response.Responses?.[TableName] ?? []) {
          const status = CALL_STATUSES.find((s) => s === item.status);
          if (typeof item.sessionId === 'string' && status !== undefined) {
            statuses.set(item.sessionId, status);
          }
        }
        keys = response.UnprocessedKeys?.[TableName]?.Keys ?? [];
      }
    }
    return statuses;
  }

  return { load, save, getCheckpoint, putCheckpoint, getStatuses, requestCount };
}

/** Full-jitter exponential delay before retrying unprocessed keys, as the SDK's own retries do. */
function batchDelayMs(retry: number): number {
  return Math.random() * BATCH_GET_BASE_DELAY_MS * 2 ** retry;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
