/**
 * Real local stand-ins for DynamoDB (dynalite) and S3 (s3rver), started in-process on
 * ephemeral loopback ports. Used by `npm start` and by the integration tests.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';

/**
 * Credentials the local servers accept (they check the signature's shape, not the secret).
 * A function, because the SDK annotates the credentials object it is given.
 */
export const localCredentials = () => ({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
export const LOCAL_REGION = 'us-east-1';

/** A running local service: where it listens, and how to stop it. */
export interface LocalService {
  readonly endpoint: string;
  close(): Promise<void>;
}

function endpointOf(server: { address(): AddressInfo | string | null }): string {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server is not listening on TCP');
  return `http://127.0.0.1:${address.port}`;
}

/** Starts dynalite; in memory unless `path` names a folder to keep the data in. */
export async function startDynalite(options: { path?: string; port?: number } = {}): Promise<LocalService> {
  if (options.path) await mkdir(options.path, { recursive: true });
  const server: Server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: endpointOf(server),
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** Starts s3rver, keeping objects under `directory`. Path-style addressing only. */
export async function startS3rver(options: { directory: string; port?: number }): Promise<LocalService> {
  await mkdir(options.directory, { recursive: true });
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    allowMismatchedSignatures: true,
  });
  const address = await s3rver.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () => s3rver.close(),
  };
}

/** The table as infra/ declares it: keys `pk`/`sk`, indexes `byUser` and `byDay`. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const keys = (pk: string, sk: string) => [
    { AttributeName: pk, KeyType: 'HASH' as const },
    { AttributeName: sk, KeyType: 'RANGE' as const },
  ];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S' as const,
        })),
        KeySchema: keys('pk', 'sk'),
        GlobalSecondaryIndexes: [
          { IndexName: 'byUser', KeySchema: keys('gsi1pk', 'gsi1sk'), Projection: { ProjectionType: 'ALL' } },
          { IndexName: 'byDay', KeySchema: keys('gsi2pk', 'gsi2sk'), Projection: { ProjectionType: 'ALL' } },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

/** Creates the bucket unless it exists. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
}

/** SDK clients pointed at the local services. */
export function localClients(endpoints: { dynamodb: string; s3: string }): {
  dynamodb: DynamoDBClient;
  s3: S3Client;
} {
  return {
    dynamodb: new DynamoDBClient({
      endpoint: endpoints.dynamodb,
      region: LOCAL_REGION,
      credentials: localCredentials(),
    }),
    s3: new S3Client({
      endpoint: endpoints.s3,
      region: LOCAL_REGION,
      credentials: localCredentials(),
      forcePathStyle: true,
      // s3rver predates the SDK's default CRC32 checksums; only send them when S3 requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  };
}
