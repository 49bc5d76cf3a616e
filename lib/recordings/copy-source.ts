/**
 * What copying a recording and copying a transcript share: keeping an object an earlier run stored
 * whole, and copying from a source whose URL may be refreshed (401/403) part way, the fresh
 * source then describing the file.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { type CopyFileInput, type CopyFileSettings, copyFile } from './copy-file.ts';
import { storedObject } from './s3-object.ts';

/** Where an earlier run stored a file, and what it stored. */
interface StoredFile {
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
}

/** True when the object `file` describes is still there, whole (size and `sha256` tag), read without downloading. */
export async function stillStored(s3: S3Client, file: StoredFile, signal?: AbortSignal): Promise<boolean> {
  const stored = await storedObject({ s3, bucket: file.bucket, key: file.key }, signal);
  return stored !== undefined && stored.bytes === file.bytes && stored.sha256 === file.sha256;
}

/**
 * The object at `target` when an earlier run stored it whole (the sha256 tag is set only after its
 * last byte) but no committed entry names it yet: that run failed after the copy. Kept as it is,
 * so a retry neither downloads it again nor writes a second version.
 */
export async function storedWhole(
  target: { s3: S3Client; bucket: string; key: string },
  signal?: AbortSignal,
): Promise<(StoredFile & { contentType: string | undefined }) | undefined> {
  const stored = await storedObject(target, signal);
  if (stored?.bytes === undefined || stored.sha256 === undefined) return undefined;
  const { bucket, key } = target;
  return { bucket, key, bytes: stored.bytes, sha256: stored.sha256, contentType: stored.contentType };
}

/** A file to copy from `source`, asking `refreshSource` for a fresh one when the host refuses its URL. */
export type CopySourceInput<S> = Omit<CopyFileInput, 'url' | 'refresh'> & {
  source: S;
  refreshSource?: (() => Promise<S | undefined>) | undefined;
};

/** Copies `input.source` into S3: the stored object, and the source that was copied in the end. */
export async function copySource<S extends { url: string }>(
  input: CopySourceInput<S>,
  settings: CopyFileSettings,
  signal?: AbortSignal,
): Promise<{ object: StoredFile & { contentType: string }; described: S }> {
  const { source, refreshSource, ...file } = input;
  let described = source;
  const copied = await copyFile(
    {
      ...file,
      url: source.url,
      ...(refreshSource && {
        refresh: async () => {
          const fresh = await refreshSource();
          if (fresh) described = fresh;
          return fresh?.url;
        },
      }),
    },
    settings,
    signal,
  );
  const { bucket, key } = input.target;
  return {
    object: { bucket, key, bytes: copied.bytes, sha256: copied.sha256, contentType: copied.contentType },
    described,
  };
}
