/**
 * Erasure (issue 13.3) on the local stack: dynalite, s3rver and the CometChat simulator, the real
 * enrichment in front of them. Both modes, then the same call enriched again; held calls; a dry
 * run; a user with 300 calls, walked a page at a time.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { localClients } from '../../dev/local-aws.ts';
import { LOCAL_ERASURE_SALT, type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { listByUser } from '../../lib/archive/find.ts';
import { setHold } from '../../lib/archive/hold.ts';
import { createDocumentClient } from '../../lib/aws/dynamodb.ts';
import { callPk, dayIndexKeys } from '../../lib/calls/types.ts';
import { enrichDependenciesFromEnv } from '../../lib/enrich/dependencies.ts';
import { type EnrichDependencies, enrichCall } from '../../lib/enrich/enrich.ts';
import { eraseDependenciesFromEnv } from '../../lib/erase/dependencies.ts';
import { type EraseDependencies, eraseUser } from '../../lib/erase/erase.ts';
import { uidHash } from '../../lib/erase/redact.ts';
import { EraseInputError } from '../../lib/errors.ts';
import { createCallStore } from '../../lib/store/call-store.ts';
import { type CountingProxy, DYNAMODB_WRITES, startCountingProxy } from '../support/counting-proxy.ts';
import { callItems } from '../support/dynamodb.ts';
import { endedCall } from '../support/ended-call.ts';
import { rejectionOf } from '../support/errors.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput } from '../support/log-capture.ts';

// 2025-06-02T09:00:00Z
const T0 = 1_748_854_800;
let stack: LocalStack;
let documents: DynamoDBDocumentClient;
let enrichDeps: EnrichDependencies;
let eraseDeps: EraseDependencies;
/** Enrichment whose DynamoDB requests cross `dynamoProxy`, to count them at the wire. */
let countedDeps: EnrichDependencies;
let dynamoProxy: CountingProxy;
let sequence = 0;

/**
 * Serves an ended call between `uids` with one small recording, without the `omit`ted fields of
 * its Get Call response; returns its session id.
 */
function addCall(uids: string[], omit: readonly string[] = []): string {
  sequence += 1;
  const sessionId = `v1.us.erase-test.${T0}.${sequence}`;
  const call = endedCall({
    sessionId,
    uids,
    initiatedAt: T0 + sequence,
    recordingId: `rec-${sequence}`,
    recordingBytes: 4096,
    avatars: true,
  });
  for (const field of omit) delete call.raw[field];
  stack.simulator?.addCall(call);
  return sessionId;
}

const enrich = (sessionId: string) => enrichCall({ sessionId }, enrichDeps);

async function scanTable(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await stack.clients.s3.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((o) => o.Key as string).sort();
}

async function text(key: string): Promise<string> {
  const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return (await object.Body?.transformToString()) ?? '';
}

async function everything(): Promise<string> {
  const items = await scanTable();
  const keys = await keysUnder('');
  const bodies = await Promise.all(keys.map(text));
  return JSON.stringify({ items, keys, bodies });
}

beforeAll(async () => {
  stack = await startLocalStack({ simulator: { calls: [] } });
  documents = createDocumentClient(stack.clients.dynamodb);
  enrichDeps = enrichDependenciesFromEnv(stack.env, {
    dynamodb: documents,
    s3: async () => stack.clients.s3,
  });
  eraseDeps = eraseDependenciesFromEnv(stack.env, { dynamodb: documents, s3: stack.clients.s3 });
  dynamoProxy = await startCountingProxy(stack.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  const counted = localClients({
    dynamodb: dynamoProxy.endpoint,
    s3: stack.env.AWS_ENDPOINT_URL_S3 as string,
  });
  countedDeps = enrichDependenciesFromEnv(stack.env, {
    dynamodb: createDocumentClient(counted.dynamodb),
    s3: async () => stack.clients.s3,
  });
}, 60_000);

afterAll(async () => {
  await dynamoProxy?.close();
  await stack?.close();
});

/** Stores `count` ended calls `v1.us.<prefix>.<i>`, a minute apart, that `uid` took part in. */
async function saveEndedCalls(prefix: string, uid: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const sessionId = `v1.us.${prefix}.${i}`;
    await eraseDeps.store.save(
      {
        pk: callPk(sessionId),
        sk: 'CALL',
        entity: 'call',
        sessionId,
        status: 'ended',
        initiatedAt: T0 + i * 60,
        hasRecording: false,
        participants: [{ uid }, { uid: 'amy-0815' }],
        recordings: [],
        transcripts: [],
        ...dayIndexKeys(sessionId, T0 + i * 60),
      },
      { previous: undefined },
    );
  }
}

describe('erase in delete mode', () => {
  it('removes the call, its index, every file and manifest, and keeps an audit without the uid', async () => {
    const sessionId = addCall(['zed-4711', 'amy-0815']);
    await enrich(sessionId);
    const folder = `recordings/${sessionId}/`;
    expect(await keysUnder(folder)).toEqual([`${folder}call.json`, `${folder}rec-${sequence}.mp4`]);

    const result = await eraseUser({ uid: 'zed-4711', mode: 'delete' }, eraseDeps);

    expect(result).toMatchObject({
      uidHash: uidHash(LOCAL_ERASURE_SALT, 'zed-4711'),
      mode: 'delete',
      calls: 1,
      erased: 1,
      held: [],
      dryRun: false,
      sessionIds: [sessionId],
    });
    expect(JSON.stringify(result)).not.toContain('zed-4711');
    expect(await callItems(documents, stack.tableName, sessionId)).toEqual([]);
    expect(await keysUnder(folder)).toEqual([]);
    const audit = (await scanTable()).find((i) => i.sk === `AUDIT#${result.auditId}`);
    expect(audit).toMatchObject({
      pk: 'ERASURE',
      uidHash: result.uidHash,
      mode: 'delete',
      calls: 1,
      erased: 1,
    });
    expect(JSON.stringify(await scanTable())).not.toContain('zed-4711');
    const tombstone = (await scanTable()).find((i) => i.pk === `ERASED#CALL#${sessionId}`);
    expect(tombstone).toEqual({
      pk: `ERASED#CALL#${sessionId}`,
      sk: 'ERASED',
      entity: 'erased-call',
      sessionId,
      erasedAt: expect.any(String),
      auditId: result.auditId,
    });
  });

  it('sticks: the same call enriched again is not taken in, checked with one BatchGetItem', async () => {
    const sessionId = addCall(['zed-9000', 'amy-0815']);
    await enrich(sessionId);
    await eraseUser({ uid: 'zed-9000', mode: 'delete' }, eraseDeps);
    dynamoProxy.reset();

    const again = await enrichCall({ sessionId }, countedDeps);

    expect(again).toMatchObject({ sessionId, skipped: 'erased', recordings: [], transcripts: [] });
    expect(dynamoProxy.count('BatchGetItem')).toBe(1);
    expect(dynamoProxy.count(...DYNAMODB_WRITES)).toBe(0);
    expect(await callItems(documents, stack.tableName, sessionId)).toEqual([]);
    expect(await keysUnder(`recordings/${sessionId}/`)).toEqual([]);
  });

  it('keeps other people’s later calls: a new call with the erased user is archived, them redacted', async () => {
    const erasedCall = addCall(['zoe-1111', 'amy-0815']);
    await enrich(erasedCall);
    const { uidHash: hash } = await eraseUser({ uid: 'zoe-1111', mode: 'delete' }, eraseDeps);
    const later = addCall(['amy-0815', 'zoe-1111']);
    dynamoProxy.reset();

    const result = await enrichCall({ sessionId: later }, countedDeps);

    expect(result.skipped).toBeUndefined();
    expect(result).toMatchObject({
      participants: 2,
      recordings: [expect.objectContaining({ copied: true })],
    });
    expect(dynamoProxy.count('BatchGetItem')).toBe(1);
    const items = await callItems(documents, stack.tableName, later);
    const call = items.find((i) => i.sk === 'CALL') as Record<string, unknown>;
    expect(call.participants).toContainEqual(
      expect.objectContaining({ uid: `erased:${hash}`, name: `erased:${hash}`, redacted: true }),
    );
    expect(call.receiver).toBe(`erased:${hash}`);
    expect(items.filter((i) => i.entity === 'participant').map((i) => i.uid)).toEqual(['amy-0815']);
    expect(await keysUnder(`recordings/${later}/`)).toHaveLength(2);
    expect(await callItems(documents, stack.tableName, erasedCall)).toEqual([]);
    expect(await everything()).not.toMatch(/zoe-1111|Full Name Of zoe/);
  });
});

describe('erase in redact mode', () => {
  it('replaces uid, name and avatar with the salted hash in the call item and the manifest, and drops their index items', async () => {
    const sessionId = addCall(['yan-1234', 'amy-0815']);
    await enrich(sessionId);

    const result = await eraseUser({ uid: 'yan-1234', mode: 'redact' }, eraseDeps);

    expect(result).toMatchObject({ calls: 1, erased: 1, mode: 'redact' });
    const items = await callItems(documents, stack.tableName, sessionId);
    const call = items.find((i) => i.sk === 'CALL') as Record<string, unknown>;
    expect(call.participants).toContainEqual(
      expect.objectContaining({
        uid: `erased:${result.uidHash}`,
        name: `erased:${result.uidHash}`,
        avatar: `erased:${result.uidHash}`,
        redacted: true,
      }),
    );
    expect(call.initiator).toBe(`erased:${result.uidHash}`);
    expect(items.filter((i) => i.entity === 'participant').map((i) => i.uid)).toEqual(['amy-0815']);
    const manifest = await text(`recordings/${sessionId}/call.json`);
    expect(manifest).toContain(`erased:${result.uidHash}`);
    expect(await everything()).not.toMatch(/yan-1234|Full Name Of yan/);
    expect(
      (await listByUser({ client: documents, tableName: stack.tableName }, { uid: 'yan-1234' })).total,
    ).toBe(0);
  });

  it('sticks: the same call enriched again comes back redacted', async () => {
    const sessionId = addCall(['kim-5555', 'amy-0815']);
    await eraseUser({ uid: 'kim-5555', mode: 'redact' }, eraseDeps);

    const result = await enrich(sessionId);

    expect(result.skipped).toBeUndefined();
    expect(result.participants).toBe(2);
    const items = await callItems(documents, stack.tableName, sessionId);
    expect(items.filter((i) => i.entity === 'participant').map((i) => i.uid)).toEqual(['amy-0815']);
    expect(await everything()).not.toMatch(/kim-5555|Full Name Of kim/);
  });
});

describe('held calls', () => {
  it('are reported and left alone, unless includeHeld', async () => {
    const sessionId = addCall(['hal-2001', 'amy-0815']);
    await enrich(sessionId);
    const store = createCallStore({ tableName: stack.tableName, client: documents });
    await setHold({ store, s3: stack.clients.s3, bucket: stack.bucket }, sessionId, true);

    const left = await eraseUser({ uid: 'hal-2001', mode: 'delete' }, eraseDeps);

    expect(left).toMatchObject({ calls: 1, erased: 0, held: [sessionId] });
    expect((await callItems(documents, stack.tableName, sessionId)).length).toBeGreaterThan(0);

    const taken = await eraseUser({ uid: 'hal-2001', mode: 'delete', includeHeld: true }, eraseDeps);

    expect(taken).toMatchObject({ calls: 1, erased: 1, held: [] });
    expect(await callItems(documents, stack.tableName, sessionId)).toEqual([]);
  });
});

describe('a hold wins over a later enrichment', () => {
  const hold = (sessionId: string) =>
    setHold(
      {
        store: createCallStore({ tableName: stack.tableName, client: documents }),
        s3: stack.clients.s3,
        bucket: stack.bucket,
      },
      sessionId,
      true,
    );
  const storedCall = async (sessionId: string) =>
    (await callItems(documents, stack.tableName, sessionId)).find((i) => i.sk === 'CALL') as
      | Record<string, unknown>
      | undefined;
  const indexedUids = async (sessionId: string) =>
    (await callItems(documents, stack.tableName, sessionId))
      .filter((i) => i.entity === 'participant')
      .map((i) => i.uid)
      .sort();

  it.each(['redact', 'delete'] as const)(
    'erase in %s mode without includeHeld: the held call enriched again is stored as it was',
    async (mode) => {
      const uid = `hod-${mode}`;
      const held = addCall([uid, 'amy-0815']);
      const other = addCall([uid, 'bea-2718']);
      await enrich(held);
      await enrich(other);
      await hold(held);
      const before = await storedCall(held);

      const result = await eraseUser({ uid, mode }, eraseDeps);
      expect(result).toMatchObject({ calls: 2, erased: 1, held: [held], sessionIds: [other] });

      const again = await enrich(held);

      expect(again.skipped).toBeUndefined();
      expect(again).toMatchObject({
        participants: 2,
        recordings: [expect.objectContaining({ copied: false })],
      });
      const after = await storedCall(held);
      expect(after).toMatchObject({ held: true, initiator: uid });
      expect(after?.participants).toEqual(before?.participants);
      expect(await indexedUids(held)).toEqual(['amy-0815', uid].sort());
      const manifest = await text(`recordings/${held}/call.json`);
      expect(manifest).toContain(uid);
      expect(manifest).not.toContain(`erased:${result.uidHash}`);

      // Their call that is not held stays erased when enriched again.
      const otherAgain = await enrich(other);
      if (mode === 'delete') {
        expect(otherAgain.skipped).toBe('erased');
        expect(await callItems(documents, stack.tableName, other)).toEqual([]);
      } else {
        expect(otherAgain.skipped).toBeUndefined();
        expect((await storedCall(other))?.initiator).toBe(`erased:${result.uidHash}`);
        expect(await indexedUids(other)).toEqual(['bea-2718']);
        expect(await text(`recordings/${other}/call.json`)).not.toContain(uid);
      }
    },
  );

  it('a held call erased with includeHeld stays redacted when enriched again', async () => {
    const uid = 'hod-included';
    const held = addCall([uid, 'amy-0815']);
    await enrich(held);
    await hold(held);
    const result = await eraseUser({ uid, mode: 'redact', includeHeld: true }, eraseDeps);
    expect(result).toMatchObject({ erased: 1, held: [] });

    const again = await enrich(held);

    expect(again.skipped).toBeUndefined();
    expect(await storedCall(held)).toMatchObject({ held: true, initiator: `erased:${result.uidHash}` });
    expect(await indexedUids(held)).toEqual(['amy-0815']);
    expect(await text(`recordings/${held}/call.json`)).not.toContain(uid);
  });
});

describe('calls without initiatedAt', () => {
  const find = (uid: string) => listByUser({ client: documents, tableName: stack.tableName }, { uid });

  it.each([
    ['neither initiatedAt nor startedAt', true],
    ['only startedAt', false],
  ])('are found through byUser (list --user) and erased: a call with %s', async (_, undated) => {
    const uid = undated ? 'uma-0001' : 'uma-0002';
    const sessionId = addCall([uid, 'amy-0815'], undated ? ['initiatedAt', 'startedAt'] : ['initiatedAt']);
    await enrich(sessionId);
    const stored = (await callItems(documents, stack.tableName, sessionId)).find((i) => i.sk === 'CALL');
    expect(stored).toBeDefined();
    expect(stored?.initiatedAt).toBeUndefined();
    expect(stored?.startedAt === undefined).toBe(undated);
    // byDay: the day it started; a call with no time at all has no day.
    expect(stored?.gsi2pk === undefined).toBe(undated);

    const listed = await find(uid);
    expect(listed.total).toBe(1);
    expect(listed.calls.map((c) => c.sessionId)).toEqual([sessionId]);

    const result = await eraseUser({ uid, mode: 'delete' }, eraseDeps);

    expect(result).toMatchObject({ calls: 1, erased: 1, sessionIds: [sessionId] });
    expect(await callItems(documents, stack.tableName, sessionId)).toEqual([]);
    expect((await find(uid)).total).toBe(0);
    expect(await everything()).not.toMatch(new RegExp(`${uid}|Full Name Of ${uid}`));
  });
});

describe('a dry run', () => {
  it('lists what would go and changes nothing', async () => {
    const first = addCall(['dot-3141', 'amy-0815']);
    const second = addCall(['dot-3141', 'bea-2718']);
    await enrich(first);
    await enrich(second);
    const before = await everything();

    const result = await eraseUser({ uid: 'dot-3141', mode: 'delete', dryRun: true }, eraseDeps);

    expect(result).toMatchObject({ calls: 2, erased: 0, dryRun: true, auditId: null });
    expect(result.sessionIds).toEqual([first, second].sort());
    expect(await everything()).toBe(before);
  });

  it('refuses input it cannot use, naming the field but never the uid', async () => {
    const error = await rejectionOf(eraseUser({ uid: 'x', mode: 'shred' }, eraseDeps));

    expect(error).toBeInstanceOf(EraseInputError);
    expect((error as Error).message).toContain('mode');
  });
});

describe('the erase function', () => {
  it('answers with the contract’s fields, and neither returns nor logs the uid', async () => {
    const sessionId = addCall(['fay-6174', 'amy-0815']);
    await enrich(sessionId);
    stack.applyEnv();
    const handler =
      await importHandler<(event: unknown, context: unknown) => Promise<Record<string, unknown>>>(
        'functions/erase.ts',
      );
    const output = captureOutput();
    let result: Record<string, unknown>;
    try {
      result = await handler({ uid: 'fay-6174', mode: 'redact' }, lambdaContext('erase'));
    } finally {
      output.stop();
    }

    expect(Object.keys(result).sort()).toEqual(
      ['auditId', 'calls', 'dryRun', 'erased', 'held', 'mode', 'sessionIds', 'uidHash'].sort(),
    );
    expect(result).toMatchObject({ calls: 1, erased: 1, mode: 'redact', dryRun: false });
    expect(output.text()).toContain(String(result.uidHash));
    expect(`${JSON.stringify(result)}${output.text()}`).not.toContain('fay-6174');
  });
});

describe('a user with 300 calls', () => {
  it('erases every one, walking the index a page at a time', async () => {
    const uid = 'busy-9999';
    await saveEndedCalls('busy', uid, 300);

    const result = await eraseUser({ uid, mode: 'delete' }, eraseDeps);

    expect(result).toMatchObject({ calls: 300, erased: 300, held: [] });
    const left = (await scanTable()).filter((i) => String(i.pk).startsWith('CALL#v1.us.busy.'));
    expect(left).toEqual([]);
  }, 180_000);
});

describe('a failure part-way', () => {
  it('throws only once the calls under way have settled, and starts no other', async () => {
    const uid = 'fails-4242';
    await saveEndedCalls('fails', uid, 8);
    // The first call's load fails; the others started with it go on only once it has.
    let failed = (): void => {};
    const failing = new Promise<void>((resolve) => {
      failed = resolve;
    });
    const loads: Promise<unknown>[] = [];
    let settled = false;
    let sentAfterwards = 0;
    const counted = <C extends { send: (...args: never[]) => unknown }>(client: C): C =>
      ({
        send: (...args: Parameters<C['send']>) => {
          if (settled) sentAfterwards += 1;
          return client.send(...args);
        },
      }) as unknown as C;
    const deps: EraseDependencies = {
      ...eraseDeps,
      client: counted(eraseDeps.client),
      s3: counted(eraseDeps.s3),
      store: {
        ...eraseDeps.store,
        load: (sessionId, options) => {
          const load =
            loads.length === 0
              ? Promise.reject(new Error('injected load failure')).finally(failed)
              : failing.then(() => eraseDeps.store.load(sessionId, options));
          loads.push(load);
          return load;
        },
      },
    };

    const error = await rejectionOf(eraseUser({ uid, mode: 'delete' }, deps));
    settled = true;
    await Promise.allSettled(loads);
    await new Promise((resolve) => setImmediate(resolve));

    expect(error.message).toBe('injected load failure');
    expect(sentAfterwards).toBe(0);
    // The failed one and the three started alongside it (CONCURRENCY 4); none of the other four.
    expect(loads).toHaveLength(4);
  });
});

describe('s3rver and versions', () => {
  it('refuses ListObjectVersions (405), so locally erasure deletes the current objects, all there are', async () => {
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: 'probe/a', Body: 'a' }));

    const error = await rejectionOf(
      stack.clients.s3.send(new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: 'probe/' })),
    );

    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(405);
  });
});
