import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBucket, type LocalService, localClients } from '../../../dev/local-aws.ts';
import { createManifestSink, MANIFEST_PREFIX, openManifest } from '../../../lib/backfill/manifest.ts';
import { StorageError } from '../../../lib/errors.ts';
import { startScratchS3rver } from '../../support/s3rver.ts';

const BUCKET = 'manifest-unit';
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:archive-dev-backfill';

let s3rver: LocalService;
let s3: S3Client;

beforeAll(async () => {
  s3rver = await startScratchS3rver('manifest-unit');
  const clients = localClients({ dynamodb: 'http://127.0.0.1:9', s3: s3rver.endpoint });
  clients.dynamodb.destroy();
  s3 = clients.s3;
  await ensureBucket(s3, BUCKET);
});

afterAll(async () => {
  s3?.destroy();
  await s3rver?.close();
});

async function linesOf(key: string): Promise<string[]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const text = await object.Body?.transformToString();
  return (text ?? '').split('\n');
}

const sessionId = (i: number) => `v1.us.2f6c81d0a9e4b357.1714550000${String(i).padStart(40, '0')}`;

describe('openManifest', () => {
  it('writes one {"sessionId"} JSON line per call', async () => {
    const key = `${MANIFEST_PREFIX}small.jsonl`;
    const writer = openManifest(s3, { bucket: BUCKET, key });

    for (let i = 0; i < 3; i++) await writer.write(sessionId(i));
    const written = await writer.close();

    expect(written).toEqual({ bucket: BUCKET, key, count: 3 });
    expect(await linesOf(key)).toEqual([
      `{"sessionId":"${sessionId(0)}"}`,
      `{"sessionId":"${sessionId(1)}"}`,
      `{"sessionId":"${sessionId(2)}"}`,
      '',
    ]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentType).toBe('application/x-ndjson');
  });

  it('streams a manifest larger than one upload part (multipart) without losing a line', async () => {
    const key = `${MANIFEST_PREFIX}large.jsonl`;
    const writer = openManifest(s3, { bucket: BUCKET, key });
    const count = 70_000; // about 7.7 MB: more than the 5 MiB part size

    for (let i = 0; i < count; i++) await writer.write(sessionId(i));
    await writer.close();

    const lines = await linesOf(key);
    expect(lines).toHaveLength(count + 1);
    expect(lines[count - 1]).toBe(`{"sessionId":"${sessionId(count - 1)}"}`);
    expect(new Set(lines).size).toBe(count + 1);
  });

  it('fails with a StorageError, without hanging, when S3 refuses the object', async () => {
    const writer = openManifest(s3, { bucket: 'no-such-bucket', key: `${MANIFEST_PREFIX}x.jsonl` });

    const outcome = (async () => {
      for (let i = 0; i < 100_000; i++) await writer.write(sessionId(i));
      await writer.close();
    })();

    await expect(outcome).rejects.toBeInstanceOf(StorageError);
  });

  it('leaves nothing behind when aborted', async () => {
    const key = `${MANIFEST_PREFIX}aborted.jsonl`;
    const writer = openManifest(s3, { bucket: BUCKET, key });
    await writer.write(sessionId(1));

    await writer.abort();

    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toThrow();
  });

  it("stops with the invocation's signal: a StorageError, and nothing at the key", async () => {
    const key = `${MANIFEST_PREFIX}out-of-time.jsonl`;
    const controller = new AbortController();
    const writer = openManifest(s3, { bucket: BUCKET, key }, { signal: controller.signal });
    await writer.write(sessionId(1));

    controller.abort();

    await expect(writer.close()).rejects.toBeInstanceOf(StorageError);
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toThrow();
  });
});

describe('createManifestSink', () => {
  it('starts the state machine once, named after the run, with the manifest key', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolves({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:archive-dev-backfill:run-1',
      startDate: new Date(),
    });
    const sink = createManifestSink({
      s3,
      sfn: new SFNClient({}),
      bucket: BUCKET,
      stateMachineArn: STATE_MACHINE,
    });

    const execution = await sink.start(
      { bucket: BUCKET, key: 'backfill/manifests/run-1.jsonl', count: 3 },
      'run-1',
    );

    expect(execution).toBe('arn:aws:states:us-east-1:123456789012:execution:archive-dev-backfill:run-1');
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(STATE_MACHINE);
    expect(input?.name).toBe('run-1');
    expect(JSON.parse(input?.input ?? '')).toEqual({
      manifestKey: 'backfill/manifests/run-1.jsonl',
      manifest: { bucket: BUCKET, key: 'backfill/manifests/run-1.jsonl' },
    });
    sfn.restore();
  });

  it('turns a Step Functions failure into a StorageError', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    const sink = createManifestSink({
      s3,
      sfn: new SFNClient({}),
      bucket: BUCKET,
      stateMachineArn: STATE_MACHINE,
    });

    await expect(sink.start({ bucket: BUCKET, key: 'k', count: 1 }, 'run-2')).rejects.toBeInstanceOf(
      StorageError,
    );
    sfn.restore();
  });

  it('writes manifests under backfill/manifests/ and refuses a run id Step Functions would refuse', async () => {
    const sink = createManifestSink({
      s3,
      sfn: { send: async () => ({}) },
      bucket: BUCKET,
      stateMachineArn: STATE_MACHINE,
    });
    const writer = sink.open('run-3');
    await writer.write(sessionId(3));

    expect(await writer.close()).toEqual({ bucket: BUCKET, key: 'backfill/manifests/run-3.jsonl', count: 1 });
    await expect(sink.start({ bucket: BUCKET, key: 'k', count: 1 }, 'run 3!')).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});
