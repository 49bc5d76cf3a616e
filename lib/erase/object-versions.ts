/**
 * Removing every version of objects from the versioned archive bucket: ListObjectVersions, then
 * DeleteObjects by version id (and delete marker), 1,000 a request. A plain delete in a versioned
 * bucket only hides the bytes behind a delete marker; erasure must not leave them there.
 */
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type ObjectIdentifier,
  type S3Client,
} from '@aws-sdk/client-s3';
import { StorageError } from '../errors.ts';
import { s3Code, s3Status } from '../recordings/s3-object.ts';

/** DeleteObjects' limit on keys per request. */
const DELETE_BATCH = 1000;

/** Every version and delete marker under `prefix` (only of `exactKey` when set). */
export async function listVersions(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  prefix: string,
  options: { exactKey?: boolean; signal?: AbortSignal } = {},
): Promise<ObjectIdentifier[]> {
  const found: ObjectIdentifier[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    let page: ListObjectVersionsCommandOutput;
    try {
      page = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }),
        { abortSignal: options.signal },
      );
    } catch (cause) {
      // A store that keeps no versions (s3rver locally) refuses the request: its current objects are all there is.
      if (s3Status(cause) === 405 || s3Status(cause) === 501) return listCurrent(s3, bucket, prefix, options);
      throw new StorageError(`ListObjectVersions of s3://${bucket}/${prefix} failed (${s3Code(cause)})`, {
        cause,
      });
    }
    for (const entry of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
      if (entry.Key === undefined || (options.exactKey && entry.Key !== prefix)) continue;
      found.push({ Key: entry.Key, ...(entry.VersionId && { VersionId: entry.VersionId }) });
    }
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker !== undefined);
  return found;
}

/** The current objects under `prefix` (only `exactKey` when set), for a store without versions. */
async function listCurrent(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  prefix: string,
  options: { exactKey?: boolean; signal?: AbortSignal },
): Promise<ObjectIdentifier[]> {
  const found: ObjectIdentifier[] = [];
  let ContinuationToken: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }), {
        abortSignal: options.signal,
      });
    } catch (cause) {
      throw new StorageError(`ListObjectsV2 of s3://${bucket}/${prefix} failed (${s3Code(cause)})`, {
        cause,
      });
    }
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined && (!options.exactKey || object.Key === prefix))
        found.push({ Key: object.Key });
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return found;
}

/** Deletes `objects` (each version named); returns how many. Any per-key error is a StorageError. */
export async function deleteVersions(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  objects: readonly ObjectIdentifier[],
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  for (let start = 0; start < objects.length; start += DELETE_BATCH) {
    const chunk = objects.slice(start, start + DELETE_BATCH);
    let errors: { Key?: string; Code?: string }[];
    try {
      const response = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk, Quiet: true } }),
        { abortSignal: options.signal },
      );
      errors = response.Errors ?? [];
    } catch (cause) {
      throw new StorageError(`DeleteObjects in s3://${bucket} failed (${s3Code(cause)})`, { cause });
    }
    if (errors.length > 0) {
      const [first] = errors;
      throw new StorageError(
        `DeleteObjects in s3://${bucket} left ${errors.length} objects (${first?.Code} on ${first?.Key})`,
      );
    }
  }
  return objects.length;
}

/** Every version of everything under `prefix`, gone; returns how many versions were deleted. */
export async function deleteAllVersions(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  prefix: string,
  options: { exactKey?: boolean; signal?: AbortSignal } = {},
): Promise<number> {
  return deleteVersions(s3, bucket, await listVersions(s3, bucket, prefix, options), options);
}
