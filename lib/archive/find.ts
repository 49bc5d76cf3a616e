/**
 * Finding calls: a user's calls through the `byUser` index, a day's (or days') calls through
 * `byDay`, newest first, a page at a time, with the total the query matches. Read-only.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandOutput,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { type CallItem, callPk } from '../calls/types.ts';
import { StorageError } from '../errors.ts';

/** One call in a listing: what a person picks a call by. */
export interface CallRow {
  sessionId: string;
  initiatedAt?: number;
  status?: string;
  type?: string;
  durationSeconds?: number;
  participants: number;
  recordings: number;
  transcripts: number;
  held: boolean;
}

/** A page of calls, newest first. `next` (opaque) asks for the following page; absent on the last. */
export interface CallPage {
  calls: CallRow[];
  total: number;
  next?: string;
}

/** Where and how much to list. */
export interface PageOptions {
  /** Calls per page (1 to 1000, default 50). */
  limit?: number;
  /** A `next` from the previous page. */
  cursor?: string;
  signal?: AbortSignal;
}

/** The table to read. */
export interface FindDependencies {
  client: DynamoDBDocumentClient;
  tableName: string;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const MAX_DAYS = 366;
/** Above every ISO time and session id that may follow it in a sort key ('#' < '~'). */
const HIGH = '~';
/** Below every ISO time (sort-key values must not be empty). */
const LOW = '0';

type Item = Record<string, unknown>;

async function send<T>(deps: FindDependencies, operation: string, command: unknown, signal?: AbortSignal) {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: one path for every command type
    return (await deps.client.send(command as any, { abortSignal: signal })) as T;
  } catch (cause) {
    throw new StorageError(`DynamoDB ${operation} on table ${deps.tableName} failed`, { cause });
  }
}

function limitOf(limit: number | undefined): number {
  const n = limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new RangeError(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

/** The cursor is the sort key of the last call shown: the next page starts below it. */
function encodeCursor(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const sortKey = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T/.test(sortKey)) throw new RangeError('not a cursor this listing gave');
  return sortKey;
}

/** Sort-key bounds of `[from, to]` (Unix seconds), both ends included. */
function bounds(from: number | undefined, to: number | undefined): [string, string] {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  const low = from === undefined ? LOW : iso(from);
  const high = to === undefined ? HIGH : `${iso(to)}${HIGH}`;
  if (low > high) throw new RangeError('from is after to');
  return [low, high];
}

/** One partition to read: of the table (no `index`) or of one of its indexes, by its key names. */
export interface Partition {
  index?: string;
  pk: string;
  sk: string;
  value: string;
}

/** How to read a partition. */
export interface PartitionReadOptions {
  /** Sort keys from, to (both included); the whole partition when absent. */
  range?: readonly [string, string];
  /** Only these attributes of each item; all of them when absent. */
  attributes?: readonly string[];
  newestFirst?: boolean;
  /** Items per Query request; DynamoDB's 1 MB page when absent. */
  pageSize?: number;
  /** Strongly consistent (the table only: indexes cannot). */
  consistent?: boolean;
  signal?: AbortSignal;
}

/** A user's partition of the `byUser` index: one item per call (and device) they took part in. */
export function byUserPartition(uid: string): Partition {
  return { index: 'byUser', pk: 'gsi1pk', sk: 'gsi1sk', value: `USER#${uid}` };
}

/**
 * The items of one partition, a Query page at a time and lazily: a reader that stops early sends
 * no further request. Listing, counting and erasure (a user's calls, a call's items) all read
 * partitions this way. Throws `StorageError` with DynamoDB's error as cause.
 */
export async function* partitionItems(
  deps: FindDependencies,
  partition: Partition,
  options: PartitionReadOptions = {},
): AsyncGenerator<Item> {
  // Only names the request uses: DynamoDB refuses unused ones.
  const names: Record<string, string> = { '#pk': partition.pk };
  const values: Item = { ':pk': partition.value };
  let condition = '#pk = :pk';
  if (options.range) {
    names['#sk'] = partition.sk;
    [values[':low'], values[':high']] = options.range;
    condition += ' AND #sk BETWEEN :low AND :high';
  }
  const projection = options.attributes
    ?.map((name, i) => {
      names[`#a${i}`] = name;
      return `#a${i}`;
    })
    .join(', ');
  let ExclusiveStartKey: Item | undefined;
  do {
    const page = await send<QueryCommandOutput>(
      deps,
      'Query',
      new QueryCommand({
        TableName: deps.tableName,
        ...(partition.index !== undefined && { IndexName: partition.index }),
        KeyConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ...(projection && { ProjectionExpression: projection }),
        ...(options.newestFirst && { ScanIndexForward: false }),
        ...(options.pageSize !== undefined && { Limit: options.pageSize }),
        ...(options.consistent && { ConsistentRead: true }),
        ExclusiveStartKey,
      }),
      options.signal,
    );
    yield* page.Items ?? [];
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

/**
 * Walks one index partition newest first between `low` and `high` (inclusive), below `below`
 * when given, and yields each distinct sort key's first item until `want` are found.
 */
async function walk(
  deps: FindDependencies,
  index: Partition,
  [low, high]: [string, string],
  want: number,
  below: string | undefined,
  signal?: AbortSignal,
): Promise<Item[]> {
  const found: Item[] = [];
  let last = below;
  const top = below !== undefined && below < high ? below : high;
  if (top < low) return found;
  for await (const item of partitionItems(deps, index, { range: [low, top], newestFirst: true, signal })) {
    const sk = String(item[index.sk]);
    // A user on two devices has two index items with the same sort key: one call.
    if (sk === last) continue;
    last = sk;
    found.push(item);
    if (found.length === want) return found;
  }
  return found;
}

/** How many distinct calls a partition holds between `low` and `high`: the sort keys alone, every page. */
async function countCalls(
  deps: FindDependencies,
  index: Partition,
  range: [string, string],
  signal?: AbortSignal,
): Promise<number> {
  const keys = new Set<string>();
  for await (const item of partitionItems(deps, index, { range, attributes: [index.sk], signal })) {
    keys.add(String(item[index.sk]));
  }
  return keys.size;
}

/** A listing row from a call item. */
export function rowOf(call: Item): CallRow {
  const count = (value: unknown) => (Array.isArray(value) ? value.length : 0);
  const row: CallRow = {
    sessionId: String(call.sessionId),
    participants: count(call.participants),
    recordings: count(call.recordings),
    transcripts: count(call.transcripts),
    held: call.held === true,
  };
  if (typeof call.initiatedAt === 'number') row.initiatedAt = call.initiatedAt;
  if (typeof call.status === 'string') row.status = call.status;
  if (typeof call.type === 'string') row.type = call.type;
  if (typeof call.durationSeconds === 'number') row.durationSeconds = call.durationSeconds;
  return row;
}

/** The call items of `sessionIds` (BatchGetItem, 100 a request), in the order given. */
async function callItemsOf(
  deps: FindDependencies,
  sessionIds: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  for (let start = 0; start < sessionIds.length; start += 100) {
    let keys: Item[] = sessionIds.slice(start, start + 100).map((id) => ({ pk: callPk(id), sk: 'CALL' }));
    for (let attempt = 0; keys.length > 0; attempt += 1) {
      if (attempt === 6)
        throw new StorageError(`DynamoDB BatchGetItem on ${deps.tableName} left keys unread`);
      const response = await send<BatchGetCommandOutput>(
        deps,
        'BatchGetItem',
        new BatchGetCommand({ RequestItems: { [deps.tableName]: { Keys: keys } } }),
        signal,
      );
      for (const item of response.Responses?.[deps.tableName] ?? []) found.set(String(item.sessionId), item);
      keys = response.UnprocessedKeys?.[deps.tableName]?.Keys ?? [];
    }
  }
  return found;
}

/**
 * A user's calls (every call with a participant entry of `uid`), newest first, initiated within
 * `[from, to]` (Unix seconds) when given. Throws `RangeError` for a bad limit, range or cursor.
 */
export async function listByUser(
  deps: FindDependencies,
  query: { uid: string; from?: number; to?: number },
  options: PageOptions = {},
): Promise<CallPage> {
  const limit = limitOf(options.limit);
  const range = bounds(query.from, query.to);
  const index = byUserPartition(query.uid);
  const { signal } = options;
  const [items, total] = await Promise.all([
    walk(deps, index, range, limit + 1, decodeCursor(options.cursor), signal),
    countCalls(deps, index, range, signal),
  ]);
  const shown = items.slice(0, limit);
  const calls = await callItemsOf(
    deps,
    shown.map((item) => String(item.sessionId)),
    signal,
  );
  // An index item may briefly outlive its call (deleted meanwhile): the call item is the truth.
  const rows = shown.flatMap((item) => {
    const call = calls.get(String(item.sessionId));
    return call ? [rowOf(call)] : [];
  });
  const last = shown.at(-1);
  return {
    calls: rows,
    total,
    ...(items.length > limit && last && { next: encodeCursor(String(last.gsi1sk)) }),
  };
}

/** `YYYY-MM-DD` of Unix milliseconds. */
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Every day from `fromDay` to `toDay` (YYYY-MM-DD, both included), newest first. */
function daysBetween(fromDay: string, toDay: string): string[] {
  const parse = (day: string) => {
    const ms = Date.parse(`${day}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !Number.isFinite(ms) || dayOf(ms) !== day) {
      throw new RangeError(`"${day}" is not a day (YYYY-MM-DD)`);
    }
    return ms;
  };
  const first = parse(fromDay);
  const last = parse(toDay);
  if (first > last) throw new RangeError(`${fromDay} is after ${toDay}`);
  const days: string[] = [];
  for (let ms = last; ms >= first; ms -= 86_400_000) days.push(dayOf(ms));
  if (days.length > MAX_DAYS) throw new RangeError(`at most ${MAX_DAYS} days at a time`);
  return days;
}

/** The calls initiated on the UTC days `fromDay` to `toDay` (YYYY-MM-DD, both included), newest first. */
export async function listByDay(
  deps: FindDependencies,
  query: { fromDay: string; toDay?: string },
  options: PageOptions = {},
): Promise<CallPage> {
  const limit = limitOf(options.limit);
  const { signal } = options;
  const days = daysBetween(query.fromDay, query.toDay ?? query.fromDay);
  const cursor = decodeCursor(options.cursor);
  const indexOf = (day: string): Partition => ({
    index: 'byDay',
    pk: 'gsi2pk',
    sk: 'gsi2sk',
    value: `DAY#${day}`,
  });
  const counting = Promise.all(days.map((day) => countCalls(deps, indexOf(day), [LOW, HIGH], signal)));
  const items: Item[] = [];
  for (const day of days) {
    // The cursor's own day goes on below it; later days are done, earlier ones start at the top.
    if (cursor !== undefined && day > cursor.slice(0, 10)) continue;
    const below = cursor !== undefined && day === cursor.slice(0, 10) ? cursor : undefined;
    items.push(...(await walk(deps, indexOf(day), [LOW, HIGH], limit + 1 - items.length, below, signal)));
    if (items.length > limit) break;
  }
  const total = (await counting).reduce((sum, n) => sum + n, 0);
  const shown = items.slice(0, limit);
  const last = shown.at(-1);
  return {
    calls: shown.map(rowOf),
    total,
    ...(items.length > limit && last && { next: encodeCursor(String(last.gsi2sk)) }),
  };
}

/** The call item of `sessionId` as stored (strongly consistent), or undefined. */
export async function getCall(
  deps: FindDependencies,
  sessionId: string,
  options: { signal?: AbortSignal } = {},
): Promise<CallItem | undefined> {
  const { Item } = await send<GetCommandOutput>(
    deps,
    'GetItem',
    new GetCommand({
      TableName: deps.tableName,
      Key: { pk: callPk(sessionId), sk: 'CALL' },
      ConsistentRead: true,
    }),
    options.signal,
  );
  return Item as CallItem | undefined;
}
