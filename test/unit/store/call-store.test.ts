import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REGION, localCredentials } from '../../../dev/local-aws.ts';
import { callPk, STATUS_RANK } from '../../../lib/calls/types.ts';
import { StorageError } from '../../../lib/errors.ts';
import type { CallStore, SaveInput, StoredCall } from '../../../lib/store/call-store.ts';
import { createCallStore } from '../../../lib/store/call-store.ts';
import { contentHash, freshnessOf, versionOf } from '../../../lib/store/call-version.ts';
import { type CallSpec, callRecords, newSessionId, T0 } from './call-records.ts';
import { type StoreTable, startStoreTable } from './store-table.ts';

const TABLE = 'call-store-unit';
const NOW = new Date('2023-11-15T08:00:00.000Z');
const LATER = new Date('2023-11-16T08:00:00.000Z');

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

/** Ringing: nobody has joined, so neither entry has a device. */
const RINGING: CallSpec = { status: 'initiated', participants: [{ uid: 'alice' }, { uid: 'bob' }] };
/** Alice and Carol joined; Bob is still ringing. Carol has already left. */
const ONGOING: CallSpec = {
  status: 'ongoing',
  startedAt: T0 + 5,
  participants: [
    { uid: 'alice', deviceId: 'a1', joinedAt: T0 + 5, state: 'ongoing' },
    { uid: 'bob' },
    { uid: 'carol', deviceId: 'c1', joinedAt: T0 + 6, leftAt: T0 + 30, state: 'ended' },
  ],
};
/** Bob joined on a device (his ringing entry is gone), Alice left, Carol is as before. */
const ENDED: CallSpec = {
  status: 'ended',
  startedAt: T0 + 5,
  endedAt: T0 + 65,
  participants: [
    { uid: 'alice', deviceId: 'a1', joinedAt: T0 + 5, leftAt: T0 + 65, state: 'ended' },
    { uid: 'bob', deviceId: 'b1', joinedAt: T0 + 10, leftAt: T0 + 65, state: 'ended' },
    { uid: 'carol', deviceId: 'c1', joinedAt: T0 + 6, leftAt: T0 + 30, state: 'ended' },
  ],
};

/** What load() should return right after `input` was committed at `at`. */
function expected(input: SaveInput, at: Date): StoredCall {
  return {
    call: {
      ...input.call,
      statusRank: STATUS_RANK[input.call.status],
      freshness: freshnessOf(input),
      contentHash: contentHash(input),
      enrichedAt: at.toISOString(),
    },
    participants: input.participants,
    recordings: input.recordings.map((r) => ({ ...r, copiedAt: at.toISOString() })),
  };
}

/** Every sk in the call's partition, read straight from the table (not through the store). */
async function partitionSks(sessionId: string): Promise<string[]> {
  const { Items = [] } = await client.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': callPk(sessionId) },
      ConsistentRead: true,
    }),
  );
  return Items.map((item) => String(item.sk));
}

function sks(input: { participants: { sk: string }[] }): string[] {
  return input.participants.map((p) => p.sk);
}

/** The writes a store sends while `act` runs. */
async function writesDuring(target: CallStore, act: () => Promise<unknown>): Promise<number> {
  const before = target.requestCount.writes;
  await act();
  return target.requestCount.writes - before;
}

describe('createCallStore', () => {
  describe('save and load', () => {
    it('creates a call and loads exactly the records it saved', async () => {
      const sessionId = newSessionId();
      const input = callRecords(sessionId, {
        ...ENDED,
        recordings: [{ rid: 'r1', startTime: T0 + 6, endTime: T0 + 60 }],
      });

      const writes = await writesDuring(store, async () => {
        const { outcome, stored } = await store.save(input, { previous: undefined, now: NOW });
        expect(outcome).toBe('created');
        expect(stored).toEqual(expected(input, NOW));
      });
      const loaded = await store.load(sessionId);

      expect(loaded).toEqual(expected(input, NOW));
      expect(writes).toBe(input.participants.length + input.recordings.length + 1);
    });

    it('returns undefined for a call it has never stored', async () => {
      const reads = store.requestCount.reads;

      const loaded = await store.load(newSessionId());

      expect(loaded).toBeUndefined();
      expect(store.requestCount.reads - reads).toBe(1);
    });

    it('writes nothing when the same call is saved again, whatever the write times', async () => {
      const sessionId = newSessionId();
      const input = callRecords(sessionId, {
        ...ENDED,
        recordings: [{ rid: 'r1', startTime: T0 + 6, endTime: T0 + 60 }],
      });
      await store.save(input, { previous: undefined, now: NOW });
      const previous = await store.load(sessionId);
      const again = callRecords(sessionId, {
        ...ENDED,
        recordings: [{ rid: 'r1', startTime: T0 + 6, endTime: T0 + 60, copiedAt: LATER.toISOString() }],
      });
      const requests = { ...store.requestCount };

      const { outcome, stored } = await store.save(again, { previous, now: LATER });

      expect(outcome).toBe('unchanged');
      expect(store.requestCount).toEqual(requests);
      expect(stored).toEqual(expected(input, NOW));
      expect(await store.load(sessionId)).toEqual(expected(input, NOW));
    });

    it('refuses records that belong to another call', async () => {
      const input = callRecords(newSessionId(), ENDED);
      const stray = callRecords(newSessionId(), ENDED).participants[0];
      if (!stray) throw new Error('fixture has no participants');

      const saving = store.save(
        { ...input, participants: [...input.participants, stray] },
        { previous: undefined },
      );

      await expect(saving).rejects.toThrow(TypeError);
      expect(await partitionSks(input.call.sessionId)).toEqual([]);
    });
  });

  describe('versions', () => {
    it('moves an ongoing call to ended, writing only what changed and deleting the dropped entry', async () => {
      const sessionId = newSessionId();
      const ongoing = callRecords(sessionId, ONGOING);
      const ended = callRecords(sessionId, ENDED);
      await store.save(ongoing, { previous: undefined, now: NOW });
      const previous = await store.load(sessionId);

      let outcome: string | undefined;
      const writes = await writesDuring(store, async () => {
        ({ outcome } = await store.save(ended, { previous, now: LATER }));
      });

      expect(outcome).toBe('updated');
      expect(await store.load(sessionId)).toEqual(expected(ended, LATER));
      expect(await partitionSks(sessionId)).toEqual(['CALL', ...sks(ended)].sort());
      // alice (left), bob#b1 (new), the call item, and the delete of bob#-; carol is unchanged.
      expect(writes).toBe(4);
    });

    it('takes a response with the same status and a later time', async () => {
      const sessionId = newSessionId();
      const early = callRecords(sessionId, ONGOING);
      const later = callRecords(sessionId, {
        ...ONGOING,
        participants: [...ONGOING.participants, { uid: 'dave', deviceId: 'd1', joinedAt: T0 + 40 }],
      });
      await store.save(early, { previous: undefined, now: NOW });

      const { outcome } = await store.save(later, { previous: await store.load(sessionId), now: LATER });

      expect(outcome).toBe('updated');
      expect(await store.load(sessionId)).toEqual(expected(later, LATER));
    });

    it('ignores an ongoing response that arrives after the ended one, participants included', async () => {
      const sessionId = newSessionId();
      const ended = callRecords(sessionId, ENDED);
      await store.save(ended, { previous: undefined, now: NOW });
      const previous = await store.load(sessionId);

      let result: { outcome: string; stored: StoredCall } | undefined;
      const writes = await writesDuring(store, async () => {
        result = await store.save(callRecords(sessionId, ONGOING), { previous, now: LATER });
      });

      expect(result?.outcome).toBe('stale');
      expect(result?.stored).toEqual(expected(ended, NOW));
      expect(writes).toBe(0);
      expect(await store.load(sessionId)).toEqual(expected(ended, NOW));
      expect(await partitionSks(sessionId)).toEqual(['CALL', ...sks(ended)].sort());
    });

    it('ignores an older response even when the caller did not load first, and removes what it wrote', async () => {
      const sessionId = newSessionId();
      const ended = callRecords(sessionId, ENDED);
      await store.save(ended, { previous: undefined, now: NOW });

      const { outcome, stored } = await store.save(callRecords(sessionId, ONGOING), {
        previous: undefined,
        now: LATER,
      });

      expect(outcome).toBe('stale');
      expect(stored).toEqual(expected(ended, NOW));
      expect(await store.load(sessionId)).toEqual(expected(ended, NOW));
      // The stale run wrote bob's ringing entry before its commit failed; it must not linger.
      expect(await partitionSks(sessionId)).toEqual(['CALL', ...sks(ended)].sort());
    });

    it('prefers the response that lists a recording over one fetched before the recording existed', async () => {
      const sessionId = newSessionId();
      const bare = callRecords(sessionId, ENDED);
      const recorded = callRecords(sessionId, {
        ...ENDED,
        recordings: [{ rid: 'r1', startTime: T0 + 6, endTime: T0 + 60 }],
      });
      expect(freshnessOf(recorded)).toBe(freshnessOf(bare));
      await store.save(bare, { previous: undefined, now: NOW });

      const first = await store.save(recorded, { previous: await store.load(sessionId), now: LATER });
      const second = await store.save(bare, { previous: await store.load(sessionId), now: LATER });

      expect(first.outcome).toBe('updated');
      expect(second.outcome).toBe('stale');
      expect(await store.load(sessionId)).toEqual(expected(recorded, LATER));
    });

    it('keeps a stored recording that a later response leaves out, and its first copiedAt', async () => {
      const sessionId = newSessionId();
      const r1 = { rid: 'r1', startTime: T0 + 6, endTime: T0 + 30 };
      const r2 = { rid: 'r2', startTime: T0 + 31, endTime: T0 + 60 };
      const first = callRecords(sessionId, { ...ENDED, recordings: [r1] });
      const second = callRecords(sessionId, { ...ENDED, recordings: [r1, r2] });
      const third = callRecords(sessionId, { ...ENDED, recordings: [r2], recordingCount: 2 });
      await store.save(first, { previous: undefined, now: NOW });
      await store.save(second, { previous: await store.load(sessionId), now: LATER });

      const { outcome } = await store.save(third, { previous: await store.load(sessionId), now: LATER });
      const loaded = await store.load(sessionId);

      expect(outcome).toBe('updated');
      expect(loaded?.recordings.map((r) => [r.rid, r.copiedAt])).toEqual([
        ['r1', NOW.toISOString()],
        ['r2', LATER.toISOString()],
      ]);
      expect(loaded?.call.contentHash).toBe(contentHash(third));
    });

    it('plans against the stored call when the caller passes an out-of-date previous', async () => {
      const sessionId = newSessionId();
      const alice = (totalAudioMinutes: number) => ({
        uid: 'alice',
        deviceId: 'a1',
        joinedAt: T0 + 5,
        totalAudioMinutes,
      });
      const v0 = callRecords(sessionId, { status: 'ongoing', startedAt: T0 + 5, participants: [alice(1)] });
      const v1 = callRecords(sessionId, {
        status: 'ongoing',
        startedAt: T0 + 5,
        participants: [alice(2), { uid: 'erin', deviceId: 'e1', joinedAt: T0 + 20 }],
      });
      // Newer than both, with Alice's entry as v0 had it: planned against v0 it would look unchanged.
      const v2 = callRecords(sessionId, {
        status: 'ended',
        startedAt: T0 + 5,
        endedAt: T0 + 90,
        participants: [alice(1)],
      });
      await store.save(v0, { previous: undefined, now: NOW });
      const outdated = await store.load(sessionId);
      await store.save(v1, { previous: outdated, now: NOW });

      const { outcome } = await store.save(v2, { previous: outdated, now: LATER });

      expect(outcome).toBe('updated');
      expect(await store.load(sessionId)).toEqual(expected(v2, LATER));
      expect(await partitionSks(sessionId)).toEqual(['CALL', ...sks(v2)].sort());
    });
  });

  describe('concurrency', () => {
    const versions: CallSpec[] = [RINGING, ONGOING, ENDED];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];

    it('ends with the newest version and exactly its participants, in every order of concurrent saves', async () => {
      for (let round = 0; round < 3; round += 1) {
        for (const order of orders) {
          const sessionId = newSessionId();
          const ended = callRecords(sessionId, ENDED);
          // Separate stores, as separate Lambda containers would have.
          const saves = order.map((i) =>
            createCallStore({ tableName: TABLE, client }).save(
              callRecords(sessionId, versions[i] as CallSpec),
              {
                previous: undefined,
                now: NOW,
              },
            ),
          );

          const outcomes = (await Promise.all(saves)).map((r) => r.outcome);
          const loaded = await store.load(sessionId);

          expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
          expect(loaded?.call).toMatchObject(ended.call);
          expect(loaded?.participants).toEqual(ended.participants);
          expect(await partitionSks(sessionId)).toEqual(['CALL', ...sks(ended)].sort());
        }
      }
    });

    it('ends with the newer version when two runs start from the same stored call', async () => {
      for (let round = 0; round < 5; round += 1) {
        for (const [first, second] of [
          [ONGOING, ENDED],
          [ENDED, ONGOING],
        ] as const) {
          const sessionId = newSessionId();
          const ended = callRecords(sessionId, ENDED);
          await store.save(callRecords(sessionId, RINGING), { previous: undefined, now: NOW });
          const previous = await store.load(sessionId);

          await Promise.all([
            createCallStore({ tableName: TABLE, client }).save(callRecords(sessionId, first), { previous }),
            createCallStore({ tableName: TABLE, client }).save(callRecords(sessionId, second), { previous }),
          ]);
          const loaded = await store.load(sessionId);

          expect(loaded?.call).toMatchObject(ended.call);
          expect(loaded?.participants).toEqual(ended.participants);
          expect(await partitionSks(sessionId)).toEqual(['CALL', ...sks(ended)].sort());
        }
      }
    });

    it('never shows a reader a call item without exactly its participants while a newer version is written', async () => {
      const byStatus = new Map<string, string[]>();
      let observations = 0;
      for (let round = 0; round < 5; round += 1) {
        const sessionId = newSessionId();
        const ongoing = callRecords(sessionId, ONGOING);
        const ended = callRecords(sessionId, ENDED);
        byStatus.set('ongoing', sks(ongoing));
        byStatus.set('ended', sks(ended));
        await store.save(ongoing, { previous: undefined });
        const previous = await store.load(sessionId);
        let done = false;
        const reader = async () => {
          const seen: StoredCall[] = [];
          const own = createCallStore({ tableName: TABLE, client });
          while (!done) {
            const loaded = await own.load(sessionId);
            if (loaded) seen.push(loaded);
          }
          return seen;
        };
        const readers = [reader(), reader(), reader()];

        await store.save(ended, { previous });
        done = true;
        const seen = (await Promise.all(readers)).flat();

        for (const loaded of seen) {
          expect(loaded.participants.map((p) => p.sk)).toEqual(byStatus.get(loaded.call.status));
          expect(loaded.participants).toHaveLength(loaded.call.totalParticipants ?? -1);
        }
        observations += seen.length;
      }
      expect(observations).toBeGreaterThanOrEqual(15);
    });
  });

  describe('repair', () => {
    it('loads what is there when the call item names a participant that is missing, and the next save restores it', async () => {
      const sessionId = newSessionId();
      const ended = callRecords(sessionId, ENDED);
      await store.save(ended, { previous: undefined, now: NOW });
      const [gone] = sks(ended);
      await client.send(new DeleteCommand({ TableName: TABLE, Key: { pk: callPk(sessionId), sk: gone } }));
      const reads = store.requestCount.reads;

      const damaged = await store.load(sessionId);
      const { outcome } = await store.save(ended, { previous: damaged, now: LATER });

      expect(store.requestCount.reads - reads).toBe(3);
      expect(sks(damaged ?? { participants: [] })).toEqual(sks(ended).slice(1));
      expect(outcome).toBe('updated');
      expect(await store.load(sessionId)).toEqual(expected(ended, LATER));
    });

    it('hides a participant item the call item does not name, and deletes it once it is older', async () => {
      const sessionId = newSessionId();
      const ended = callRecords(sessionId, ENDED);
      await store.save(ended, { previous: undefined, now: NOW });
      const leftover = callRecords(sessionId, ONGOING).participants.find((p) => p.uid === 'bob');
      await client.send(
        new PutCommand({
          TableName: TABLE,
          Item: { ...leftover, version: versionOf(callRecords(sessionId, ONGOING)) },
        }),
      );

      const loaded = await store.load(sessionId);
      const { outcome } = await store.save(ended, { previous: loaded, now: LATER });

      expect(loaded).toEqual(expected(ended, NOW));
      expect(outcome).toBe('unchanged');
      expect(await partitionSks(sessionId)).toEqual(['CALL', ...sks(ended)].sort());
    });
  });

  it('saves and loads a call with 50 participants', async () => {
    const sessionId = newSessionId();
    const participants = Array.from({ length: 50 }, (_, i) => ({
      uid: `user${String(i).padStart(2, '0')}`,
      deviceId: `d${i}`,
      joinedAt: T0 + 5 + i,
    }));
    const ongoing = callRecords(sessionId, { status: 'ongoing', startedAt: T0 + 5, participants });
    const ended = callRecords(sessionId, {
      status: 'ended',
      startedAt: T0 + 5,
      endedAt: T0 + 600,
      participants: participants.map((p) => ({ ...p, leftAt: T0 + 600 })),
    });

    const created = await store.save(ongoing, { previous: undefined, now: NOW });
    const updated = await store.save(ended, { previous: await store.load(sessionId), now: LATER });

    expect([created.outcome, updated.outcome]).toEqual(['created', 'updated']);
    expect(await store.load(sessionId)).toEqual(expected(ended, LATER));
  });

  describe('indexes', () => {
    it('lets a user’s calls be queried in time order (byUser) and a UTC day’s calls (byDay)', async () => {
      const uid = `gsi-${newSessionId()}`;
      const day = Date.UTC(2030, 0, 2) / 1000;
      const spec = (at: number): CallSpec => ({
        status: 'ended',
        initiatedAt: at,
        startedAt: at + 1,
        endedAt: at + 60,
        participants: [{ uid, deviceId: 'x', joinedAt: at + 1, leftAt: at + 60 }],
      });
      const late = callRecords(newSessionId(), spec(day + 7200));
      const early = callRecords(newSessionId(), spec(day + 60));
      const nextDay = callRecords(newSessionId(), spec(day + 86_400 + 60));
      for (const input of [late, early, nextDay]) await store.save(input, { previous: undefined });

      const byUser = await client.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: 'byUser',
          KeyConditionExpression: 'gsi1pk = :u',
          ExpressionAttributeValues: { ':u': `USER#${uid}` },
        }),
      );
      const byDay = await client.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: 'byDay',
          KeyConditionExpression: 'gsi2pk = :d',
          ExpressionAttributeValues: { ':d': 'DAY#2030-01-02' },
        }),
      );

      expect(byUser.Items?.map((i) => [i.entity, i.sessionId])).toEqual(
        [early, late, nextDay].map((c) => ['participant', c.call.sessionId]),
      );
      expect(byDay.Items?.map((i) => [i.entity, i.sessionId, i.status])).toEqual(
        [early, late].map((c) => ['call', c.call.sessionId, 'ended']),
      );
    });
  });

  describe('checkpoints', () => {
    it('moves a checkpoint forward only', async () => {
      const name = `list-${newSessionId()}`;
      const absent = await store.getCheckpoint(name);

      const moves = [
        await store.putCheckpoint(name, 100, NOW),
        await store.putCheckpoint(name, 50, LATER),
        await store.putCheckpoint(name, 100, LATER),
      ];
      const atHundred = await store.getCheckpoint(name);
      const forward = await store.putCheckpoint(name, 200, LATER);

      expect(absent).toBeUndefined();
      expect(moves).toEqual([true, false, false]);
      expect(atHundred).toEqual({ highWaterMark: 100, takenAt: NOW.toISOString() });
      expect(forward).toBe(true);
      expect(await store.getCheckpoint(name)).toEqual({ highWaterMark: 200, takenAt: LATER.toISOString() });
    });

    it('keeps checkpoints of different names apart', async () => {
      const a = `a-${newSessionId()}`;
      const b = `b-${newSessionId()}`;

      await store.putCheckpoint(a, 300, NOW);

      expect(await store.getCheckpoint(b)).toBeUndefined();
      expect(await store.putCheckpoint(b, 10, NOW)).toBe(true);
    });
  });

  describe('failures', () => {
    it('turns a DynamoDB failure into a StorageError with the cause', async () => {
      const server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const closed = new DynamoDBClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: LOCAL_REGION,
        credentials: localCredentials(),
        maxAttempts: 1,
      });
      const broken = createCallStore({ tableName: TABLE, client: DynamoDBDocumentClient.from(closed) });
      const input = callRecords(newSessionId(), ENDED);

      const failures = await Promise.all([
        broken.load(input.call.sessionId).catch((e: unknown) => e),
        broken.save(input, { previous: undefined }).catch((e: unknown) => e),
        broken.putCheckpoint('x', 1).catch((e: unknown) => e),
        broken.getCheckpoint('x').catch((e: unknown) => e),
      ]);
      closed.destroy();

      for (const failure of failures) {
        expect(failure).toBeInstanceOf(StorageError);
        expect((failure as StorageError).name).toBe('StorageError');
        expect((failure as StorageError).retryable).toBe(true);
        expect((failure as StorageError).cause).toBeInstanceOf(Error);
      }
    });

    it('turns a missing table into a StorageError', async () => {
      const missing = createCallStore({ tableName: 'no-such-table', client });

      const failure = await missing.load(newSessionId()).catch((e: unknown) => e);

      expect(failure).toBeInstanceOf(StorageError);
      expect((failure as StorageError).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });
});
