import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBucket, type LocalService, localClients, startS3rver } from '../../../dev/local-aws.ts';
import { createMultipartUpload, MIN_PART_SIZE_BYTES } from '../../../lib/recordings/multipart-upload.ts';
import { forwardRequest } from '../../support/counting-proxy.ts';
import { headStatus, storedDigest } from '../../support/s3.ts';

const MiB = 1024 * 1024;
const PART = MIN_PART_SIZE_BYTES;
const BUCKET = 'multipart-test';

/** What the proxy in front of s3rver does with one request. */
type Decision = 'forward' | { status: number } | { holdUntil: Promise<void> };

/** A proxy in front of s3rver that logs each request and lets a test fail or hold some. */
interface S3Proxy {
  readonly endpoint: string;
  /** `METHOD ?query-keys` of each request, e.g. `PUT partNumber,uploadId`. */
  readonly seen: string[];
  /** The headers of each request, in the same order. */
  readonly headers: IncomingMessage['headers'][];
  decide: (req: IncomingMessage) => Decision;
  close(): Promise<void>;
}

async function startS3Proxy(target: string): Promise<S3Proxy> {
  const upstream = new URL(target);
  const proxy: S3Proxy = {
    endpoint: '',
    seen: [],
    headers: [],
    decide: () => 'forward',
    close: async () => {},
  };
  const forward = (req: IncomingMessage, res: ServerResponse) => forwardRequest(upstream, req, res);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    proxy.seen.push(`${req.method} ${[...url.searchParams.keys()].sort().join(',')}`);
    proxy.headers.push(req.headers);
    const decision = proxy.decide(req);
    if (decision === 'forward') {
      forward(req, res);
    } else if ('status' in decision) {
      req.resume();
      res.writeHead(decision.status, { 'content-type': 'application/xml' });
      res.end('<Error><Code>InternalError</Code><Message>scripted</Message></Error>');
    } else {
      decision.holdUntil.then(() => forward(req, res));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(proxy, {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return proxy;
}

/** `total` deterministic bytes in chunks of `chunk`; `pulled` counts what the consumer asked for. */
function source(total: number, chunk: number, onPull?: (pulled: number) => void) {
  let pulled = 0;
  const iterable = (async function* () {
    for (let offset = 0; offset < total; offset += chunk) {
      const size = Math.min(chunk, total - offset);
      const bytes = Buffer.alloc(size);
      for (let i = 0; i + 4 <= size; i += 4096) bytes.writeUInt32BE((offset + i) >>> 0, i);
      pulled += size;
      onPull?.(pulled);
      yield bytes;
    }
  })();
  return { iterable, pulled: () => pulled };
}

async function digestOf(total: number, chunk: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const bytes of source(total, chunk).iterable) hash.update(bytes);
  return hash.digest('hex');
}

let directory: string;
let s3rver: LocalService;
let proxy: S3Proxy;
let s3: S3Client;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'multipart-upload-'));
  s3rver = await startS3rver({ directory });
  proxy = await startS3Proxy(s3rver.endpoint);
  s3 = localClients({ dynamodb: 'http://127.0.0.1:9', s3: proxy.endpoint }).s3;
  await ensureBucket(s3, BUCKET);
});

afterAll(async () => {
  s3.destroy();
  await proxy.close();
  await s3rver.close();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => {
  proxy.seen.length = 0;
  proxy.headers.length = 0;
  proxy.decide = () => 'forward';
});

const stored = (key: string) => storedDigest(s3, BUCKET, key);
const headStatusOf = (key: string) => headStatus(s3, BUCKET, key);

describe('createMultipartUpload', () => {
  it('stores exactly one part with a single PutObject, with its type and metadata', async () => {
    // Arrange
    const key = `one-part-${randomUUID()}`;
    const { iterable } = source(PART, 64 * 1024);

    // Act
    const upload = createMultipartUpload(iterable, {
      s3,
      bucket: BUCKET,
      key,
      contentType: 'video/mp4',
      metadata: { rid: 'r-1' },
      partSize: PART,
      queueSize: 2,
    });
    const { etag } = await upload.done();

    // Assert
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(upload.uploadId).toBeUndefined();
    expect(proxy.seen.filter((r) => r.startsWith('POST'))).toEqual([]);
    expect(await stored(key)).toEqual({ bytes: PART, sha256: await digestOf(PART, 64 * 1024) });
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentType).toBe('video/mp4');
    expect(head.Metadata).toEqual({ rid: 'r-1' });
  });

  it('splits a stream into parts whatever its chunks, in order, and completes the upload', async () => {
    // Arrange: chunks that straddle part boundaries, and a short last part.
    const total = 3 * PART + 12_345;
    const key = `parts-${randomUUID()}`;
    const { iterable } = source(total, 777_777);

    // Act
    const upload = createMultipartUpload(iterable, { s3, bucket: BUCKET, key, partSize: PART, queueSize: 3 });
    await upload.done();

    // Assert
    expect(upload.uploadId).toEqual(expect.any(String));
    expect(proxy.seen.filter((r) => r.startsWith('PUT partNumber,uploadId'))).toHaveLength(4);
    expect(await stored(key)).toEqual({ bytes: total, sha256: await digestOf(total, 777_777) });
  });

  it('stops reading while every upload slot is busy: at most queueSize + 1 parts ahead', async () => {
    // Arrange: hold every UploadPart until the test lets them go.
    const key = `backpressure-${randomUUID()}`;
    const queueSize = 2;
    let holding = true;
    let letGo: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const release = () => {
      holding = false;
      letGo();
    };
    let heldParts = 0;
    let bothHeld: () => void = () => {};
    const slotsFull = new Promise<void>((resolve) => {
      bothHeld = resolve;
    });
    proxy.decide = (req) => {
      if (req.method !== 'PUT' || !req.url?.includes('partNumber=')) return 'forward';
      if (!holding) return 'forward';
      heldParts += 1;
      if (heldParts === queueSize) bothHeld();
      return { holdUntil: held };
    };
    let pulledWhileHeld = 0;
    const total = 8 * PART;
    const { iterable, pulled } = source(total, 64 * 1024, (n) => {
      if (holding && heldParts >= queueSize) pulledWhileHeld = Math.max(pulledWhileHeld, n);
    });
    const upload = createMultipartUpload(iterable, { s3, bucket: BUCKET, key, partSize: PART, queueSize });

    // Act
    const done = upload.done();
    await slotsFull;
    // Let the uploader fill its one spare buffer and reach the point where it must wait.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const pulledAtStall = pulled();
    release();
    await done;

    // Assert: two parts in flight and one buffer filling (plus the chunk that proved it full).
    expect(pulledAtStall).toBeLessThanOrEqual((queueSize + 1) * PART + 64 * 1024);
    expect(pulledWhileHeld).toBeLessThanOrEqual((queueSize + 1) * PART + 64 * 1024);
    expect(await stored(key)).toEqual({ bytes: total, sha256: await digestOf(total, 64 * 1024) });
  });

  it('rejects with the stream error and completes nothing when the source fails midway', async () => {
    // Arrange
    const key = `source-fails-${randomUUID()}`;
    const failure = new Error('the download broke');
    const iterable = (async function* () {
      yield Buffer.alloc(PART);
      yield Buffer.alloc(PART);
      throw failure;
    })();

    // Act
    const upload = createMultipartUpload(iterable, { s3, bucket: BUCKET, key, partSize: PART, queueSize: 2 });
    const error = await upload.done().then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assert
    expect(error).toBe(failure);
    expect(upload.uploadId).toEqual(expect.any(String));
    expect(proxy.seen.filter((r) => r.startsWith('POST uploadId'))).toEqual([]);
    expect(await headStatusOf(key)).toBe(404);
  });

  it('rejects with the S3 error and completes nothing when a part cannot be stored', async () => {
    // Arrange: the second part fails every time (the SDK's own retries included).
    const key = `part-fails-${randomUUID()}`;
    proxy.decide = (req) =>
      req.method === 'PUT' && req.url?.includes('partNumber=2') ? { status: 500 } : 'forward';
    const { iterable } = source(4 * PART, 64 * 1024);

    // Act
    const upload = createMultipartUpload(iterable, { s3, bucket: BUCKET, key, partSize: PART, queueSize: 1 });
    const error = (await upload.done().then(
      () => undefined,
      (e: unknown) => e,
    )) as { $metadata?: { httpStatusCode?: number } } | undefined;

    // Assert
    expect(error?.$metadata?.httpStatusCode).toBe(500);
    expect(proxy.seen.filter((r) => r.startsWith('POST uploadId'))).toEqual([]);
    expect(await headStatusOf(key)).toBe(404);
  });

  it('creates the upload for CRC32 parts when the client adds checksums, as the SDK does by default', async () => {
    // Arrange
    const key = `checksums-${randomUUID()}`;
    const checksummed = new S3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const { iterable } = source(PART + 1, 64 * 1024);

    // Act
    try {
      await createMultipartUpload(iterable, {
        s3: checksummed,
        bucket: BUCKET,
        key,
        partSize: PART,
        queueSize: 2,
      }).done();
    } finally {
      checksummed.destroy();
    }

    // Assert
    const create = proxy.seen.findIndex((r) => r.startsWith('POST uploads'));
    expect(proxy.headers[create]?.['x-amz-checksum-algorithm']).toBe('CRC32');
    const parts = proxy.seen.flatMap((r, i) => (r.startsWith('PUT partNumber') ? [proxy.headers[i]] : []));
    expect(parts).toHaveLength(2);
    for (const headers of parts) expect(headers?.['x-amz-checksum-crc32']).toEqual(expect.any(String));
    expect(await stored(key)).toEqual({ bytes: PART + 1, sha256: await digestOf(PART + 1, 64 * 1024) });
  });

  it('refuses parts below S3 minimum and an empty queue before sending anything', () => {
    // Arrange
    const { iterable } = source(MiB, MiB);

    // Act
    const tooSmall = () =>
      createMultipartUpload(iterable, { s3, bucket: BUCKET, key: 'x', partSize: PART - 1, queueSize: 1 });
    const noQueue = () =>
      createMultipartUpload(iterable, { s3, bucket: BUCKET, key: 'x', partSize: PART, queueSize: 0 });

    // Assert
    expect(tooSmall).toThrow(RangeError);
    expect(noQueue).toThrow(RangeError);
    expect(proxy.seen).toEqual([]);
  });
});
