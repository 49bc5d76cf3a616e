/**
 * The copy of one file against real servers over real sockets: s3rver (behind a proxy that names
 * and can fail each S3 call), dynalite for the resume record, and the CometChat simulator's
 * recording host (ranges, signed URLs, a fault hook per request).
 */
import { randomUUID } from 'node:crypto';
import { GetObjectTaggingCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ensureBucket,
  ensureTable,
  type LocalService,
  localClients,
  startDynalite,
} from '../../../dev/local-aws.ts';
import {
  type CometChatSimulator,
  type RecordingHostSettings,
  type RecordingRequestHook,
  recordingStream,
  startCometChatSimulator,
} from '../../../dev/simulator/index.ts';
import { createDocumentClient } from '../../../lib/aws/dynamodb.ts';
import { RecordingDownloadError, StorageError } from '../../../lib/errors.ts';
import { type CopyFileSettings, copyFile } from '../../../lib/recordings/copy-file.ts';
import type { UrlPolicy } from '../../../lib/recordings/url-policy.ts';
import { createUploadRecords, type UploadRecords } from '../../../lib/store/upload-records.ts';
import { CLEANUP_MS } from '../../../lib/time-budget.ts';
import { rejectionOf } from '../../support/errors.ts';
import { digestOf, headStatus, storedDigest } from '../../support/s3.ts';
import { type S3FaultProxy, startS3FaultProxy } from '../../support/s3-fault-proxy.ts';
import { defaultS3Client, startScratchS3rver } from '../../support/s3rver.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const BUCKET = 'copy-file-test';
const TABLE = 'copy-file-test';

let s3rver: LocalService;
let dynalite: LocalService;
let proxy: S3FaultProxy;
let s3: S3Client;
let sim: CometChatSimulator;
let policy: UrlPolicy;
const local = { s3: undefined as unknown as S3Client, dynamodb: undefined as unknown as { destroy(): void } };
let records: ReturnType<typeof createUploadRecords>;

beforeAll(async () => {
  [s3rver, dynalite] = await Promise.all([startScratchS3rver('copy-file'), startDynalite()]);
  proxy = await startS3FaultProxy(s3rver.endpoint);
  const clients = localClients({ dynamodb: dynalite.endpoint, s3: s3rver.endpoint });
  local.s3 = clients.s3;
  local.dynamodb = clients.dynamodb;
  await Promise.all([ensureBucket(clients.s3, BUCKET), ensureTable(clients.dynamodb, TABLE)]);
  records = createUploadRecords({ client: createDocumentClient(clients.dynamodb), tableName: TABLE });
  s3 = defaultS3Client(proxy.endpoint);
  sim = await startCometChatSimulator();
  policy = { allowedHosts: [sim.recordingsHost] };
});

afterAll(async () => {
  s3.destroy();
  local.s3.destroy();
  local.dynamodb.destroy();
  await sim.close();
  await proxy.close();
  await Promise.all([s3rver.close(), dynalite.close()]);
});

beforeEach(() => {
  sim.onRecordingRequest(undefined);
  sim.resetRequests();
  proxy.reset();
});

const SETTINGS: CopyFileSettings = {
  policy: undefined as unknown as UrlPolicy,
  partSizeBytes: PART,
  concurrency: 4,
  timeoutMs: 10_000,
  recordEveryMs: 0,
  random: () => 0,
};

/** A fresh signed URL for recording `rid` of call `sessionId`, from Get Call. */
async function recordingUrl(sessionId: string, rid: string): Promise<string> {
  const response = await fetch(`${sim.baseUrl}/calls/${sessionId}`, { headers: { apikey: sim.apiKey } });
  const { data } = (await response.json()) as {
    data: { recordings: { rid: string; recording_url: string }[] };
  };
  const url = data.recordings.find((r) => r.rid === rid)?.recording_url;
  if (!url) throw new Error(`Get Call lists no recording ${rid}`);
  return url;
}

/**
 * A new file of `size` bytes on the host (a call with one recording, served with `settings`) and
 * where it goes in S3; the host's request log starts empty.
 */
async function file(size: number, settings: RecordingHostSettings = {}) {
  const rid = `f-${randomUUID()}`;
  const sessionId = `v1.us.${randomUUID()}`;
  sim.addCall({
    raw: { sessionId, status: 'ended', initiatedAt: 1_700_000_000 },
    recordings: [{ rid, bytes: size }],
  });
  sim.configureRecordingHost(settings, rid);
  const url = await recordingUrl(sessionId, rid);
  sim.resetRequests();
  return { rid, size, sessionId, key: `recordings/${sessionId}/${rid}.mp4`, url };
}

type File = Awaited<ReturnType<typeof file>>;

/** Decides a fault for each download from now on (`index` counts the downloads it was asked about, from 0). */
const onDownload = (hook: RecordingRequestHook) => sim.onRecordingRequest(hook);

/** The downloads the host answered, in order. */
const downloads = () => sim.requests.filter((r) => r.kind === 'recording');

function copy(
  f: File,
  extra: { refresh?: () => Promise<string | undefined>; signal?: AbortSignal; resume?: boolean } = {},
  settings: Partial<CopyFileSettings> = {},
) {
  return copyFile(
    {
      target: { s3, bucket: BUCKET, key: f.key },
      metadata: { 'session-id': f.sessionId },
      contentType: (header) => header?.split(';')[0] ?? 'video/mp4',
      url: f.url,
      ...(extra.refresh && { refresh: extra.refresh }),
      ...(extra.resume !== false && { resume: { records, sessionId: f.sessionId } }),
    },
    { ...SETTINGS, policy, ...settings },
    extra.signal,
  );
}

async function tagOf(key: string, name = 'sha256'): Promise<string | undefined> {
  const tags = await local.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
  return tags.TagSet?.find((tag) => tag.Key === name)?.Value;
}

async function expectStored(f: File, version = 0) {
  const { sha256 } = await digestOf(recordingStream(f.rid, f.size, { version }));
  expect(await storedDigest(local.s3, BUCKET, f.key)).toEqual({ bytes: f.size, sha256 });
  expect(await tagOf(f.key)).toBe(sha256);
  // Every archived object may expire with retention unless held (lib/retention).
  expect(await tagOf(f.key, 'hold')).toBe('false');
  return sha256;
}

const rangeRequests = () => downloads().filter((r) => r.range !== undefined);

describe('copyFile with a host that honours Range', () => {
  it.each([
    ['exactly one part', PART, 1],
    ['one byte more than a part', PART + 1, 2],
    ['many parts', 11 * PART + 12_345, 12],
  ])('copies a file of %s, each part fetched once, and tags its sha256', async (_name, size, parts) => {
    // Arrange
    const f = await file(size);

    // Act
    const result = await copy(f);

    // Assert
    const sha256 = await expectStored(f);
    expect(result).toEqual({ bytes: size, sha256, contentType: 'video/mp4' });
    expect(rangeRequests()).toHaveLength(parts);
    expect(downloads()).toHaveLength(parts);
    expect(sim.bytesServed()).toBeGreaterThanOrEqual(size);
    expect(proxy.count('UploadPart')).toBe(parts === 1 ? 0 : parts);
    expect(proxy.count('PutObject')).toBe(parts === 1 ? 1 : 0);
    expect(proxy.count('CopyObject')).toBe(0);
    expect(proxy.count('PutObjectTagging')).toBe(1);
    expect(await records.get(f.sessionId, f.key)).toBeUndefined();
  });

  it('keeps up to K parts in flight at once, never more', async () => {
    // Paced so that parts overlap; only the overlap is asserted, never a time.
    const f = await file(8 * PART, { bytesPerSecond: 20 * MiB });

    await copy(f, {}, { concurrency: 3 });

    await expectStored(f);
    expect(rangeRequests()).toHaveLength(8);
    expect(sim.mostRecordingsAtOnce()).toBe(3);
  });

  it('fetches a truncated range again alone and still stores the exact file', async () => {
    const f = await file(3 * PART);
    onDownload(({ index }) => (index === 1 ? { kind: 'truncate', afterBytes: 1000 } : undefined));

    await copy(f);

    await expectStored(f);
    expect(rangeRequests()).toHaveLength(4);
    const asked = rangeRequests().map((r) => r.range);
    expect(new Set(asked).size).toBe(3);
  });

  it('gives up on a part after its bounded attempts with a RecordingDownloadError, and aborts the upload', async () => {
    const f = await file(3 * PART);
    onDownload(({ range }) =>
      range === `bytes=${PART}-${2 * PART - 1}` ? { kind: 'status', status: 503 } : undefined,
    );

    const error = await rejectionOf(copy(f, {}, { partAttempts: 3 }));

    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect((error as RecordingDownloadError).statusCode).toBe(503);
    expect(rangeRequests().filter((r) => r.range === `bytes=${PART}-${2 * PART - 1}`)).toHaveLength(3);
    expect(await headStatus(local.s3, BUCKET, f.key)).toBe(404);
  });

  it('asks for a fresh URL on 401/403 and carries on with it', async () => {
    const f = await file(4 * PART);
    // The first URL expires after its first answer, as a short-lived signed URL does.
    onDownload(({ index }) => (index === 1 ? { kind: 'expire' } : undefined));
    let refreshes = 0;
    const refresh = async () => {
      refreshes += 1;
      return recordingUrl(f.sessionId, f.rid);
    };

    await copy(f, { refresh });

    await expectStored(f);
    expect(refreshes).toBe(1);
  });

  it('fails with the 401 as a RecordingDownloadError when no fresh URL is to be had', async () => {
    const f = await file(2 * PART);
    onDownload(() => ({ kind: 'status', status: 401 }));

    const error = await rejectionOf(copy(f, { refresh: async () => undefined }));

    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect((error as RecordingDownloadError).statusCode).toBe(401);
  });

  it('fails, aborts the upload and forgets the record when the file changes during the copy', async () => {
    const f = await file(6 * PART);
    onDownload(({ index }) => {
      if (index === 2) sim.replaceRecordingContent(f.rid);
      return undefined;
    });

    const error = await rejectionOf(copy(f, {}, { concurrency: 1 }));

    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).toMatch(/changed/);
    expect(proxy.count('AbortMultipartUpload')).toBe(1);
    expect(await records.get(f.sessionId, f.key)).toBeUndefined();
    expect(await headStatus(local.s3, BUCKET, f.key)).toBe(404);
  });
});

describe('copyFile with a host without ranges or length', () => {
  it.each([
    ['ignores Range', { ranges: false, contentLength: true }],
    ['sends no Content-Length', { ranges: false, contentLength: false }],
  ])('streams the whole file after the one probe when the host %s', async (_name, settings) => {
    const f = await file(3 * PART + 7, settings);

    await copy(f);

    await expectStored(f);
    // The probe's answer is left unread (its connection closed at the head), then one stream.
    expect(downloads().map((r) => r.range)).toEqual([`bytes=0-${PART - 1}`, undefined]);
    expect(sim.bytesServed()).toBeGreaterThanOrEqual(f.size);
    expect(sim.bytesServed()).toBeLessThanOrEqual(f.size + PART);
    expect(await records.get(f.sessionId, f.key)).toBeUndefined();
  });

  it('streams a file of exactly one part with a single PutObject', async () => {
    const f = await file(PART, { ranges: false });

    await copy(f);

    await expectStored(f);
    expect(proxy.count('PutObject')).toBe(1);
    expect(proxy.count('CreateMultipartUpload')).toBe(0);
  });

  it('fails a body that ends short as a RecordingDownloadError and stores nothing', async () => {
    const f = await file(3 * PART, { ranges: false });
    onDownload(() => ({ kind: 'truncate', afterBytes: 2 * PART + 10 }));

    const error = await rejectionOf(copy(f));

    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(await headStatus(local.s3, BUCKET, f.key)).toBe(404);
  });
});

describe('copyFile resumed after a run was cut off', () => {
  /** Runs a copy that is stopped once `requests` range requests have been made. */
  async function cutOff(f: File, requests: number) {
    const stop = new AbortController();
    onDownload(({ index }) => {
      if (index === requests) stop.abort(new Error('deadline'));
      return undefined;
    });
    const error = await rejectionOf(copy(f, { signal: stop.signal }, { concurrency: 2 }));
    sim.onRecordingRequest(undefined);
    return error;
  }

  it('writes the record after the abort within the clean-up allowance (CLEANUP_MS), before it with the run’s signal', async () => {
    const timeouts = vi.spyOn(AbortSignal, 'timeout');
    const stop = new AbortController();
    const puts: { afterAbort: boolean; signal: AbortSignal | undefined }[] = [];
    const watched: UploadRecords = {
      ...records,
      put: (sessionId, record, options) => {
        puts.push({ afterAbort: stop.signal.aborted, signal: options?.signal });
        return records.put(sessionId, record, options);
      },
    };
    const f = await file(10 * PART);
    onDownload(({ index }) => {
      if (index === 6) stop.abort(new Error('deadline'));
      return undefined;
    });

    const error = await rejectionOf(
      copyFile(
        {
          target: { s3, bucket: BUCKET, key: f.key },
          metadata: {},
          contentType: () => 'video/mp4',
          url: f.url,
          resume: { records: watched, sessionId: f.sessionId },
        },
        { ...SETTINGS, policy, concurrency: 2 },
        stop.signal,
      ),
    );

    expect(error).toBeInstanceOf(RecordingDownloadError);
    const after = puts.filter((p) => p.afterAbort);
    expect(after.length).toBeGreaterThan(0);
    for (const { signal } of after) {
      const made = timeouts.mock.results.findIndex((r) => r.value === signal);
      expect(timeouts.mock.calls[made]).toEqual([CLEANUP_MS]);
    }
    for (const { signal } of puts.filter((p) => !p.afterAbort)) expect(signal).toBe(stop.signal);
    expect((await records.get(f.sessionId, f.key))?.parts.length).toBeGreaterThan(0);
  });

  it('downloads only the parts the first run did not finish', async () => {
    // Arrange: a 10-part copy stopped as the 7th part is asked for.
    const f = await file(10 * PART);
    const error = await cutOff(f, 6);
    expect(error).toBeInstanceOf(RecordingDownloadError);
    const record = await records.get(f.sessionId, f.key);
    expect(record?.parts.length).toBeGreaterThanOrEqual(3);
    const done = record?.parts.length ?? 0;
    sim.resetRequests();
    proxy.reset();

    // Act
    const result = await copy(f, {}, { concurrency: 2 });

    // Assert
    const sha256 = await expectStored(f);
    expect(result.sha256).toBe(sha256);
    expect(sim.bytesServed()).toBe(f.size - done * PART);
    expect(proxy.count('CreateMultipartUpload')).toBe(0);
    expect(proxy.count('UploadPart')).toBe(10 - done);
    expect(await records.get(f.sessionId, f.key)).toBeUndefined();
  });

  it('starts over when the file changed between the runs', async () => {
    const f = await file(6 * PART);
    await cutOff(f, 4);
    expect((await records.get(f.sessionId, f.key))?.parts.length).toBeGreaterThan(0);
    sim.replaceRecordingContent(f.rid);
    sim.resetRequests();
    proxy.reset();

    await copy(f);

    await expectStored(f, 1);
    // The first answer of the rerun shows the change; what the host sent of it before the copier
    // hung up is wasted (at most that one part).
    expect(sim.bytesServed()).toBeGreaterThanOrEqual(f.size);
    expect(sim.bytesServed()).toBeLessThanOrEqual(f.size + PART);
    expect(proxy.count('CreateMultipartUpload')).toBe(1);
  });

  it('starts over when the record is too old', async () => {
    const f = await file(6 * PART);
    await cutOff(f, 4);
    sim.resetRequests();

    await copy(f, {}, { now: () => Date.now() + 21 * 60 * 60 * 1000 });

    await expectStored(f);
    expect(sim.bytesServed()).toBe(f.size);
  });
});

describe('copyFile when S3 fails', () => {
  const sizes = [
    ['1 part', PART - 100],
    ['3 parts', 2 * PART + 100],
    ['12 parts', 11 * PART + 100],
  ] as const;
  const cases = sizes.flatMap(([label, size]) =>
    (size <= PART
      ? (['PutObject', 'PutObjectTagging'] as const)
      : (['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'PutObjectTagging'] as const)
    ).flatMap((op) => [[label, size, op, true] as const, [label, size, op, false] as const]),
  );

  it('throws a failing PutObjectTagging only once the resume record is forgotten: nothing outlives the throw', async () => {
    // Arrange: the record's delete waits for the test; the tag is refused.
    const f = await file(2 * PART + 100);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let deleted = false;
    const watched: UploadRecords = {
      ...records,
      delete: async (...args) => {
        await gate;
        await records.delete(...args);
        deleted = true;
      },
    };
    proxy.failOn('PutObjectTagging');

    // Act
    const copying = rejectionOf(
      copyFile(
        {
          target: { s3, bucket: BUCKET, key: f.key },
          metadata: {},
          contentType: () => 'video/mp4',
          url: f.url,
          resume: { records: watched, sessionId: f.sessionId },
        },
        { ...SETTINGS, policy },
      ),
    );
    await vi.waitFor(() =>
      expect(proxy.events).toContainEqual({ op: 'PutObjectTagging', phase: '<', status: 403 }),
    );
    const early = await Promise.race([
      copying.then(() => 'settled'),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 300)),
    ]);
    release();
    const error = await copying;

    // Assert
    expect(early).toBe('waiting');
    expect(error).toBeInstanceOf(StorageError);
    expect(deleted).toBe(true);
  });

  it.each(cases)(
    'at %s (%i bytes), a failing %s is a StorageError with S3 error as cause (ranges: %s)',
    async (_label, size, op, ranges) => {
      // Arrange
      const f = await file(size, { ranges });
      proxy.failOn(op, op === 'UploadPart' ? 2 : 1);

      // Act
      const error = await rejectionOf(copy(f));

      // Assert
      expect(error).toBeInstanceOf(StorageError);
      expect(error.message).toContain(op);
      expect((error.cause as { name?: string }).name).toBe('AccessDenied');
      if (op !== 'PutObjectTagging') expect(await headStatus(local.s3, BUCKET, f.key)).toBe(404);
      // The upload is aborted only once every part sent has been answered.
      const abortAt = proxy.events.findIndex((e) => e.op === 'AbortMultipartUpload' && e.phase === '>');
      if (op === 'UploadPart' || op === 'CompleteMultipartUpload') {
        expect(abortAt).toBeGreaterThan(-1);
        const partsSent = proxy.events.filter((e) => e.op === 'UploadPart' && e.phase === '>').length;
        const answeredBefore = proxy.events
          .slice(0, abortAt)
          .filter((e) => e.op === 'UploadPart' && e.phase === '<').length;
        expect(answeredBefore).toBe(partsSent);
      }
      expect(await records.get(f.sessionId, f.key)).toBeUndefined();
      expect(proxy.count('CopyObject')).toBe(0);
    },
  );
});

describe('copyFile objects', () => {
  it('writes each byte once: no CopyObject, one object version, and its metadata', async () => {
    const f = await file(2 * PART + 1);

    await copy(f);

    const head = await local.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: f.key }));
    expect(head.Metadata).toEqual({ 'session-id': f.sessionId });
    expect(head.ContentType).toBe('video/mp4');
    expect(proxy.count('CopyObject')).toBe(0);
  });
});
