/**
 * Builds erasure's adapters from configuration (CALLS_TABLE, RECORDINGS_BUCKET, the salt), once
 * per container in the `erase` function, or with the local stack's clients in the CLI and tests.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../aws/dynamodb.ts';
import { readErasureSalt, readRecordingsConfig, readRetentionConfig, readStoreConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { createManifestStore } from '../manifest/manifest-store.ts';
import { createCallStore } from '../store/call-store.ts';
import type { EraseDependencies } from './erase.ts';
import { saltProvider } from './salt.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Validates the variables erasure needs (failing fast, naming the variable) and wires the adapters. */
export function eraseDependenciesFromEnv(
  env: Env = process.env,
  clients: { dynamodb?: DynamoDBDocumentClient; s3?: S3Client } = {},
): EraseDependencies {
  const { tableName } = readStoreConfig(env);
  const { bucket, forcePathStyle } = readRecordingsConfig(env);
  const saltSource = readErasureSalt(env);
  if (!saltSource) throw new ConfigError('ERASURE_SALT_SECRET (or ERASURE_SALT) is required but not set');
  const salt = saltProvider(saltSource);
  const client = clients.dynamodb ?? createDocumentClient();
  const s3 = clients.s3 ?? new S3Client({ forcePathStyle });
  return {
    client,
    tableName,
    store: createCallStore({ tableName, client, retention: readRetentionConfig(env) }),
    s3,
    bucket,
    manifests: createManifestStore({ s3, bucket }),
    salt,
  };
}
