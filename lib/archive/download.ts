/**
 * Fetching a call's files: every recording, transcript and the manifest, each streamed to disk
 * through a sha256 and kept only when the digest matches the one the archive stored (the call
 * item's for recordings and transcripts, the object's `sha256` tag for the manifest).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, GetObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CallItem } from '../calls/types.ts';
import { IntegrityError, StorageError } from '../errors.ts';
import { SHA256_TAG, s3Code } from '../recordings/s3-object.ts';

/** One file of a call, where it is and what its bytes must hash to. */
export interface ArchivedFile {
  kind: 'recording' | 'transcript' | 'manifest';
  bucket: string;
  key: string;
  /** Path relative to the download folder. */
  name: string;
  /** Hex sha256 as stored; for the manifest, read from its tag at download time. */
  sha256?: string;
  bytes?: number;
}

/** What was written. */
export interface DownloadedFile extends ArchivedFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** The files of `call`: recordings, then transcripts, then the manifest (when the call names one). */
export function filesOf(call: CallItem, bucket: string): ArchivedFile[] {
  const files: ArchivedFile[] = [
    ...call.recordings.map((r) => ({
      kind: 'recording' as const,
      bucket: r.bucket,
      key: r.key,
      name: basename(r.key),
      sha256: r.sha256,
      bytes: r.bytes,
    })),
    ...(call.transcripts ?? []).map((t) => ({
      kind: 'transcript' as const,
      bucket: t.bucket,
      key: t.key,
      name: join('transcripts', basename(t.key)),
      sha256: t.sha256,
      bytes: t.bytes,
    })),
  ];
  if (call.manifestKey) {
    files.push({ kind: 'manifest', bucket, key: call.manifestKey, name: basename(call.manifestKey) });
  }
  return files;
}

async function manifestDigest(s3: S3Client, file: ArchivedFile, signal?: AbortSignal): Promise<string> {
  try {
    const { TagSet } = await s3.send(new GetObjectTaggingCommand({ Bucket: file.bucket, Key: file.key }), {
      abortSignal: signal,
    });
    const sha256 = TagSet?.find((tag) => tag.Key === SHA256_TAG)?.Value;
    if (!sha256) throw new IntegrityError(`${file.name}: s3://${file.bucket}/${file.key} has no sha256 tag`);
    return sha256;
  } catch (error) {
    if (error instanceof IntegrityError) throw error;
    throw new StorageError(`GetObjectTagging of s3://${file.bucket}/${file.key} failed (${s3Code(error)})`, {
      cause: error,
    });
  }
}

/**
 * Streams `file` into `dir` (through `<name>.partial`, renamed once its digest matches), telling
 * `onBytes` how many bytes arrived. Throws `IntegrityError` naming the file on a mismatch (nothing
 * left behind), `StorageError` when S3 fails.
 */
export async function downloadFile(
  s3: S3Client,
  file: ArchivedFile,
  dir: string,
  options: { signal?: AbortSignal; onBytes?: (bytes: number) => void } = {},
): Promise<DownloadedFile> {
  const { signal, onBytes } = options;
  const expected = file.sha256 ?? (await manifestDigest(s3, file, signal));
  const path = join(dir, file.name);
  const partial = `${path}.partial`;
  await mkdir(join(path, '..'), { recursive: true });
  let body: NodeJS.ReadableStream;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: file.bucket, Key: file.key }), {
      abortSignal: signal,
    });
    body = object.Body as NodeJS.ReadableStream;
  } catch (cause) {
    throw new StorageError(`GetObject of s3://${file.bucket}/${file.key} failed (${s3Code(cause)})`, {
      cause,
    });
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const digest = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, digest, createWriteStream(partial), { signal });
  } catch (cause) {
    await rm(partial, { force: true });
    throw new StorageError(`download of s3://${file.bucket}/${file.key} failed`, { cause });
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== expected) {
    await rm(partial, { force: true });
    throw new IntegrityError(
      `${file.name} (s3://${file.bucket}/${file.key}): sha256 ${sha256} of ${bytes} bytes, ` +
        `but the archive stored ${expected}`,
    );
  }
  await rename(partial, path);
  return { ...file, path, bytes, sha256 };
}
