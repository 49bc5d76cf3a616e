/**
 * Analytics records written as calls are archived (issue 13.4), on the local stack: the real
 * enrichment against dynalite, s3rver (behind a counting proxy) and the CometChat simulator.
 * The record read back from S3 fits the Glue table column by column; a no-op rerun writes nothing.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localClients } from '../../dev/local-aws.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { createDocumentClient } from '../../lib/aws/dynamodb.ts';
import { enrichDependenciesFromEnv } from '../../lib/enrich/dependencies.ts';
import { type EnrichDependencies, enrichCall } from '../../lib/enrich/enrich.ts';
import { eraseDependenciesFromEnv } from '../../lib/erase/dependencies.ts';
import { eraseUser } from '../../lib/erase/erase.ts';
import { type CountingProxy, startCountingProxy } from '../support/counting-proxy.ts';
import { endedCall } from '../support/ended-call.ts';
import { columns, recordMismatches } from '../unit/analytics/glue-table.ts';

// 2025-03-04T05:06:07Z
const T0 = 1_741_064_767;
const DAY = '2025-03-04';
let stack: LocalStack;
let documents: DynamoDBDocumentClient;
let s3Proxy: CountingProxy;
let deps: EnrichDependencies;
let sequence = 0;

function addCall(uids: string[]): string {
  sequence += 1;
  const sessionId = `v1.us.analytics-test.${T0}.${sequence}`;
  const call = endedCall({
    sessionId,
    uids,
    initiatedAt: T0 + sequence,
    recordingId: `rec-${sequence}`,
    recordingBytes: 2048,
  });
  stack.simulator?.addCall(call);
  return sessionId;
}

async function read(key: string): Promise<string> {
  const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return (await object.Body?.transformToString()) ?? '';
}

async function analyticsKeys(): Promise<string[]> {
  const listed = await stack.clients.s3.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: 'analytics/calls/' }),
  );
  return (listed.Contents ?? []).map((o) => o.Key as string).sort();
}

beforeAll(async () => {
  stack = await startLocalStack({ simulator: { calls: [] } });
  documents = createDocumentClient(stack.clients.dynamodb);
  s3Proxy = await startCountingProxy(stack.env.AWS_ENDPOINT_URL_S3 as string);
  const counted = localClients({
    dynamodb: stack.env.AWS_ENDPOINT_URL_DYNAMODB as string,
    s3: s3Proxy.endpoint,
  });
  deps = enrichDependenciesFromEnv(stack.env, { dynamodb: documents, s3: async () => counted.s3 });
}, 60_000);

beforeEach(() => s3Proxy.reset());

afterAll(async () => {
  await s3Proxy?.close();
  await stack?.close();
});

describe('analytics records', () => {
  it('are written as a call is archived, under its day, and fit the Glue table column by column', async () => {
    const sessionId = addCall(['ana-1', 'bob-2']);

    await enrichCall({ sessionId }, deps);

    const key = `analytics/calls/day=${DAY}/${encodeURIComponent(sessionId)}.json`;
    expect(await analyticsKeys()).toContain(key);
    const body = await read(key);
    expect(body.endsWith('\n')).toBe(true);
    expect(body.trimEnd()).not.toContain('\n');
    const record = JSON.parse(body) as Record<string, unknown>;
    expect(recordMismatches(record)).toEqual([]);
    expect(Object.keys(record).every((name) => columns.has(name))).toBe(true);
    expect(record).toMatchObject({
      session_id: sessionId,
      status: 'ended',
      initiated_at: T0 + sequence,
      recording_count: 1,
      recording_bytes: 2048,
      participants: [expect.objectContaining({ uid: 'ana-1' }), expect.objectContaining({ uid: 'bob-2' })],
    });
  });

  it('are not rewritten by a rerun that changed nothing (no PUT at the wire)', async () => {
    const sessionId = addCall(['cat-3', 'dan-4']);
    await enrichCall({ sessionId }, deps);
    expect(s3Proxy.count('PUT')).toBeGreaterThan(0);
    s3Proxy.reset();

    const again = await enrichCall({ sessionId }, deps);

    expect(again.recordings).toEqual([expect.objectContaining({ copied: false })]);
    expect(s3Proxy.count('PUT', 'POST', 'DELETE')).toBe(0);
  });

  it('hold an erased participant redacted, like the call item', async () => {
    const eraseDeps = eraseDependenciesFromEnv(stack.env, { dynamodb: documents, s3: stack.clients.s3 });
    const { uidHash } = await eraseUser({ uid: 'eve-5', mode: 'redact' }, eraseDeps);
    const sessionId = addCall(['eve-5', 'fay-6']);

    await enrichCall({ sessionId }, deps);

    const body = await read(`analytics/calls/day=${DAY}/${encodeURIComponent(sessionId)}.json`);
    expect(body).not.toMatch(/eve-5|Full Name Of eve/);
    expect(JSON.parse(body)).toMatchObject({
      initiator: `erased:${uidHash}`,
      participants: [
        expect.objectContaining({ uid: `erased:${uidHash}` }),
        expect.objectContaining({ uid: 'fay-6' }),
      ],
    });
  });
});
