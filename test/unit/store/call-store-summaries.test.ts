import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallStatus } from '../../../lib/calls/types.ts';
import { StorageError } from '../../../lib/errors.ts';
import { type CallStore, createCallStore } from '../../../lib/store/call-store.ts';
import { callDraft, newSessionId } from './call-records.ts';
import { type StoreTable, startStoreTable } from './store-table.ts';

const TABLE = 'call-store-summaries';

let table: StoreTable;
let client: DynamoDBDocumentClient;
let store: CallStore;

beforeAll(async () => {
  table = await startStoreTable(TABLE);
  ({ client, store } = table);
});

afterAll(async () => {
  await table?.close();
});

/** Saves one call per status and returns the session ids in the same order. */
async function saveCalls(statuses: readonly CallStatus[]): Promise<string[]> {
  const ids = statuses.map(() => newSessionId());
  await Promise.all(
    ids.map((id, i) =>
      store.save(
        callDraft(id, {
          status: statuses[i] as CallStatus,
          participants: [{ uid: 'alice' }],
          recordings: Array.from({ length: i % 3 }, (_, r) => ({ rid: `r${r}` })),
        }),
        { previous: undefined },
      ),
    ),
  );
  return ids;
}

/**
 * A document client that answers the first `throttled` BatchGetItem requests with only half of
 * their keys processed (or none), as DynamoDB does under throttling.
 */
function throttlingClient(
  throttled: number,
  keep: 'half' | 'none' = 'half',
): { client: DynamoDBDocumentClient; requests: number[] } {
  const requests: number[] = [];
  let left = throttled;
  const send = async (command: unknown) => {
    if (!(command instanceof BatchGetCommand)) return client.send(command as never);
    const table = command.input.RequestItems?.[TABLE];
    const keys = table?.Keys ?? [];
    requests.push(keys.length);
    if (left <= 0) return client.send(command);
    left -= 1;
    const half = keep === 'half' ? Math.ceil(keys.length / 2) : 0;
    const answer = await client.send(
      new BatchGetCommand({ RequestItems: { [TABLE]: { ...table, Keys: keys.slice(0, half) } } }),
    );
    return { ...answer, UnprocessedKeys: { [TABLE]: { ...table, Keys: keys.slice(half) } } };
  };
  return { client: { send } as unknown as DynamoDBDocumentClient, requests };
}

describe('createCallStore().getSummaries', () => {
  it('returns the status and file counts of each stored call and leaves unknown calls out', async () => {
    const ids = await saveCalls(['ended', 'ongoing', 'initiated', 'cancelled']);
    const unknown = newSessionId();

    const summaries = await store.getSummaries([...ids, unknown]);

    expect(summaries).toEqual(
      new Map([
        [ids[0], { status: 'ended', recordings: 0, transcripts: 0 }],
        [ids[1], { status: 'ongoing', recordings: 1, transcripts: 0 }],
        [ids[2], { status: 'initiated', recordings: 2, transcripts: 0 }],
        [ids[3], { status: 'cancelled', recordings: 0, transcripts: 0 }],
      ]),
    );
  });

  it('asks with a projection, so participants are not sent back', async () => {
    const ids = await saveCalls(['ended']);
    const seen: unknown[] = [];
    const spying = {
      send: (command: BatchGetCommand) => {
        seen.push(command.input.RequestItems?.[TABLE]?.ProjectionExpression);
        return client.send(command);
      },
    } as unknown as DynamoDBDocumentClient;

    await createCallStore({ tableName: TABLE, client: spying }).getSummaries(ids);

    expect(seen).toEqual(['sessionId, #status, recordings, transcripts']);
  });

  it('asks in chunks of 100 keys and sends a repeated id only once, over 250 ids', async () => {
    const stored = await saveCalls(Array.from({ length: 120 }, (_, i) => (i % 2 ? 'ended' : 'ongoing')));
    const ids = [...stored, ...stored.slice(0, 10), ...Array.from({ length: 130 }, () => newSessionId())];
    const counting = throttlingClient(0);
    const counted = createCallStore({ tableName: TABLE, client: counting.client });

    const statuses = await counted.getSummaries(ids);

    expect(counting.requests).toEqual([100, 100, 50]);
    expect(statuses.size).toBe(120);
    expect([...statuses.keys()].sort()).toEqual([...stored].sort());
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    const ids = await saveCalls(['ended', 'busy', 'rejected', 'ongoing', 'unanswered', 'missed']);
    const throttling = throttlingClient(2);
    const throttled = createCallStore({ tableName: TABLE, client: throttling.client });

    const statuses = await throttled.getSummaries(ids);

    expect(throttling.requests).toEqual([6, 3, 1]);
    expect(statuses.size).toBe(6);
  });

  it('fails with a StorageError when keys stay unprocessed', async () => {
    const ids = await saveCalls(['ended', 'ended']);
    const throttled = createCallStore({ tableName: TABLE, client: throttlingClient(100, 'none').client });

    await expect(throttled.getSummaries(ids)).rejects.toBeInstanceOf(StorageError);
  });

  it('sends nothing for an empty list', async () => {
    const counting = throttlingClient(0);

    const statuses = await createCallStore({ tableName: TABLE, client: counting.client }).getSummaries([]);

    expect(statuses.size).toBe(0);
    expect(counting.requests).toEqual([]);
  });
});
