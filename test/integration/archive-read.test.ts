/**
 * The archive's read side (issue 13.1, 13.2) on dynalite and s3rver: listing by user and by day
 * across pages, downloading with every digest checked, legal holds against retention, and the
 * operator CLI doing the same in-process on a local data folder.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectTaggingCommand, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Io, run } from '../../dev/calls-cli.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { downloadFile, filesOf } from '../../lib/archive/download.ts';
import { getCall, listByDay, listByUser } from '../../lib/archive/find.ts';
import { listHeld, setHold } from '../../lib/archive/hold.ts';
import { createDocumentClient } from '../../lib/aws/dynamodb.ts';
import { type CallDraft, callPk, dayIndexKeys, type RecordingEntry } from '../../lib/calls/types.ts';
import { IntegrityError } from '../../lib/errors.ts';
import { type CallStore, createCallStore } from '../../lib/store/call-store.ts';
import { callItems } from '../support/dynamodb.ts';
import { rejectionOf } from '../support/errors.ts';

const DAY = 86_400;
// 2026-03-10T00:00:00Z
const T0 = 1_773_100_800;
const RETENTION = { days: 30, ttlAttribute: 'expiresAt' } as const;

let stack: LocalStack;
let documents: DynamoDBDocumentClient;
let store: CallStore;
let scratch: string;

function draft(
  sessionId: string,
  initiatedAt: number,
  uids: string[],
  extra: Partial<CallDraft> = {},
): CallDraft {
  return {
    pk: callPk(sessionId),
    sk: 'CALL',
    entity: 'call',
    sessionId,
    status: 'ended',
    type: 'audio',
    initiatedAt,
    hasRecording: false,
    participants: uids.map((uid, i) => ({ uid, name: `Name ${uid}`, deviceId: `d${i}` })),
    recordings: [],
    transcripts: [],
    ...dayIndexKeys(sessionId, initiatedAt),
    ...extra,
  };
}

async function putObject(
  key: string,
  body: string,
  sha256 = createHash('sha256').update(body).digest('hex'),
) {
  const target = { Bucket: stack.bucket, Key: key };
  await stack.clients.s3.send(new PutObjectCommand({ ...target, Body: body }));
  // s3rver ignores PutObject's Tagging header: tag apart, as the copier does.
  await stack.clients.s3.send(
    new PutObjectTaggingCommand({
      ...target,
      Tagging: {
        TagSet: [
          { Key: 'sha256', Value: sha256 },
          { Key: 'hold', Value: 'false' },
        ],
      },
    }),
  );
  return sha256;
}

async function tagsOf(key: string): Promise<Record<string, string>> {
  const { TagSet = [] } = await stack.clients.s3.send(
    new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }),
  );
  return Object.fromEntries(TagSet.map((t) => [t.Key, t.Value]));
}

/** A stored call with a recording, a transcript and a manifest in S3, each tagged with its sha256. */
async function callWithFiles(sessionId: string, initiatedAt: number): Promise<void> {
  const folder = `recordings/${sessionId}/`;
  const entry = async (key: string, body: string): Promise<RecordingEntry> => ({
    rid: 'r1',
    sourceUrl: 'https://example.test/r1.mp4',
    bucket: stack.bucket,
    key,
    bytes: Buffer.byteLength(body),
    sha256: await putObject(key, body),
    copiedAt: new Date().toISOString(),
  });
  const recording = await entry(`${folder}r1.mp4`, 'recording bytes '.repeat(500));
  const { rid: _rid, ...rest } = await entry(`${folder}transcripts/t1.vtt`, 'WEBVTT\n\n00:00 hello\n');
  await putObject(`${folder}call.json`, '{"manifestVersion":1}\n');
  await store.save(
    draft(sessionId, initiatedAt, ['ann', 'bo'], {
      hasRecording: true,
      recordings: [recording],
      transcripts: [{ ...rest, tid: 't1' }],
      manifestKey: `${folder}call.json`,
    }),
    { previous: undefined },
  );
}

beforeAll(async () => {
  stack = await startLocalStack({ simulator: false });
  documents = createDocumentClient(stack.clients.dynamodb);
  store = createCallStore({ tableName: stack.tableName, client: documents, retention: RETENTION });
  scratch = await mkdtemp(join(tmpdir(), 'archive-read-'));
  // ann: 7 calls over three days, one of them on two devices (two index items, one call).
  for (let i = 0; i < 7; i += 1) {
    const uids = i === 3 ? ['ann', 'ann', 'cy'] : ['ann', 'cy'];
    await store.save(draft(`v1.us.find.${i}`, T0 + Math.floor(i / 3) * DAY + i * 60, uids), {
      previous: undefined,
    });
  }
  await store.save(draft('v1.us.find.other', T0 + 30, ['cy']), { previous: undefined });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const deps = () => ({ client: documents, tableName: stack.tableName });

describe('list by user', () => {
  it('walks a user’s calls newest first across pages, each call once, with the total', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listByUser(deps(), { uid: 'ann' }, { limit: 3, cursor });
      expect(page.total).toBe(7);
      seen.push(...page.calls.map((c) => c.sessionId));
      cursor = page.next;
      pages += 1;
    } while (cursor);

    expect(pages).toBe(3);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `v1.us.find.${i}`));
  });

  it('keeps to --from/--to, on when the call was initiated', async () => {
    const page = await listByUser(deps(), { uid: 'ann', from: T0 + DAY, to: T0 + DAY + 299 }, { limit: 10 });

    expect(page.calls.map((c) => c.sessionId)).toEqual(['v1.us.find.4', 'v1.us.find.3']);
    expect(page.total).toBe(2);
    expect(page.next).toBeUndefined();
    expect(page.calls[0]).toMatchObject({ status: 'ended', participants: 2, held: false });
  });
});

describe('list by day', () => {
  it('lists a day, and a range of days newest first across pages, with the total', async () => {
    const day = await listByDay(deps(), { fromDay: '2026-03-10' }, { limit: 10 });
    expect(day.calls.map((c) => c.sessionId)).toEqual([
      'v1.us.find.2',
      'v1.us.find.1',
      'v1.us.find.other',
      'v1.us.find.0',
    ]);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listByDay(
        deps(),
        { fromDay: '2026-03-09', toDay: '2026-03-12' },
        { limit: 3, cursor },
      );
      expect(page.total).toBe(8);
      seen.push(...page.calls.map((c) => c.sessionId));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 'other', 0].map((i) => `v1.us.find.${i}`));
  });

  it('refuses a day that is not one', async () => {
    await expect(listByDay(deps(), { fromDay: '2026-02-30' })).rejects.toThrow(RangeError);
  });
});

describe('download', () => {
  it('writes every recording, transcript and the manifest, each matching its stored sha256', async () => {
    await callWithFiles('v1.us.download.1', T0 + 3 * DAY);
    const call = await getCall(deps(), 'v1.us.download.1');
    const dir = join(scratch, 'ok');

    const files = [];
    for (const file of filesOf(call as NonNullable<typeof call>, stack.bucket)) {
      files.push(await downloadFile(stack.clients.s3, file, dir));
    }

    expect(files.map((f) => f.name)).toEqual(['r1.mp4', join('transcripts', 't1.vtt'), 'call.json']);
    expect(await readFile(join(dir, 'r1.mp4'), 'utf8')).toBe('recording bytes '.repeat(500));
    expect((await readdir(dir)).sort()).toEqual(['call.json', 'r1.mp4', 'transcripts']);
  });

  it('catches a corrupted object, names the file and leaves nothing of it behind', async () => {
    await callWithFiles('v1.us.download.2', T0 + 3 * DAY);
    const call = await getCall(deps(), 'v1.us.download.2');
    // Same size, other bytes, and the tag rewritten too: only the call item's digest can tell.
    const corrupted = 'recording bytez '.repeat(500);
    await putObject('recordings/v1.us.download.2/r1.mp4', corrupted);
    const dir = join(scratch, 'corrupt');
    const [recording] = filesOf(call as NonNullable<typeof call>, stack.bucket);

    const error = await rejectionOf(
      downloadFile(stack.clients.s3, recording as NonNullable<typeof recording>, dir),
    );

    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toContain('r1.mp4');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('legal hold', () => {
  it('takes the call out of retention (no expiresAt on any item, every object tagged hold=true) and back', async () => {
    await callWithFiles('v1.us.hold.1', T0 + 4 * DAY);
    const keys = ['r1.mp4', 'transcripts/t1.vtt', 'call.json'].map((k) => `recordings/v1.us.hold.1/${k}`);
    const before = await callItems(documents, stack.tableName, 'v1.us.hold.1');
    expect(before.map((i) => i.expiresAt)).toEqual(before.map(() => T0 + 4 * DAY + 30 * DAY));

    const held = await setHold({ store, s3: stack.clients.s3, bucket: stack.bucket }, 'v1.us.hold.1', true);

    expect(held).toMatchObject({ held: true, objects: 3, missing: [] });
    expect(held?.expiresAt).toBeUndefined();
    const items = await callItems(documents, stack.tableName, 'v1.us.hold.1');
    expect(items.length).toBe(3);
    for (const item of items) expect(item).not.toHaveProperty('expiresAt');
    for (const key of keys) {
      const tags = await tagsOf(key);
      expect(tags.hold, key).toBe('true');
      expect(tags.sha256, key).toMatch(/^[0-9a-f]{64}$/);
    }
    expect((await listHeld(deps())).map((c) => c.sessionId)).toEqual(['v1.us.hold.1']);

    // A later enrichment of the call keeps the hold: merge carries it, no expiry is stamped.
    const stored = await store.load('v1.us.hold.1');
    await store.save(draft('v1.us.hold.1', T0 + 4 * DAY, ['ann', 'bo'], { durationSeconds: 99 }), {
      previous: stored,
    });
    const after = await callItems(documents, stack.tableName, 'v1.us.hold.1');
    expect(after.find((i) => i.sk === 'CALL')).toMatchObject({ held: true, durationSeconds: 99 });
    for (const item of after) expect(item).not.toHaveProperty('expiresAt');

    const released = await setHold(
      { store, s3: stack.clients.s3, bucket: stack.bucket },
      'v1.us.hold.1',
      false,
    );

    expect(released).toMatchObject({ held: false, objects: 3, expiresAt: T0 + 34 * DAY });
    const restored = await callItems(documents, stack.tableName, 'v1.us.hold.1');
    expect(restored.map((i) => i.expiresAt)).toEqual(restored.map(() => T0 + 34 * DAY));
    expect(restored.find((i) => i.sk === 'CALL')).not.toHaveProperty('held');
    for (const key of keys) expect((await tagsOf(key)).hold).toBe('false');
    expect(await listHeld(deps())).toEqual([]);
  });

  it('says so for a call that is not stored', async () => {
    expect(
      await setHold({ store, s3: stack.clients.s3, bucket: stack.bucket }, 'v1.us.none', true),
    ).toBeUndefined();
  });
});

describe('the CLI (in-process, on a local data folder)', () => {
  let dataDir: string;
  const io = () => {
    const out = { stdout: '', stderr: '' };
    const value: Io = {
      stdout: {
        write: (s: string) => {
          out.stdout += s;
          return true;
        },
      } as Io['stdout'],
      stderr: {
        write: (s: string) => {
          out.stderr += s;
          return true;
        },
        isTTY: false,
        columns: 80,
      } as Io['stderr'],
      env: { RETENTION_DAYS: '30' },
    };
    return { value, out };
  };

  beforeAll(async () => {
    dataDir = join(scratch, 'cli');
    const local = await startLocalStack({ dataDir, simulator: false });
    try {
      const s = createCallStore({
        tableName: local.tableName,
        client: createDocumentClient(local.clients.dynamodb),
      });
      for (let i = 0; i < 3; i += 1) {
        await s.save(draft(`v1.us.cli.${i}`, T0 + i * 60, ['dee']), { previous: undefined });
      }
      const body = 'cli recording bytes';
      const key = 'recordings/v1.us.cli.files/r1.mp4';
      await local.clients.s3.send(new PutObjectCommand({ Bucket: local.bucket, Key: key, Body: body }));
      const recording = {
        rid: 'r1',
        sourceUrl: 'https://example.test/r1.mp4',
        bucket: local.bucket,
        key,
        bytes: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        copiedAt: new Date().toISOString(),
      };
      await s.save(draft('v1.us.cli.files', T0, ['eve'], { hasRecording: true, recordings: [recording] }), {
        previous: undefined,
      });
    } finally {
      await local.close();
    }
  }, 60_000);

  it('lists a page with a cursor, shows (and status shows) a call, holds and lists the held', async () => {
    const first = io();
    expect(
      await run(['list', '--user', 'dee', '--limit', '2', '--json', '--data-dir', dataDir], first.value),
    ).toBe(0);
    const page = JSON.parse(first.out.stdout) as {
      calls: { sessionId: string }[];
      total: number;
      next: string;
    };
    expect(page.calls.map((c) => c.sessionId)).toEqual(['v1.us.cli.2', 'v1.us.cli.1']);
    expect(page.total).toBe(3);

    const second = io();
    expect(
      await run(
        ['list', '--user', 'dee', '--limit', '2', '--cursor', page.next, '--data-dir', dataDir],
        second.value,
      ),
    ).toBe(0);
    expect(second.out.stdout).toContain('v1.us.cli.0');
    expect(second.out.stdout).toContain('1 of 3 calls shown.');

    for (const command of ['show', 'status']) {
      const shown = io();
      expect(await run([command, 'v1.us.cli.1', '--json', '--data-dir', dataDir], shown.value)).toBe(0);
      expect(JSON.parse(shown.out.stdout)).toMatchObject({ found: true, call: { sessionId: 'v1.us.cli.1' } });
    }

    const hold = io();
    expect(await run(['hold', 'v1.us.cli.1', '--data-dir', dataDir], hold.value)).toBe(0);
    const held = io();
    expect(await run(['list', '--held', '--json', '--data-dir', dataDir], held.value)).toBe(0);
    expect(JSON.parse(held.out.stdout).calls.map((c: { sessionId: string }) => c.sessionId)).toEqual([
      'v1.us.cli.1',
    ]);

    const dry = io();
    expect(
      await run(
        ['erase', '--uid', 'dee', '--mode', 'delete', '--dry-run', '--json', '--data-dir', dataDir],
        dry.value,
      ),
    ).toBe(0);
    expect(JSON.parse(dry.out.stdout)).toMatchObject({
      calls: 3,
      erased: 0,
      held: ['v1.us.cli.1'],
      sessionIds: ['v1.us.cli.0', 'v1.us.cli.2'],
      auditId: null,
    });
    expect(dry.out.stdout).not.toContain('"dee"');

    const erased = io();
    expect(
      await run(['erase', '--uid', 'dee', '--mode', 'redact', '--data-dir', dataDir], erased.value),
    ).toBe(0);
    expect(erased.out.stdout).toContain('Erased');
    const after = io();
    expect(await run(['list', '--user', 'dee', '--json', '--data-dir', dataDir], after.value)).toBe(0);
    expect(JSON.parse(after.out.stdout).calls.map((c: { sessionId: string }) => c.sessionId)).toEqual([
      'v1.us.cli.1',
    ]);

    const fetched = io();
    const to = join(scratch, 'cli-download');
    expect(await run(['download', 'v1.us.cli.files', '--to', to, '--data-dir', dataDir], fetched.value)).toBe(
      0,
    );
    expect(await readFile(join(to, 'r1.mp4'), 'utf8')).toBe('cli recording bytes');
    expect(fetched.out.stdout).toContain('each matching its stored sha256');

    const local = await startLocalStack({ dataDir, simulator: false });
    try {
      await local.clients.s3.send(
        new PutObjectCommand({
          Bucket: local.bucket,
          Key: 'recordings/v1.us.cli.files/r1.mp4',
          Body: 'tampered',
        }),
      );
    } finally {
      await local.close();
    }
    const corrupt = io();
    const again = join(scratch, 'cli-download-2');
    expect(
      await run(['download', 'v1.us.cli.files', '--to', again, '--data-dir', dataDir], corrupt.value),
    ).toBe(1);
    expect(corrupt.out.stderr).toMatch(/IntegrityError: r1\.mp4/);
    expect(await readdir(again)).toEqual([]);

    const usage = io();
    expect(
      await run(['list', '--user', 'dee', '--day', '2026-03-10', '--data-dir', dataDir], usage.value),
    ).toBe(2);
  });
});
