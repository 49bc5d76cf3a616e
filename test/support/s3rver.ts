/** s3rver for the copier's tests: one in a scratch folder, and the S3 client they send through. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type LocalService, startS3rver } from '../../dev/local-aws.ts';

/** s3rver keeping its objects in a new scratch folder named after `name`; `close` removes the folder too. */
export async function startScratchS3rver(name: string): Promise<LocalService> {
  const directory = await mkdtemp(join(tmpdir(), `${name}-`));
  const s3rver = await startS3rver({ directory });
  return {
    endpoint: s3rver.endpoint,
    close: async () => {
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

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
