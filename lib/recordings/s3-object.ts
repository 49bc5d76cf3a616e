/**
 * The S3 calls of the archive's objects (copied files, manifests), each turning S3's failure into
 * a `StorageError` whose cause is S3's own error: an AccessDenied or a KMS error on a part is
 * logged as what it is, never as a download problem.
 */
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { StorageError } from '../errors.ts';
import { HOLD_TAG_KEY, HOLD_TAG_VALUES, notHeldTagging } from '../retention/retention.ts';
import { CLEANUP_MS } from '../time-budget.ts';

/** The object a copy writes. */
export interface ObjectTarget {
  s3: S3Client;
  bucket: string;
  key: string;
}

/** What the object is created with (the digest comes later, as a tag). */
export interface ObjectAttributes {
  contentType?: string;
  metadata?: Record<string, string>;
}

/** A part S3 accepted, as CompleteMultipartUpload wants it back. */
export type UploadedPart = CompletedPart & { PartNumber: number; ETag: string };

/** The object tag holding the hex sha256 of the object's bytes (contract, "Objects"). */
export const SHA256_TAG = 'sha256';

type Signal = AbortSignal | undefined;

/** S3's HTTP status of a failed call (the cause of a StorageError, or the SDK error itself). */
export function s3Status(error: unknown): number | undefined {
  const inner = error instanceof StorageError ? error.cause : error;
  return (inner as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/**
 * True for S3's answer to a key that is not there: 404, or 403 without s3:ListBucket (either way
 * nothing to trust there, and a real permission problem surfaces on the write).
 */
export function s3Missing(error: unknown): boolean {
  const status = s3Status(error);
  return status === 404 || status === 403;
}

/** S3's error code (`NoSuchUpload`, `InvalidPart`, ...) of a failed call. */
export function s3Code(error: unknown): string | undefined {
  const inner = error instanceof StorageError ? error.cause : error;
  return (inner as { name?: string; Code?: string })?.Code ?? (inner as { name?: string })?.name;
}

function where(target: ObjectTarget): string {
  return `s3://${target.bucket}/${target.key}`;
}

/** Runs one S3 call; its failure becomes a `StorageError` naming `what`, S3's error as the cause. */
export async function s3Call<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StorageError(`${what} failed (${s3Code(error) ?? 'error'})`, { cause: error });
  }
}

/** Starts a multipart upload; returns its id. */
export async function createUpload(
  target: ObjectTarget,
  attributes: ObjectAttributes,
  signal?: Signal,
): Promise<string> {
  const { s3, bucket, key } = target;
  return s3Call(`CreateMultipartUpload of ${where(target)}`, async () => {
    // With the SDK's default integrity setting every part carries a CRC32, and S3 then wants the
    // upload created with that algorithm (as lib-storage does).
    const checksums = await s3.config.requestChecksumCalculation();
    const answer = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ...(attributes.contentType !== undefined && { ContentType: attributes.contentType }),
        ...(attributes.metadata !== undefined && { Metadata: attributes.metadata }),
        // Every archived object carries hold=false from its first moment (lib/retention).
        Tagging: notHeldTagging(),
        ...(checksums === 'WHEN_SUPPORTED' && { ChecksumAlgorithm: 'CRC32' }),
      }),
      { abortSignal: signal },
    );
    if (!answer.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
    return answer.UploadId;
  });
}

/** Uploads one part (the SDK adds its checksum and retries by itself). */
export async function uploadPart(
  target: ObjectTarget,
  uploadId: string,
  partNumber: number,
  body: Uint8Array,
  signal?: Signal,
): Promise<UploadedPart> {
  const { s3, bucket, key } = target;
  return s3Call(`UploadPart ${partNumber} of ${where(target)}`, async () => {
    const answer = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.byteLength,
      }),
      { abortSignal: signal },
    );
    if (!answer.ETag) throw new Error(`UploadPart ${partNumber} answered without an ETag`);
    return {
      PartNumber: partNumber,
      ETag: answer.ETag,
      ...(answer.ChecksumCRC32 && { ChecksumCRC32: answer.ChecksumCRC32 }),
      ...(answer.ChecksumCRC32C && { ChecksumCRC32C: answer.ChecksumCRC32C }),
      ...(answer.ChecksumCRC64NVME && { ChecksumCRC64NVME: answer.ChecksumCRC64NVME }),
      ...(answer.ChecksumSHA1 && { ChecksumSHA1: answer.ChecksumSHA1 }),
      ...(answer.ChecksumSHA256 && { ChecksumSHA256: answer.ChecksumSHA256 }),
    };
  });
}

/** Completes the upload from `parts` (any order); the object appears at the key only now. */
export async function completeUpload(
  target: ObjectTarget,
  uploadId: string,
  parts: readonly UploadedPart[],
  signal?: Signal,
): Promise<void> {
  const { s3, bucket, key } = target;
  const sorted = [...parts].sort((a, b) => a.PartNumber - b.PartNumber);
  await s3Call(`CompleteMultipartUpload of ${where(target)}`, () =>
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: sorted },
      }),
      { abortSignal: signal },
    ),
  );
}

/**
 * Aborts the upload, quietly: it runs while another error is being thrown, which matters more,
 * and the bucket's lifecycle rule removes any upload this could not (s3rver 3.7 answers 405).
 * Held to the clean-up allowance: it often runs after the run's own signal has fired.
 */
export async function abortUpload(target: ObjectTarget, uploadId: string): Promise<void> {
  try {
    await target.s3.send(
      new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }),
      { abortSignal: AbortSignal.timeout(CLEANUP_MS) },
    );
  } catch {
    // See above.
  }
}

/** Stores a file that fits in one part with a single PutObject. */
export async function putWhole(
  target: ObjectTarget,
  attributes: ObjectAttributes,
  body: Uint8Array,
  signal?: Signal,
): Promise<void> {
  const { s3, bucket, key } = target;
  await s3Call(`PutObject of ${where(target)}`, () =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: body.byteLength,
        ...(attributes.contentType !== undefined && { ContentType: attributes.contentType }),
        ...(attributes.metadata !== undefined && { Metadata: attributes.metadata }),
        Tagging: notHeldTagging(),
      }),
      { abortSignal: signal },
    ),
  );
}

/**
 * Adds the `sha256` tag to the object's tags, keeping the others (a legal hold set meanwhile
 * stays), with `hold=false` if no hold tag is there yet. Tagging neither rewrites the object nor
 * adds a version (a copy onto itself did both, and failed above 5 GiB).
 */
export async function tagDigest(target: ObjectTarget, sha256: string, signal?: Signal): Promise<void> {
  const { s3, bucket, key } = target;
  const current = await s3Call(`GetObjectTagging of ${where(target)}`, () =>
    s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
  );
  const kept = (current.TagSet ?? []).filter((tag) => tag.Key !== SHA256_TAG);
  const hold = kept.some((tag) => tag.Key === HOLD_TAG_KEY)
    ? []
    : [{ Key: HOLD_TAG_KEY, Value: HOLD_TAG_VALUES.notHeld }];
  await s3Call(`PutObjectTagging of ${where(target)}`, () =>
    s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: key,
        Tagging: { TagSet: [...kept, ...hold, { Key: SHA256_TAG, Value: sha256 }] },
      }),
      { abortSignal: signal },
    ),
  );
}

/** The size, ETag and sha256 tag of the object at the key, read without downloading it, or undefined when there is none. */
export async function storedObject(
  target: ObjectTarget,
  signal?: Signal,
): Promise<
  | {
      bytes: number | undefined;
      etag: string | undefined;
      sha256: string | undefined;
      contentType: string | undefined;
    }
  | undefined
> {
  const { s3, bucket, key } = target;
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }), {
      abortSignal: signal,
    });
    const sha256 = tags.TagSet?.find((tag) => tag.Key === SHA256_TAG)?.Value;
    return { bytes: head.ContentLength, etag: head.ETag, sha256, contentType: head.ContentType };
  } catch (error) {
    if (s3Missing(error)) return undefined;
    throw new StorageError(`could not check ${where(target)} (${s3Code(error) ?? 'error'})`, {
      cause: error,
    });
  }
}
