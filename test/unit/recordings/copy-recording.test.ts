import { randomUUID } from 'node:crypto';
import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBucket, type LocalService } from '../../../dev/local-aws.ts';
import type { RecordingEntry, RecordingSource } from '../../../lib/calls/types.ts';
import { RecordingDownloadError, RecordingRejectedError, StorageError } from '../../../lib/errors.ts';
import { createRecordingCopier } from '../../../lib/recordings/copy-recording.ts';
import type { UrlPolicy } from '../../../lib/recordings/url-policy.ts';
import { rejectionOf } from '../../support/errors.ts';
import { headStatus, storedDigest as storedObjectDigest } from '../../support/s3.ts';
import { defaultS3Client, startScratchS3rver } from '../../support/s3rver.ts';
import {
  contentDigest,
  type RecordingServer,
  serveContent,
  serveTruncated,
  startRecordingServer,
} from './recording-server.ts';

const MiB = 1024 * 1024;
const BUCKET = 'recordings-test';
const PREFIX = 'recordings/';
const HOST = 'recordings.test';
const QUERY = 'Expires=1700000000&Signature=s3cr3t-signature&Key-Pair-Id=KPAIRID';
const NOW = new Date('2024-05-06T07:08:09.000Z');

let s3rver: LocalService;
let s3: S3Client;
let server: RecordingServer;
let policy: UrlPolicy;

beforeAll(async () => {
  s3rver = await startScratchS3rver('copy-recording');
  s3 = defaultS3Client(s3rver.endpoint);
  await ensureBucket(s3, BUCKET);
  server = await startRecordingServer();
  policy = {
    allowedHosts: [`${HOST}:${server.port}`],
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
  };
});

afterAll(async () => {
  s3.destroy();
  await server.close();
  await s3rver.close();
});

beforeEach(() => {
  server.requests.length = 0;
});

function copier(overrides: { bucket?: string; partSizeBytes?: number } = {}) {
  return createRecordingCopier({
    s3,
    bucket: overrides.bucket ?? BUCKET,
    prefix: PREFIX,
    policy,
    partSizeBytes: overrides.partSizeBytes ?? 5 * MiB,
    concurrency: 2,
    timeoutMs: 10_000,
    now: () => NOW,
  });
}

/** A unique session and a source whose URL path is unique to it, served by `route`. */
function recording(path: string, extra: Partial<RecordingSource> = {}) {
  const sessionId = `v1.us.${randomUUID()}`;
  const fullPath = `/${sessionId}${path}`;
  const sourceUrl = `http://${HOST}:${server.port}${fullPath}`;
  const source: RecordingSource = {
    rid: `rid-${randomUUID()}`,
    url: `${sourceUrl}?${QUERY}`,
    sourceUrl,
    ...extra,
  };
  return { sessionId, source, fullPath, sourceUrl };
}

async function head(key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
}

async function tags(key: string) {
  return (await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet;
}

const storedDigest = (key: string) => storedObjectDigest(s3, BUCKET, key);
const statusOfHead = (key: string) => headStatus(s3, BUCKET, key);

describe('createRecordingCopier', () => {
  it('copies a small recording, tags its digest and describes it in the entry', async () => {
    // Arrange
    const size = 100 * 1024 + 3;
    const { sessionId, source, fullPath, sourceUrl } = recording('/r1.webm', {
      startTime: 1_700_000_000,
      endTime: 1_700_000_060,
      durationSeconds: 60,
    });
    server.routes.set(fullPath, serveContent(size, { 'content-type': 'video/webm; codecs="vp8, opus"' }));
    const expectedSha = await contentDigest(size);
    const key = `${PREFIX}${sessionId}/${source.rid}.webm`;

    // Act
    const result = await copier().copy({ sessionId, source });

    // Assert
    expect(result).toEqual({
      copied: true,
      entry: {
        rid: source.rid,
        startTime: 1_700_000_000,
        endTime: 1_700_000_060,
        durationSeconds: 60,
        sourceUrl,
        bucket: BUCKET,
        key,
        bytes: size,
        sha256: expectedSha,
        contentType: 'video/webm',
        copiedAt: NOW.toISOString(),
      } satisfies RecordingEntry,
    });
    expect(await storedDigest(key)).toEqual({ bytes: size, sha256: expectedSha });
    const stored = await head(key);
    expect(stored.Metadata).toEqual({ 'session-id': sessionId, rid: source.rid });
    expect(await tags(key)).toEqual([
      { Key: 'hold', Value: 'false' },
      { Key: 'sha256', Value: expectedSha },
    ]);
    expect(stored.ContentType).toBe('video/webm');
    const everything = JSON.stringify([result.entry, stored.Metadata, await tags(key)]);
    expect(everything).not.toContain('Signature');
    expect(everything).not.toContain('s3cr3t');
    expect(everything).not.toContain('?');
  });

  it('copies a recording larger than one part through a multipart upload', async () => {
    // Arrange
    const size = 12 * MiB + 17;
    const { sessionId, source, fullPath } = recording('/r2.mp4');
    server.routes.set(fullPath, serveContent(size, { 'content-type': 'application/octet-stream' }));
    const expectedSha = await contentDigest(size);
    const key = `${PREFIX}${sessionId}/${source.rid}.mp4`;

    // Act
    const result = await copier({ partSizeBytes: 5 * MiB }).copy({ sessionId, source });

    // Assert
    expect(result.copied).toBe(true);
    expect(result.entry).toMatchObject({ key, bytes: size, sha256: expectedSha, contentType: 'video/mp4' });
    expect(await storedDigest(key)).toEqual({ bytes: size, sha256: expectedSha });
    const stored = await head(key);
    expect(stored.Metadata).toEqual({ 'session-id': sessionId, rid: source.rid });
    expect(await tags(key)).toEqual([
      { Key: 'hold', Value: 'false' },
      { Key: 'sha256', Value: expectedSha },
    ]);
    expect(stored.ContentType).toBe('video/mp4');
  });

  it('names the key mp4 and types it from the extension when the URL and host say nothing', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/download');
    server.routes.set(fullPath, serveContent(1000));

    // Act
    const { entry: item } = await copier().copy({ sessionId, source });

    // Assert
    expect(item.key).toBe(`${PREFIX}${sessionId}/${source.rid}.mp4`);
    expect(item.contentType).toBe('video/mp4');
    expect((await head(item.key)).ContentType).toBe('video/mp4');
  });

  it('leaves no object behind when a small download is cut short, and a later good copy works', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r3.mp4');
    server.routes.set(fullPath, serveTruncated(200_000, 100_000));
    const key = `${PREFIX}${sessionId}/${source.rid}.mp4`;

    // Act
    const error = await rejectionOf(copier().copy({ sessionId, source }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).not.toContain('s3cr3t');
    expect(await statusOfHead(key)).toBe(404);

    // Arrange (the host recovers)
    server.routes.set(fullPath, serveContent(200_000));

    // Act
    const retried = await copier().copy({ sessionId, source });

    // Assert
    expect(retried.entry).toMatchObject({ key, bytes: 200_000, sha256: await contentDigest(200_000) });
    expect(await storedDigest(key)).toEqual({ bytes: 200_000, sha256: await contentDigest(200_000) });
  });

  it('leaves no object behind when a multipart download is cut short (abort failing is secondary)', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r4.mp4');
    server.routes.set(fullPath, serveTruncated(12 * MiB, 7 * MiB));
    const key = `${PREFIX}${sessionId}/${source.rid}.mp4`;

    // Act
    const error = await rejectionOf(copier({ partSizeBytes: 5 * MiB }).copy({ sessionId, source }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(await statusOfHead(key)).toBe(404);
  });

  it('skips the download when the stored object still matches the stored item', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r5.mp4');
    server.routes.set(fullPath, serveContent(50_000));
    const first = await copier().copy({ sessionId, source });
    server.requests.length = 0;

    // Act
    const second = await copier().copy({ sessionId, source, existing: first.entry });

    // Assert
    expect(second).toEqual({ entry: first.entry, copied: false });
    expect(server.requests).toHaveLength(0);
  });

  it('keeps a whole object an earlier run stored but never committed, without downloading it', async () => {
    // Arrange: the run that copied it failed before its commit, so no stored item names it.
    const { sessionId, source, fullPath } = recording('/r5b.webm');
    server.routes.set(fullPath, serveContent(50_000, { 'content-type': 'video/webm' }));
    const first = await copier().copy({ sessionId, source });
    server.requests.length = 0;

    // Act
    const second = await copier().copy({ sessionId, source });

    // Assert
    expect(second).toEqual({ entry: first.entry, copied: false });
    expect(server.requests).toHaveLength(0);
  });

  it('copies again when the stored item does not match the object', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r6.mp4');
    server.routes.set(fullPath, serveContent(50_000));
    const first = await copier().copy({ sessionId, source });
    const stale: RecordingEntry = { ...first.entry, sha256: '0'.repeat(64) };
    server.requests.length = 0;

    // Act
    const second = await copier().copy({ sessionId, source, existing: stale });

    // Assert
    expect(second.copied).toBe(true);
    expect(second.entry.sha256).toBe(await contentDigest(50_000));
    // This host ignores Range: the probe, then the one stream.
    expect(server.requests).toHaveLength(2);
  });

  it('copies again when the object lost its digest tag', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r6b.mp4');
    server.routes.set(fullPath, serveContent(50_000));
    const first = await copier().copy({ sessionId, source });
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: BUCKET, Key: first.entry.key, Tagging: { TagSet: [] } }),
    );
    server.requests.length = 0;

    // Act
    const second = await copier().copy({ sessionId, source, existing: first.entry });

    // Assert
    expect(second.copied).toBe(true);
    expect(await tags(first.entry.key)).toContainEqual({ Key: 'sha256', Value: await contentDigest(50_000) });
  });

  it('copies when the stored item points at an object that is gone', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r7.mp4');
    server.routes.set(fullPath, serveContent(1234));
    const ghost: RecordingEntry = {
      rid: source.rid,
      sourceUrl: source.sourceUrl,
      bucket: BUCKET,
      key: `${PREFIX}${sessionId}/missing.mp4`,
      bytes: 1234,
      sha256: await contentDigest(1234),
      copiedAt: NOW.toISOString(),
    };

    // Act
    const result = await copier().copy({ sessionId, source, existing: ghost });

    // Assert
    expect(result.copied).toBe(true);
    expect(result.entry.key).toBe(`${PREFIX}${sessionId}/${source.rid}.mp4`);
  });

  it('reports 403 with its status (the caller fetches a fresh URL) and stores nothing', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r8.mp4');
    server.routes.set(fullPath, (_req, res) => {
      res.writeHead(403).end('expired');
    });

    // Act
    const error = await rejectionOf(copier().copy({ sessionId, source }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect((error as RecordingDownloadError).statusCode).toBe(403);
    expect(error.message).not.toContain('s3cr3t');
    expect(await statusOfHead(`${PREFIX}${sessionId}/${source.rid}.mp4`)).toBe(404);
  });

  it('after a 401 or 403 asks refreshSource once for a fresh URL and copies from it', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r8b.mp4');
    const fresh = recording('/r8c.mp4');
    server.routes.set(fullPath, (_req, res) => {
      res.writeHead(403).end('expired');
    });
    server.routes.set(fresh.fullPath, serveContent(4321));
    let asked = 0;
    const refreshSource = async () => {
      asked += 1;
      return { ...fresh.source, rid: source.rid };
    };

    // Act
    const result = await copier().copy({ sessionId, source, refreshSource });
    // Another session: this one's object is now stored whole, and would be kept.
    const unrefreshed = await rejectionOf(
      copier().copy({ sessionId: `${sessionId}.b`, source, refreshSource: async () => undefined }),
    );

    // Assert
    expect(asked).toBe(1);
    expect(result.entry).toMatchObject({ rid: source.rid, bytes: 4321, sourceUrl: fresh.sourceUrl });
    expect((unrefreshed as RecordingDownloadError).statusCode).toBe(403);
  });

  it('refuses a URL that fails the policy without contacting anything', async () => {
    // Arrange
    const { sessionId, source } = recording('/r9.mp4');
    const elsewhere = { ...source, url: `https://elsewhere.test/r9.mp4?${QUERY}` };

    // Act
    const error = await rejectionOf(copier().copy({ sessionId, source: elsewhere }));

    // Assert
    expect(error).toBeInstanceOf(RecordingRejectedError);
    expect(server.requests).toHaveLength(0);
  });

  it('reports an S3 failure as a StorageError with the cause', async () => {
    // Arrange
    const { sessionId, source, fullPath } = recording('/r10.mp4');
    server.routes.set(fullPath, serveContent(1000));

    // Act
    const error = await rejectionOf(copier({ bucket: 'no-such-bucket' }).copy({ sessionId, source }));

    // Assert
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).cause).toMatchObject({ name: 'NoSuchBucket' });
  });

  it('keeps the key inside the session folder whatever the ids hold', async () => {
    // Arrange
    const { source, fullPath } = recording('/r11.mp4');
    server.routes.set(fullPath, serveContent(10));
    const sessionId = '..';
    const odd = { ...source, rid: '../../etc/passwd' };

    // Act
    const { entry: item } = await copier().copy({ sessionId, source: odd });

    // Assert
    expect(item.key).toBe(`${PREFIX}%2E%2E/..%2F..%2Fetc%2Fpasswd.mp4`);
    expect((await head(item.key)).Metadata).toMatchObject({
      'session-id': '..',
      rid: '..%2F..%2Fetc%2Fpasswd',
    });
  });
});
