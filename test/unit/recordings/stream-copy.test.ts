/**
 * The single-stream path against s3rver, behind a proxy that can hold S3 calls: reading stops
 * while every upload slot is busy, so memory is bounded by design, not by the garbage collector.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBucket, type LocalService } from '../../../dev/local-aws.ts';
import { recordingStream } from '../../../dev/simulator/index.ts';
import { RecordingDownloadError } from '../../../lib/errors.ts';
import { createResumableSha256 } from '../../../lib/recordings/resumable-sha256.ts';
import { copyStream } from '../../../lib/recordings/stream-copy.ts';
import { rejectionOf } from '../../support/errors.ts';
import { digestOf, headStatus, storedDigest } from '../../support/s3.ts';
import { type S3FaultProxy, startS3FaultProxy } from '../../support/s3-fault-proxy.ts';
import { defaultS3Client, startScratchS3rver } from '../../support/s3rver.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const BUCKET = 'stream-copy-test';

let s3rver: LocalService;
let proxy: S3FaultProxy;
let s3: S3Client;

beforeAll(async () => {
  s3rver = await startScratchS3rver('stream-copy');
  proxy = await startS3FaultProxy(s3rver.endpoint);
  s3 = defaultS3Client(proxy.endpoint);
  await ensureBucket(s3, BUCKET);
});

afterAll(async () => {
  s3.destroy();
  await proxy.close();
  await s3rver.close();
});

/** A body of `size` bytes that counts what has been pulled from it. */
function body(name: string, size: number) {
  const counter = { pulled: 0 };
  const source = recordingStream(name, size);
  const counted = Readable.from(
    (async function* () {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        counter.pulled += chunk.length;
        yield chunk;
      }
    })(),
    { highWaterMark: 1 },
  );
  return { counted, counter };
}

describe('copyStream', () => {
  it('stops reading while every upload slot is busy: at most K + 1 parts ahead', async () => {
    // Arrange: every UploadPart held until the test lets them go.
    const name = `f-${randomUUID()}`;
    const size = 8 * PART;
    const key = `stream/${name}`;
    const { counted, counter } = body(name, size);
    const release = proxy.holdOn('UploadPart');
    const hasher = await createResumableSha256();

    // Act
    const copying = copyStream({
      target: { s3, bucket: BUCKET, key },
      attributes: { contentType: 'video/mp4' },
      body: counted,
      host: 'test',
      expectedBytes: size,
      partSize: PART,
      concurrency: 2,
      hasher,
    });
    while (proxy.holding('UploadPart') < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    // Give the copier every chance to read on if it were going to.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pulledWhileHeld = counter.pulled;
    release();
    const bytes = await copying;

    // Assert: two parts in flight, one buffer filled, plus the few chunks the streams read ahead.
    expect(pulledWhileHeld).toBeLessThanOrEqual(3 * PART + 4 * 64 * 1024);
    expect(bytes).toBe(size);
    const { sha256 } = await digestOf(recordingStream(name, size));
    expect(hasher.digest()).toBe(sha256);
    expect(await storedDigest(s3, BUCKET, key)).toEqual({ bytes: size, sha256 });
  });

  it('refuses a body longer than announced and stores nothing', async () => {
    const name = `f-${randomUUID()}`;
    const key = `stream/${name}`;

    const error = await rejectionOf(
      copyStream({
        target: { s3, bucket: BUCKET, key },
        attributes: {},
        body: body(name, 2 * PART).counted,
        host: 'test',
        expectedBytes: 2 * PART - 1,
        partSize: PART,
        concurrency: 2,
        hasher: await createResumableSha256(),
      }),
    );

    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(await headStatus(s3, BUCKET, key)).toBe(404);
  });

  it('gives up on an AbortMultipartUpload S3 does not answer, so the clean-up cannot outlive the handler', async () => {
    // Arrange: the upload is started (one part out), then the body runs over; its abort is held.
    const name = `f-${randomUUID()}`;
    const release = proxy.holdOn('AbortMultipartUpload');

    try {
      // Act
      const error = await rejectionOf(
        copyStream({
          target: { s3, bucket: BUCKET, key: `stream/${name}` },
          attributes: {},
          body: body(name, 2 * PART).counted,
          host: 'test',
          expectedBytes: 2 * PART - 1,
          partSize: PART,
          concurrency: 2,
          hasher: await createResumableSha256(),
        }),
      );

      // Assert: the download's own error, once the abort was asked for and given up on.
      expect(error).toBeInstanceOf(RecordingDownloadError);
      expect(proxy.count('AbortMultipartUpload')).toBeGreaterThan(0);
    } finally {
      release();
    }
  });
});
