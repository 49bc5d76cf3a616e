/**
 * Writes a call's analytics record in the archive bucket (see call-record.ts). The record is
 * derived data: rewriting it after every commit that changed the call keeps it in step; erasure
 * rewrites it from the redacted call, or deletes every version of it (lib/erase/erase.ts).
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StorageError } from '../errors.ts';
import {
  type AnalyticsSource,
  analyticsCallBody,
  analyticsCallKey,
  analyticsCallRecord,
} from './call-record.ts';

/** What the adapter needs of an S3 client. */
export type AnalyticsS3 = Pick<S3Client, 'send'>;

/**
 * Puts the record of a committed call at its key and returns the key; undefined (nothing written)
 * for a call with no time to file it under. Throws `StorageError` with S3's error as cause.
 */
export async function putAnalyticsRecord(
  s3: AnalyticsS3,
  bucket: string,
  call: AnalyticsSource,
  options: { signal?: AbortSignal } = {},
): Promise<string | undefined> {
  const key = analyticsCallKey(call);
  if (key === undefined) return undefined;
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: analyticsCallBody(analyticsCallRecord(call)),
        ContentType: 'application/json',
      }),
      { abortSignal: options.signal },
    );
  } catch (cause) {
    throw new StorageError('could not write the analytics record', { cause });
  }
  return key;
}
