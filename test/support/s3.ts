/** Reading back what a test stored in S3 (s3rver), and hashing streams the same way. */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** sha256 (hex) and length of everything a stream yields. */
export async function digestOf(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Length and sha256 of the object at `key`, downloaded whole. */
export async function storedDigest(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ bytes: number; sha256: string }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return digestOf(object.Body as AsyncIterable<Uint8Array>);
}

/** The HTTP status HeadObject gets for `key`: 200 when it exists, 404 when it does not. */
export async function headStatus(s3: S3Client, bucket: string, key: string): Promise<number | undefined> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
}
