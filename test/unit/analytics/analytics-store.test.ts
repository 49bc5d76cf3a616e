/** The analytics record in S3 (s3rver over a real socket): written where Athena reads it. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBucket, type LocalService, localClients } from '../../../dev/local-aws.ts';
import { putAnalyticsRecord } from '../../../lib/analytics/analytics-store.ts';
import { StorageError } from '../../../lib/errors.ts';
import { fullCallItem } from '../../support/call-items.ts';
import { startScratchS3rver } from '../../support/s3rver.ts';

const BUCKET = 'analytics-test';

let s3rver: LocalService;
let s3: S3Client;

beforeAll(async () => {
  s3rver = await startScratchS3rver('analytics-store');
  // The DynamoDB endpoint is never contacted here.
  s3 = localClients({ dynamodb: 'http://127.0.0.1:9', s3: s3rver.endpoint }).s3;
  await ensureBucket(s3, BUCKET);
});

afterAll(async () => {
  s3.destroy();
  await s3rver.close();
});

describe('putAnalyticsRecord', () => {
  it('writes one JSON line under the call day, and a later write of the changed call replaces it', async () => {
    const call = fullCallItem({ sessionId: 'analytics-1', status: 'ongoing' });

    const key = await putAnalyticsRecord(s3, BUCKET, call);
    await putAnalyticsRecord(s3, BUCKET, { ...call, status: 'ended' });

    expect(key).toBe('analytics/calls/day=2025-11-30/analytics-1.json');
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const body = await object.Body?.transformToString();
    expect(object.ContentType).toBe('application/json');
    expect(body?.split('\n')).toHaveLength(2);
    expect(JSON.parse(body ?? '')).toMatchObject({ session_id: 'analytics-1', status: 'ended' });
  });

  it('writes nothing for a call with no time at all', async () => {
    const { initiatedAt: _i, startedAt: _s, endedAt: _e, ...call } = fullCallItem({ sessionId: 'timeless' });

    expect(await putAnalyticsRecord(s3, BUCKET, call)).toBeUndefined();
  });

  it('fails with StorageError, S3 error as cause, when the bucket is missing', async () => {
    const error = await putAnalyticsRecord(s3, 'no-such-bucket', fullCallItem()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).cause).toMatchObject({ name: 'NoSuchBucket' });
  });
});
