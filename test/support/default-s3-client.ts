/** The S3 client the copier's tests send through. */
import { S3Client } from '@aws-sdk/client-s3';

/**
 * An S3 client for s3rver (or a proxy in front of it) at `endpoint` with the SDK's defaults, so
 * the copy runs with the CRC32 checksums production sends on every part and PutObject (s3rver
 * accepts them for Buffer bodies); only s3rver's fixed credentials and path style are set.
 */
export function defaultS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
  });
}
