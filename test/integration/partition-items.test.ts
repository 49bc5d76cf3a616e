/**
 * partitionItems, the one Query pager the archive's listings and erasure share, on dynalite
 * behind a counting proxy: every page read, a stop part way sends no further request, projection
 * and sort-key range honoured, and the table's own partitions read as well as an index's.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureTable, type LocalService, localClients, startDynalite } from '../../dev/local-aws.ts';
import { byUserPartition, partitionItems } from '../../lib/archive/find.ts';
import { createDocumentClient } from '../../lib/aws/dynamodb.ts';
import { type CountingProxy, startCountingProxy } from '../support/counting-proxy.ts';

const TABLE = 'partition-items-test';
const CALLS = 250;
// 2026-01-01T00:00:00Z
const T0 = 1_767_225_600;
let dynalite: LocalService;
let proxy: CountingProxy;
let documents: DynamoDBDocumentClient;
let destroy: () => void;
const deps = () => ({ client: documents, tableName: TABLE });
const iso = (i: number) => new Date((T0 + i * 60) * 1000).toISOString();

beforeAll(async () => {
  dynalite = await startDynalite();
  proxy = await startCountingProxy(dynalite.endpoint);
  const clients = localClients({ dynamodb: proxy.endpoint, s3: 'http://127.0.0.1:1' });
  destroy = () => {
    clients.dynamodb.destroy();
    clients.s3.destroy();
  };
  await ensureTable(clients.dynamodb, TABLE);
  documents = createDocumentClient(clients.dynamodb);
  // One user's index items in CALLS calls, the user on two devices in call 0.
  const items = Array.from({ length: CALLS }, (_, i) => ({
    pk: `CALL#s${i}`,
    sk: 'PARTICIPANT#pat#-',
    entity: 'participant',
    sessionId: `s${i}`,
    uid: 'pat',
    gsi1pk: 'USER#pat',
    gsi1sk: `${iso(i)}#s${i}`,
  }));
  items.push({ ...items[0], sk: 'PARTICIPANT#pat#phone' } as (typeof items)[number]);
  for (let start = 0; start < items.length; start += 25) {
    const batch = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    await documents.send(new BatchWriteCommand({ RequestItems: { [TABLE]: batch } }));
  }
}, 60_000);

beforeEach(() => proxy.reset());

afterAll(async () => {
  destroy?.();
  await proxy?.close();
  await dynalite?.close();
});

describe('partitionItems', () => {
  it('reads every page of an index partition, with only the attributes asked for', async () => {
    const items = [];
    for await (const item of partitionItems(deps(), byUserPartition('pat'), {
      attributes: ['sessionId'],
      pageSize: 100,
    })) {
      items.push(item);
    }

    expect(items).toHaveLength(CALLS + 1);
    expect(new Set(items.map((i) => i.sessionId)).size).toBe(CALLS);
    expect(items.every((i) => Object.keys(i).join() === 'sessionId')).toBe(true);
    expect(proxy.count('Query')).toBe(3);
  });

  it('sends no further Query once the reader stops', async () => {
    const seen: unknown[] = [];
    for await (const item of partitionItems(deps(), byUserPartition('pat'), {
      pageSize: 10,
      newestFirst: true,
    })) {
      seen.push(item.sessionId);
      if (seen.length === 5) break;
    }

    expect(seen).toEqual(['s249', 's248', 's247', 's246', 's245']);
    expect(proxy.count('Query')).toBe(1);
  });

  it('keeps to a sort-key range, both ends included', async () => {
    const items = [];
    const range = [iso(10), `${iso(12)}~`] as const;
    for await (const item of partitionItems(deps(), byUserPartition('pat'), { range }))
      items.push(item.sessionId);

    expect(items).toEqual(['s10', 's11', 's12']);
  });

  it('reads a partition of the table itself, strongly consistent', async () => {
    const items = [];
    for await (const item of partitionItems(
      deps(),
      { pk: 'pk', sk: 'sk', value: 'CALL#s0' },
      { attributes: ['pk', 'sk'], consistent: true },
    )) {
      items.push(item);
    }

    expect(items).toEqual([
      { pk: 'CALL#s0', sk: 'PARTICIPANT#pat#-' },
      { pk: 'CALL#s0', sk: 'PARTICIPANT#pat#phone' },
    ]);
  });

  it('finds nobody’s calls for a user with no index items', async () => {
    const items = [];
    for await (const item of partitionItems(deps(), byUserPartition('nobody'))) items.push(item);

    expect(items).toEqual([]);
    expect(proxy.count('Query')).toBe(1);
  });
});
