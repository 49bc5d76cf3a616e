import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REGION, localCredentials } from '../../../dev/local-aws.ts';
import { createDocumentClient } from '../../../lib/aws/dynamodb.ts';
import { type CallDraft, callPk, type Participant } from '../../../lib/calls/types.ts';
import { InvalidCallDataError, StorageError } from '../../../lib/errors.ts';
import { itemBytes, MAX_ITEM_BYTES } from '../../../lib/store/call-limits.ts';
import { type CallStore, createCallStore } from '../../../lib/store/call-store.ts';
import { participantIndexItems } from '../../../lib/store/participant-index.ts';
import { type CallSpec, callDraft, newSessionId, T0 } from './call-records.ts';
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

/** Every item in the call's partition, read straight from dynalite (not through the store). */
async function partition(sessionId: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await client.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': callPk(sessionId) },
      ConsistentRead: true,
    }),
  );
  return Items;
}

/** Asserts the partition holds exactly the call item and the index items derived from it. */
async function expectConsistent(sessionId: string): Promise<CallDraft> {
  const items = await partition(sessionId);
  const call = items.find((i) => i.sk === 'CALL') as unknown as CallDraft;
  expect(call).toBeDefined();
  const index = items.filter((i) => i.sk !== 'CALL');
  expect(index.sort((a, b) => String(a.sk).localeCompare(String(b.sk)))).toEqual(
    participantIndexItems(call).sort((a, b) => a.sk.localeCompare(b.sk)),
  );
  return call;
}

const rids = (call: { recordings: { rid: string }[] }) => call.recordings.map((r) => r.rid);

describe('createCallStore', () => {
  describe('save and load', () => {
    it('commits a call with one PutItem, then writes its index, and loads it back whole', async () => {
      const sessionId = newSessionId();
      const draft = callDraft(sessionId, { ...ENDED, recordings: [{ rid: 'r1', startTime: T0 + 6 }] });

      table.proxy.reset();
      const { outcome, call } = await store.save(draft, { previous: undefined, now: NOW });
      const loaded = await store.load(sessionId);

      expect(outcome).toBe('created');
      expect(call).toEqual({ ...draft, enrichedAt: NOW.toISOString(), revision: 1 });
      expect(loaded?.call).toEqual(call);
      expect(loaded?.index).toEqual(participantIndexItems(draft));
      expect(table.proxy.count('PutItem')).toBe(1);
      expect(table.proxy.count('BatchWriteItem')).toBe(1);
      await expectConsistent(sessionId);
    });

    it('returns undefined for a call it has never stored, with one Query', async () => {
      table.proxy.reset();

      const loaded = await store.load(newSessionId());

      expect(loaded).toBeUndefined();
      expect([...table.proxy.counts.entries()]).toEqual([['Query', 1]]);
    });

    it('writes nothing, counted at the wire, when the same call is saved again later', async () => {
      const sessionId = newSessionId();
      const draft = callDraft(sessionId, { ...ENDED, recordings: [{ rid: 'r1' }] });
      await store.save(draft, { previous: undefined, now: NOW });
      const previous = await store.load(sessionId);

      let outcome: string | undefined;
      const writes = await table.writesDuring(async () => {
        ({ outcome } = await store.save(draft, { previous, now: LATER }));
      });

      expect(outcome).toBe('unchanged');
      expect(writes).toBe(0);
      expect((await store.load(sessionId))?.call.enrichedAt).toBe(NOW.toISOString());
    });

    it('ignores items of other features in the partition', async () => {
      const sessionId = newSessionId();
      await store.save(callDraft(sessionId, ENDED), { previous: undefined });
      await client.send(
        new PutCommand({ TableName: TABLE, Item: { pk: callPk(sessionId), sk: 'UPLOAD#r1', part: 1 } }),
      );

      const loaded = await store.load(sessionId);
      const writes = await table.writesDuring(() =>
        store.save(callDraft(sessionId, ENDED), { previous: loaded }),
      );

      expect(loaded?.index.map((i) => i.sk)).not.toContain('UPLOAD#r1');
      expect(writes).toBe(0);
      expect((await partition(sessionId)).map((i) => i.sk)).toContain('UPLOAD#r1');
    });
  });

  describe('a table written by 0.1.0', () => {
    it('refuses, permanently and before any write, a call item without a revision', async () => {
      const sessionId = newSessionId();
      const legacy = { pk: callPk(sessionId), sk: 'CALL', sessionId, status: 'ended', contentHash: 'x' };
      await client.send(new PutCommand({ TableName: TABLE, Item: legacy }));

      let error: unknown;
      const writes = await table.writesDuring(async () => {
        error = await store.load(sessionId).catch((e: unknown) => e);
      });

      expect(error).toBeInstanceOf(InvalidCallDataError);
      expect((error as Error).message).toMatch(/0\.1\.0/);
      expect(writes).toBe(0);
      expect(await partition(sessionId)).toEqual([legacy]);
    });
  });

  describe('versions', () => {
    it('moves an ongoing call to ended and brings the index in line, deleting the dropped entry', async () => {
      const sessionId = newSessionId();
      await store.save(callDraft(sessionId, ONGOING), { previous: undefined, now: NOW });
      const previous = await store.load(sessionId);

      const { outcome, call } = await store.save(callDraft(sessionId, ENDED), { previous, now: LATER });

      expect(outcome).toBe('updated');
      expect(call).toMatchObject({ status: 'ended', revision: 2, enrichedAt: LATER.toISOString() });
      const stored = await expectConsistent(sessionId);
      expect(stored.participants.map((p) => p.deviceId)).toEqual(['a1', 'b1', 'c1']);
    });

    it('keeps the ended call when an older-looking response arrives later, but adds the recording it names', async () => {
      const sessionId = newSessionId();
      await store.save(callDraft(sessionId, { ...ENDED, recordings: [{ rid: 'r1' }] }), {
        previous: undefined,
      });
      const previous = await store.load(sessionId);

      const { outcome, call } = await store.save(
        callDraft(sessionId, { ...ONGOING, recordings: [{ rid: 'r2', startTime: T0 + 7 }] }),
        { previous },
      );

      expect(outcome).toBe('updated');
      expect(call.status).toBe('ended');
      expect(call.endedAt).toBe(T0 + 65);
      expect(call.participants).toEqual(ENDED.participants);
      expect(rids(call)).toEqual(['r1', 'r2']);
      expect(rids(await expectConsistent(sessionId))).toEqual(['r1', 'r2']);
    });

    it('keeps a stored recording, and its first copiedAt, that a later response leaves out', async () => {
      const sessionId = newSessionId();
      const first = '2023-11-14T23:00:00.000Z';
      await store.save(callDraft(sessionId, { ...ENDED, recordings: [{ rid: 'r1', copiedAt: first }] }), {
        previous: undefined,
      });
      const previous = await store.load(sessionId);

      const { call } = await store.save(
        callDraft(sessionId, { ...ENDED, endedAt: T0 + 70, recordings: [{ rid: 'r2' }] }),
        { previous },
      );

      expect(rids(call)).toEqual(['r1', 'r2']);
      expect(call.recordings[0]?.copiedAt).toBe(first);
      expect(call.endedAt).toBe(T0 + 70);
    });

    it('merges into the stored call when the caller passes an out-of-date previous', async () => {
      const sessionId = newSessionId();
      await store.save(callDraft(sessionId, { ...ENDED, recordings: [{ rid: 'r1' }] }), {
        previous: undefined,
      });

      const { outcome, call } = await store.save(
        callDraft(sessionId, { ...ENDED, recordings: [{ rid: 'r2' }] }),
        { previous: undefined },
      );

      expect(outcome).toBe('updated');
      expect(call.revision).toBe(2);
      expect(rids(call)).toEqual(['r1', 'r2']);
    });
  });

  describe('concurrency', () => {
    it('keeps every recording when runs of the same call save at once', async () => {
      const sessionId = newSessionId();
      await store.save(callDraft(sessionId, ONGOING), { previous: undefined });
      const previous = await store.load(sessionId);
      const runs = ['r1', 'r2', 'r3', 'r4'].map((rid, i) =>
        callDraft(sessionId, { ...(i % 2 ? ENDED : ONGOING), recordings: [{ rid }] }),
      );

      const outcomes = await Promise.all(runs.map((draft) => store.save(draft, { previous })));

      expect(outcomes.map((o) => o.outcome)).toEqual(['updated', 'updated', 'updated', 'updated']);
      const stored = await expectConsistent(sessionId);
      expect(rids(stored)).toEqual(['r1', 'r2', 'r3', 'r4']);
      expect(stored.status).toBe('ended');
      expect(stored.participants).toEqual(ENDED.participants);
      expect((await store.load(sessionId))?.call.revision).toBe(5);
    });

    it('keeps both recordings when two first runs of a call race to create it', async () => {
      const sessionId = newSessionId();

      const [a, b] = await Promise.all(
        ['r1', 'r2'].map((rid) =>
          store.save(callDraft(sessionId, { ...ENDED, recordings: [{ rid }] }), { previous: undefined }),
        ),
      );

      expect([a?.outcome, b?.outcome].sort()).toEqual(['created', 'updated']);
      expect(rids(await expectConsistent(sessionId))).toEqual(['r1', 'r2']);
    });

    it('fails with a StorageError after losing the race too many times', async () => {
      const sessionId = newSessionId();
      await store.save(callDraft(sessionId, ONGOING), { previous: undefined });
      // A client that moves the stored revision on before every conditional put, as a busy rival would.
      const rival: DynamoDBDocumentClient = {
        send: async (command: unknown, options?: unknown) => {
          if (command instanceof PutCommand && command.input.ConditionExpression?.startsWith('revision')) {
            const current = (await store.load(sessionId))?.call;
            await client.send(
              new PutCommand({
                TableName: TABLE,
                Item: { ...current, revision: (current?.revision ?? 0) + 1 },
              }),
            );
          }
          return table.counted.send(command as never, options as never);
        },
      } as unknown as DynamoDBDocumentClient;
      const losing = createCallStore({ tableName: TABLE, client: rival });
      const previous = await losing.load(sessionId);

      const failure = await losing.save(callDraft(sessionId, ENDED), { previous }).catch((e: unknown) => e);

      expect(failure).toBeInstanceOf(StorageError);
      expect((failure as Error).message).toMatch(/committed first 5 times/);
    });
  });

  describe('index repair', () => {
    it('repairs on the next run an index a crash between commit and index writes left undone', async () => {
      const sessionId = newSessionId();
      await store.save(callDraft(sessionId, ONGOING), { previous: undefined });
      const crashing = createCallStore({
        tableName: TABLE,
        client: {
          send: (command: unknown, options?: unknown) =>
            command instanceof BatchWriteCommand
              ? Promise.reject(new Error('the process died here'))
              : table.counted.send(command as never, options as never),
        } as unknown as DynamoDBDocumentClient,
      });
      const ended = callDraft(sessionId, ENDED);

      const crash = await crashing
        .save(ended, { previous: await crashing.load(sessionId) })
        .catch((e: unknown) => e);
      const committed = await partition(sessionId);
      const { outcome } = await store.save(ended, { previous: await store.load(sessionId) });
      const again = await table.writesDuring(async () =>
        store.save(ended, { previous: await store.load(sessionId) }),
      );

      expect(crash).toBeInstanceOf(StorageError);
      expect(committed.find((i) => i.sk === 'CALL')).toMatchObject({ status: 'ended', revision: 2 });
      expect(committed.map((i) => i.sk)).toContain('PARTICIPANT#bob#-');
      expect(outcome).toBe('unchanged');
      await expectConsistent(sessionId);
      expect(again).toBe(0);
    });

    it('deletes an index item the call no longer names and rewrites one that differs', async () => {
      const sessionId = newSessionId();
      await store.save(callDraft(sessionId, ENDED), { previous: undefined });
      const pk = callPk(sessionId);
      await client.send(
        new PutCommand({ TableName: TABLE, Item: { pk, sk: 'PARTICIPANT#mallory#-', uid: 'x' } }),
      );
      await client.send(new DeleteCommand({ TableName: TABLE, Key: { pk, sk: 'PARTICIPANT#alice#a1' } }));
      await client.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk, sk: 'PARTICIPANT#bob#b1', uid: 'bob', name: 'stale' },
        }),
      );

      await store.save(callDraft(sessionId, ENDED), { previous: await store.load(sessionId) });

      await expectConsistent(sessionId);
    });
  });

  describe('limits', () => {
    const manyParticipants = (count: number, uid: (i: number) => string): Participant[] =>
      Array.from({ length: count }, (_, i) => ({
        uid: uid(i),
        name: `Participant ${i}`,
        avatar: `https://assets.example.com/avatars/${i}.png`,
        deviceId: `device-${i % 3}-8a1b2c3d-4e5f-4061-8273-9a8b7c6d5e4f`,
        state: 'ended',
        isJoined: false,
        joinedAt: T0 + i,
        leftAt: T0 + 3600,
        durationSeconds: 3600 - i,
        totalAudioMinutes: 59.5,
        totalVideoMinutes: 59.5,
      }));

    it('stores a call with 200 participant entries and 20 recordings, and its whole index', async () => {
      const sessionId = newSessionId();
      const draft = callDraft(sessionId, {
        status: 'ended',
        startedAt: T0,
        endedAt: T0 + 3600,
        participants: manyParticipants(200, (i) => `cometchat-uid-${i % 50}`),
        recordings: Array.from({ length: 20 }, (_, i) => ({
          rid: `rec-${i}`,
          startTime: T0 + i,
          endTime: T0 + 3600,
        })),
      });

      const { outcome } = await store.save(draft, { previous: undefined });

      expect(outcome).toBe('created');
      const stored = await expectConsistent(sessionId);
      expect(stored.participants).toHaveLength(200);
      expect(stored.recordings).toHaveLength(20);
    });

    it('stores a call of 1,000 participants with 250-byte ids whole, or refuses it before writing anything', async () => {
      const sessionId = newSessionId();
      const draft = callDraft(sessionId, {
        status: 'ended',
        participants: manyParticipants(1000, (i) => `${i}`.padStart(250, 'u')),
      });

      let failure: unknown;
      const writes = await table.writesDuring(() =>
        store.save(draft, { previous: undefined }).catch((e: unknown) => {
          failure = e;
        }),
      );

      if (failure === undefined) {
        expect((await expectConsistent(sessionId)).participants).toEqual(draft.participants);
      } else {
        expect(failure).toBeInstanceOf(InvalidCallDataError);
        expect((failure as InvalidCallDataError).retryable).toBe(false);
        expect((failure as Error).message).toMatch(/400 KB item limit/);
        expect(writes).toBe(0);
        expect(await partition(sessionId)).toEqual([]);
      }
    });

    it('refuses a call item over 400 KB before writing anything, and stores one just under it', async () => {
      const sessionId = newSessionId();
      const base = callDraft(sessionId, { status: 'ended', participants: [{ uid: 'alice' }] });
      const padded = (bytes: number): CallDraft => ({
        ...base,
        participants: [{ uid: 'alice', name: 'n'.repeat(bytes) }],
      });
      const room =
        MAX_ITEM_BYTES -
        itemBytes({ ...padded(0), enrichedAt: NOW.toISOString(), revision: 1e15, publishedRevision: 1e15 });

      const writes = await table.writesDuring(async () => {
        const failure = await store.save(padded(room + 1), { previous: undefined }).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(InvalidCallDataError);
        expect((failure as Error).message).toMatch(/400 KB item limit/);
      });
      const { outcome } = await store.save(padded(room), { previous: undefined });

      expect(writes).toBe(0);
      expect(outcome).toBe('created');
    });

    it('stores ids of any length or character in index keys, shortened within 1,024 bytes', async () => {
      const sessionId = newSessionId();
      const odd = ['#'.repeat(256), 'ünï/~%', 'ü'.repeat(600), 'a#b'];
      const draft = callDraft(sessionId, {
        status: 'ended',
        participants: odd.map((uid) => ({ uid, deviceId: uid })),
      });

      await store.save(draft, { previous: undefined });

      const items = (await expectConsistent(sessionId)).participants;
      expect(items.map((p) => p.uid).sort()).toEqual([...odd].sort());
      for (const item of await partition(sessionId))
        expect(Buffer.byteLength(String(item.sk))).toBeLessThan(1024);
      const byUser = await client.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: 'byUser',
          KeyConditionExpression: 'gsi1pk = :u',
          ExpressionAttributeValues: { ':u': `USER#${'ü'.repeat(600)}` },
        }),
      );
      expect(byUser.Items?.map((i) => i.sessionId)).toEqual([sessionId]);
    });

    it('refuses, naming the index key limit, a uid too long for byUser, before writing anything', async () => {
      const sessionId = newSessionId();
      const draft = callDraft(sessionId, { status: 'ended', participants: [{ uid: 'x'.repeat(2100) }] });

      const writes = await table.writesDuring(async () => {
        const failure = await store.save(draft, { previous: undefined }).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(InvalidCallDataError);
        expect((failure as Error).message).toMatch(/byUser partition key.*2048-byte key limit/);
      });

      expect(writes).toBe(0);
    });
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
      const late = callDraft(newSessionId(), spec(day + 7200));
      const early = callDraft(newSessionId(), spec(day + 60));
      const nextDay = callDraft(newSessionId(), spec(day + 86_400 + 60));
      for (const draft of [late, early, nextDay]) await store.save(draft, { previous: undefined });

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
        [early, late, nextDay].map((c) => ['participant', c.sessionId]),
      );
      expect(byDay.Items?.map((i) => [i.entity, i.sessionId, i.status])).toEqual(
        [early, late].map((c) => ['call', c.sessionId, 'ended']),
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
      const broken = createCallStore({ tableName: TABLE, client: createDocumentClient(closed) });
      const draft = callDraft(newSessionId(), ENDED);

      const failures = await Promise.all([
        broken.load(draft.sessionId).catch((e: unknown) => e),
        broken.save(draft, { previous: undefined }).catch((e: unknown) => e),
        broken.putCheckpoint('x', 1).catch((e: unknown) => e),
        broken.getCheckpoint('x').catch((e: unknown) => e),
        broken.getSummaries(['x']).catch((e: unknown) => e),
      ]);
      closed.destroy();

      for (const failure of failures) {
        expect(failure).toBeInstanceOf(StorageError);
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

    it('sends no request once the signal has aborted', async () => {
      const sessionId = newSessionId();
      const signal = AbortSignal.abort();
      table.proxy.reset();

      const failures = await Promise.all([
        store.load(sessionId, { signal }).catch((e: unknown) => e),
        store.save(callDraft(sessionId, ENDED), { previous: undefined, signal }).catch((e: unknown) => e),
        store.getSummaries([sessionId], { signal }).catch((e: unknown) => e),
        store.getCheckpoint('x', { signal }).catch((e: unknown) => e),
        store.putCheckpoint('x', 1, NOW, { signal }).catch((e: unknown) => e),
      ]);

      for (const failure of failures) expect(failure).toBeInstanceOf(StorageError);
      expect(table.proxy.counts.size).toBe(0);
    });
  });
});
