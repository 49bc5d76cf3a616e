/**
 * Copies one file from a recording host into S3, written once, with its sha256 computed on the
 * way through and set as the object's `sha256` tag. A host that honours Range (a 206 with a
 * total in Content-Range) gets the parallel, resumable path (ranged-copy.ts); any other host the
 * single-stream path (stream-copy.ts). The first request asks for the first part's range: from a
 * host with ranges its body is part 1, read alongside the other parts; from one without, the 200
 * is left unread (its connection closed at the head) and the file is fetched as one stream.
 *
 * Resuming: while a ranged copy runs, the multipart upload, the parts done and the hash state are
 * recorded in the call's partition (lib/store/upload-records.ts). The next run carries on from the
 * record and downloads only the missing parts, unless the file changed (length, ETag or
 * Last-Modified), the record is too old, or S3 no longer has the upload: then it starts over.
 * The parts are not listed with ListParts (s3rver 3.7, the local stand-in, answers it with 405):
 * the record is trusted, and CompleteMultipartUpload's own check catches a part S3 lost.
 */
import { RecordingDownloadError } from '../errors.ts';
import type { RecordedPart, UploadRecord, UploadRecords } from '../store/upload-records.ts';
import { UPLOAD_RECORD_MAX_AGE_MS } from '../store/upload-records.ts';
import { CLEANUP_MS } from '../time-budget.ts';
import {
  DEFAULT_PART_SIZE_BYTES,
  MIN_PART_SIZE_BYTES,
  type PartPlan,
  partRange,
  planParts,
} from './part-plan.ts';
import { type OpenRange, openRange, type RangeHead } from './range-read.ts';
import { copyRanges, DEFAULT_CONCURRENCY } from './ranged-copy.ts';
import {
  checkPartResponse,
  createPartFetcher,
  type PartFetcher,
  SourceChangedError,
  type UrlSource,
} from './ranged-fetch.ts';
import { createResumableSha256, type ResumableSha256 } from './resumable-sha256.ts';
import {
  abortUpload,
  completeUpload,
  createUpload,
  type ObjectTarget,
  putWhole,
  s3Code,
  s3Status,
  tagDigest,
  type UploadedPart,
} from './s3-object.ts';
import { type OpenedRecording, openRecording } from './safe-get.ts';
import { copyStream } from './stream-copy.ts';
import type { UrlPolicy } from './url-policy.ts';

/** One file to copy. */
export interface CopyFileInput {
  target: ObjectTarget;
  /** Object metadata (already header-safe). */
  metadata: Record<string, string>;
  /** The object's content type, from the host's Content-Type header (or its absence). */
  contentType: (header: string | undefined) => string;
  /** The download URL (may be signed: never logged or stored). */
  url: string;
  /** A fresh download URL after a 401/403, or undefined when there is none. */
  refresh?: () => Promise<string | undefined>;
  /** Where to keep the resume record; without it a cut-off copy starts over next time. */
  resume?: { records: UploadRecords; sessionId: string };
}

/** Tuning, with defaults for production. */
export interface CopyFileSettings {
  policy: UrlPolicy;
  /** Preferred part size (at least 5 MiB); larger files get larger parts (part-plan.ts). */
  partSizeBytes?: number;
  /** Parts fetched at once (K). Memory is about K + 2 part buffers. */
  concurrency?: number;
  timeoutMs?: number;
  /** Tries per part on the ranged path. */
  partAttempts?: number;
  /** How often the resume record is written while parts finish. */
  recordEveryMs?: number;
  now?: () => number;
  random?: () => number;
}

/** What was stored. */
export interface CopiedFile {
  bytes: number;
  sha256: string;
  contentType: string;
}

/** Records hold at most this many parts (a DynamoDB item holds 400 KB); past it a resume restarts from there. */
const MAX_RECORDED_PARTS = 4_000;
const DEFAULT_RECORD_EVERY_MS = 500;
/**
 * The signal a record write gets: the run's own while it lasts; after its abort (or without one),
 * the clean-up allowance, so a write after the abort never outlives the handler (lib/time-budget.ts).
 */
function recordWriteSignal(run: AbortSignal | undefined): AbortSignal {
  return run && !run.aborted ? run : AbortSignal.timeout(CLEANUP_MS);
}

function urlSource(initial: string, refresh: (() => Promise<string | undefined>) | undefined): UrlSource {
  let url = initial;
  let generation = 0;
  let exhausted = false;
  let refreshing: Promise<void> | undefined;
  return {
    current: () => ({ url, generation }),
    async refresh(refused, error) {
      if (refused < generation) return;
      if (exhausted || !refresh) throw error;
      // Parts refused at once share one refresh.
      refreshing ??= (async () => {
        const fresh = await refresh();
        if (!fresh || fresh === url) {
          exhausted = true;
          throw error;
        }
        url = fresh;
        generation += 1;
      })().finally(() => {
        refreshing = undefined;
      });
      await refreshing;
    },
  };
}

function toParts(recorded: readonly RecordedPart[]): UploadedPart[] {
  return recorded.map(([etag, crc32], index) => ({
    PartNumber: index + 1,
    ETag: etag,
    ...(crc32 !== undefined && { ChecksumCRC32: crc32 }),
  }));
}

function toRecorded(parts: readonly UploadedPart[]): RecordedPart[] {
  return parts.map((part) => (part.ChecksumCRC32 ? [part.ETag, part.ChecksumCRC32] : [part.ETag]));
}

/** S3 no longer has the upload, or not all of its parts: only starting over helps. */
function uploadLost(error: unknown): boolean {
  const code = s3Code(error);
  return (
    code === 'NoSuchUpload' || code === 'InvalidPart' || (code !== 'NoSuchBucket' && s3Status(error) === 404)
  );
}

/** Copies `input.url` to `input.target`. Errors: RecordingDownloadError / RecordingRejectedError (host), StorageError (S3). */
export async function copyFile(
  input: CopyFileInput,
  settings: CopyFileSettings,
  signal?: AbortSignal,
): Promise<CopiedFile> {
  const { target } = input;
  const now = settings.now ?? Date.now;
  const preferredPartSize = settings.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  const concurrency = Math.max(1, settings.concurrency ?? DEFAULT_CONCURRENCY);
  const urls = urlSource(input.url, input.refresh);
  const resume = input.resume;

  /** The whole file as a stream (the single-stream path), a fresh URL fetched on 401/403. */
  const open = async (): Promise<OpenedRecording> => {
    for (let refreshes = 0; ; refreshes += 1) {
      const { url, generation } = urls.current();
      try {
        return await openRecording(url, {
          policy: settings.policy,
          ...(signal && { signal }),
          ...(settings.timeoutMs !== undefined && { timeoutMs: settings.timeoutMs }),
        });
      } catch (error) {
        const status = error instanceof RecordingDownloadError ? error.statusCode : undefined;
        if ((status !== 401 && status !== 403) || refreshes >= 2) throw error;
        await urls.refresh(generation, error as RecordingDownloadError);
      }
    }
  };

  /** A ranged request whose body goes straight into `buffer`, with the same fresh-URL handling as `open`. */
  const openInto = async (
    range: { start: number; end: number },
    buffer: Buffer,
    check?: (head: RangeHead) => void,
  ): Promise<OpenRange> => {
    for (let refreshes = 0; ; refreshes += 1) {
      const { url, generation } = urls.current();
      try {
        return await openRange(
          url,
          {
            policy: settings.policy,
            range,
            ...(signal && { signal }),
            ...(settings.timeoutMs !== undefined && { timeoutMs: settings.timeoutMs }),
          },
          buffer,
          check,
        );
      } catch (error) {
        const status = error instanceof RecordingDownloadError ? error.statusCode : undefined;
        if ((status !== 401 && status !== 403) || refreshes >= 2) throw error;
        await urls.refresh(generation, error as RecordingDownloadError);
      }
    }
  };

  const writeRecord = async (record: UploadRecord) => {
    // Only a file that can be told apart from a changed one is worth resuming.
    if (!resume || (record.sourceEtag === undefined && record.sourceLastModified === undefined)) return;
    try {
      await resume.records.put(resume.sessionId, record, {
        signal: recordWriteSignal(signal),
      });
    } catch {
      // A record is an optimisation: without it the next run starts over, nothing is lost.
    }
  };

  /** Forgets a record and the upload it names. */
  const drop = async (record: UploadRecord) => {
    if (record.uploadId) await abortUpload(target, record.uploadId);
    if (!resume) return;
    try {
      await resume.records.delete(resume.sessionId, target.key, {
        signal: recordWriteSignal(signal),
      });
    } catch {
      // The record expires (TTL) and a later run finds its upload gone and starts over.
    }
  };

  const finish = async (sha256: string, bytes: number, contentType: string): Promise<CopiedFile> => {
    await tagDigest(target, sha256, signal);
    return { bytes, sha256, contentType };
  };

  const fetcherFor = (identity: { totalBytes: number; etag?: string; lastModified?: string }): PartFetcher =>
    createPartFetcher({
      policy: settings.policy,
      urls,
      identity,
      ...(settings.timeoutMs !== undefined && { timeoutMs: settings.timeoutMs }),
      ...(settings.partAttempts !== undefined && { attempts: settings.partAttempts }),
      ...(settings.random && { random: settings.random }),
    });

  /** The single-stream path: `opened` is a 200 with the whole file. */
  const streamed = async (opened: OpenedRecording): Promise<CopiedFile> => {
    const contentType = input.contentType(opened.contentType);
    const hasher = await createResumableSha256();
    // One stream: S3's smallest parts (today's single-stream path), so the last part's upload
    // after the last byte is short and memory is (K + 1) x 5 MiB; bigger only past 10,000 parts.
    const partSize =
      opened.contentLength !== undefined
        ? planParts(opened.contentLength, MIN_PART_SIZE_BYTES).partSize
        : MIN_PART_SIZE_BYTES;
    const bytes = await copyStream({
      target,
      attributes: { contentType, metadata: input.metadata },
      body: opened.body,
      host: opened.finalUrl.host,
      ...(opened.contentLength !== undefined && { expectedBytes: opened.contentLength }),
      partSize,
      concurrency,
      hasher,
      ...(signal && { signal }),
    });
    return finish(hasher.digest(), bytes, contentType);
  };

  /** The ranged path into a new or resumed upload. */
  /** A record not yet tied to its upload (which may still be being created). */
  type Progress = Omit<UploadRecord, 'uploadId'>;

  const ranged = async (
    base: Progress,
    uploadIdOf: Promise<string>,
    plan: PartPlan,
    hasher: ResumableSha256,
    first: { buffer: Buffer; body: Promise<void> } | undefined,
    resumed: boolean,
  ): Promise<CopiedFile> => {
    const contentType = base.contentType ?? input.contentType(undefined);
    let uploadId: string | undefined;
    let latest = base;
    // At most one write at a time, at most one per interval, and the newest state always
    // written in the end (a write that was skipped while another ran is made afterwards).
    const every = settings.recordEveryMs ?? DEFAULT_RECORD_EVERY_MS;
    let written: Progress | undefined = resumed ? base : undefined;
    let lastWrite = Number.NEGATIVE_INFINITY;
    let writing: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    const flush = () => {
      if (closed || writing || uploadId === undefined || latest === written) return;
      const wait = lastWrite + every - now();
      if (wait > 0) {
        timer ??= setTimeout(() => {
          timer = undefined;
          flush();
        }, wait);
        return;
      }
      lastWrite = now();
      const snapshot = latest;
      writing = writeRecord({ ...snapshot, uploadId }).finally(() => {
        written = snapshot;
        writing = undefined;
        flush();
      });
    };
    uploadIdOf.then(
      (id) => {
        uploadId = id;
        flush();
      },
      () => {},
    );
    const stopWriting = async () => {
      closed = true;
      clearTimeout(timer);
      await writing;
    };
    /** Forgets this upload: aborts it (once created) and deletes its record. */
    const dropThis = async () =>
      drop({ ...latest, uploadId: uploadId ?? (await uploadIdOf.catch(() => '')) });
    const onProgress = (done: readonly UploadedPart[], hashState: string) => {
      if (done.length > MAX_RECORDED_PARTS) return;
      latest = { ...latest, parts: toRecorded(done), hashState };
      flush();
    };
    let parts: UploadedPart[];
    try {
      parts = await copyRanges({
        target,
        uploadId: uploadIdOf,
        plan,
        done: toParts(base.parts),
        hasher,
        fetchPart: fetcherFor({
          totalBytes: base.totalBytes,
          ...(base.sourceEtag !== undefined && { etag: base.sourceEtag }),
          ...(base.sourceLastModified !== undefined && { lastModified: base.sourceLastModified }),
        }),
        concurrency,
        ...(first && { first }),
        onProgress,
        ...(signal && { signal }),
      });
    } catch (error) {
      await stopWriting();
      if (error instanceof SourceChangedError) {
        await dropThis();
        throw error;
      }
      if (resumed && uploadLost(error)) {
        await dropThis();
        return fresh();
      }
      if (latest.parts.length > 0 && uploadId !== undefined && error instanceof RecordingDownloadError) {
        // Cut off (a timeout, a host that stopped answering) after some progress: the next run
        // resumes from here. Anything else aborts the upload, now that every part has settled.
        await writeRecord({ ...latest, uploadId });
      } else {
        await dropThis();
      }
      throw error;
    }
    await stopWriting();
    try {
      await completeUpload(target, await uploadIdOf, parts, signal);
    } catch (error) {
      // An S3 failure, like any other but a cut-off download, ends this upload. A resumed one
      // S3 no longer has (or lost a part of) is started over at once.
      await dropThis();
      if (resumed && uploadLost(error)) return fresh();
      throw error;
    }
    const forget = async () => {
      if (!resume) return;
      try {
        await resume.records.delete(resume.sessionId, target.key, {
          signal: recordWriteSignal(signal),
        });
      } catch {
        // It expires; a later run finds its upload completed (gone) and starts over.
      }
    };
    // Both settle before this returns or throws: a failed tag must not leave the delete running.
    const forgetting = forget();
    try {
      return await finish(hasher.digest(), base.totalBytes, contentType);
    } finally {
      await forgetting;
    }
  };

  /** A copy from the first byte. */
  const fresh = async (): Promise<CopiedFile> => {
    const probe = { start: 0, end: preferredPartSize - 1 };
    const buffer = Buffer.allocUnsafeSlow(preferredPartSize);
    let head: RangeHead;
    let body: Promise<void>;
    try {
      ({ head, body } = await openInto(probe, buffer));
    } catch (error) {
      // 416: a host that honours ranges, asked for the start of an empty file.
      if (error instanceof RecordingDownloadError && error.statusCode === 416) return streamed(await open());
      throw error;
    }
    const total = head.status === 206 ? head.contentRange?.total : undefined;
    // A 200 was left unread (its connection closed); ranges without a length cannot be planned.
    // Either way: the whole file in one stream.
    if (total === undefined) {
      await body.catch(() => {});
      return streamed(await open());
    }
    const plan = planParts(total, preferredPartSize);
    const contentType = input.contentType(head.contentType);
    const identity = {
      totalBytes: total,
      ...(head.etag !== undefined && { etag: head.etag }),
      ...(head.lastModified !== undefined && { lastModified: head.lastModified }),
    };
    const hasher = await createResumableSha256();
    // The probe is part 1 unless the host sent less than asked, or parts are bigger than the probe.
    const part1 = partRange(plan, 1);
    const isPart1 =
      head.contentRange?.start === 0 &&
      head.contentRange.end === part1.end &&
      plan.partSize === buffer.length;
    if (!isPart1) await body.catch(() => {});
    if (plan.partCount === 1) {
      // The probe's bytes, unless they did not all arrive: then the part is fetched again.
      const arrived =
        isPart1 &&
        (await body.then(
          () => true,
          () => false,
        ));
      if (!arrived) await fetcherFor(identity)(part1, buffer, { ...(signal && { signal }) });
      const bytes = buffer.subarray(0, total);
      hasher.update(bytes);
      await putWhole(target, { contentType, metadata: input.metadata }, bytes, signal);
      return finish(hasher.digest(), total, contentType);
    }
    // Created while the first parts download; the record is first written once it exists.
    const uploadId = createUpload(target, { contentType, metadata: input.metadata }, signal);
    const progress: Progress = {
      key: target.key,
      partSize: plan.partSize,
      totalBytes: total,
      ...(head.etag !== undefined && { sourceEtag: head.etag }),
      ...(head.lastModified !== undefined && { sourceLastModified: head.lastModified }),
      contentType,
      parts: [],
      hashState: hasher.save(),
      startedAt: now(),
    };
    return ranged(progress, uploadId, plan, hasher, isPart1 ? { buffer, body } : undefined, false);
  };

  /** Carries on from a record, or starts over when it cannot be trusted. */
  const resumeFrom = async (record: UploadRecord): Promise<CopiedFile> => {
    const plan = planParts(record.totalBytes, record.partSize);
    const hasher = await createResumableSha256(record.hashState);
    if (plan.partSize !== record.partSize || record.parts.length > plan.partCount) {
      await drop(record);
      return fresh();
    }
    if (record.parts.length === plan.partCount) {
      return ranged(record, Promise.resolve(record.uploadId), plan, hasher, undefined, true);
    }
    const range = partRange(plan, record.parts.length + 1);
    const identity = {
      totalBytes: record.totalBytes,
      ...(record.sourceEtag !== undefined && { etag: record.sourceEtag }),
      ...(record.sourceLastModified !== undefined && { lastModified: record.sourceLastModified }),
    };
    const buffer = Buffer.allocUnsafeSlow(record.partSize);
    let opened: OpenRange;
    try {
      // The first missing part, checked against the record before its body is read.
      opened = await openInto(range, buffer, (answer) => checkPartResponse(answer, range, identity));
    } catch (error) {
      if (!(error instanceof SourceChangedError)) throw error;
      await drop(record);
      return fresh();
    }
    if (opened.head.status !== 206) {
      // The host no longer honours Range: the single stream, from the start.
      await drop(record);
      return fresh();
    }
    return ranged(
      record,
      Promise.resolve(record.uploadId),
      plan,
      hasher,
      { buffer, body: opened.body },
      true,
    );
  };

  const record = resume
    ? await resume.records.get(resume.sessionId, target.key, { ...(signal && { signal }) })
    : undefined;
  if (!record) return fresh();
  if (now() - record.startedAt > UPLOAD_RECORD_MAX_AGE_MS || record.key !== target.key) {
    await drop(record);
    return fresh();
  }
  return resumeFrom(record);
}
