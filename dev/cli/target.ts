/**
 * Where a command works: the local stack (in-process DynamoDB and S3 over `.local/`, CometChat or
 * its simulator) or a deployed stage, reached through the AWS SDK's default credentials.
 */
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { createDocumentClient } from '../../lib/aws/dynamodb.ts';
import type { RetentionConfig } from '../../lib/config.ts';
import {
  COMETCHAT_CREDENTIALS,
  hasCometChatCredentials,
  pickCometChatEnv,
  ROOT,
  startOfUtcDay,
} from '../cli-support.ts';
import type { Outcome } from '../enrich-locally.ts';
import type { LocalStack } from '../local-stack.ts';
import { infrastructureFailure, UsageError } from './exit.ts';
import type { Io } from './output.ts';

/** serverless.yml's `service`: deployed names are `<service>-<stage>-<name>`. */
const SERVICE = 'cometchat-call-archive';

/** Where the work happens. */
export type Target = { kind: 'local'; dataDir: string } | { kind: 'stage'; stage: string; region: string };

/** A deployed stage. */
export type Stage = Extract<Target, { kind: 'stage' }>;

/** The target `--stage`, `--region` and `--data-dir` name. */
export function resolveTarget(
  values: { stage?: string; region?: string; 'data-dir'?: string },
  env: Io['env'],
): Target {
  if (values.stage !== undefined) {
    if (!/^[A-Za-z0-9-]{1,32}$/.test(values.stage))
      throw new UsageError(`"${values.stage}" is not a stage name`);
    return {
      kind: 'stage',
      stage: values.stage,
      region: values.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    };
  }
  if (values.region !== undefined) throw new UsageError('--region only applies with --stage');
  return { kind: 'local', dataDir: values['data-dir'] || env.CALLS_DATA_DIR || join(ROOT, '.local') };
}

/** Starts the local stack; with `cometChat`, real CometChat when its credentials are set, else the simulator. */
export async function openLocalStack(dataDir: string, io: Io, cometChat: boolean): Promise<LocalStack> {
  const { env } = io;
  const [{ startLocalStack }, { sampleCalls }] = await Promise.all([
    import('../local-stack.ts'),
    import('../simulator/sample-calls.ts'),
  ]);
  const real = hasCometChatCredentials(env);
  const missing = COMETCHAT_CREDENTIALS.filter((name) => !env[name]);
  if (cometChat && !real && missing.length < COMETCHAT_CREDENTIALS.length) {
    io.stderr.write(`${missing.join(', ')} not set: using the CometChat simulator, not the real API.\n`);
  }
  try {
    return await startLocalStack({
      dataDir,
      ...(cometChat && !real
        ? { simulator: { calls: sampleCalls(startOfUtcDay()) } }
        : { simulator: false as const, cometChatEnv: cometChat ? pickCometChatEnv(env) : {} }),
    });
  } catch (cause) {
    throw infrastructureFailure(`could not start the local stack in ${dataDir}`, cause);
  }
}

/** Invokes a deployed function; a function error comes back as `{ error }`, anything else throws. */
export async function invoke(stage: Stage, name: string, payload: unknown): Promise<Outcome<unknown>> {
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const functionName = `${SERVICE}-${stage.stage}-${name}`;
  const client = new LambdaClient({ region: stage.region });
  try {
    const response = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : 'null';
    const body = JSON.parse(text) as { errorType?: string; errorMessage?: string } | null;
    if (response.FunctionError) {
      return {
        error: { name: body?.errorType ?? 'Error', message: body?.errorMessage ?? response.FunctionError },
      };
    }
    return { result: body };
  } catch (cause) {
    throw infrastructureFailure(`could not invoke ${functionName} in ${stage.region}`, cause);
  } finally {
    client.destroy();
  }
}

/** Where a stage keeps its calls: read from its enrichCall function's environment. */
async function stageArchive(
  stage: Stage,
): Promise<{ tableName: string; bucket: string; prefix: string; retentionDays?: string }> {
  const { GetFunctionConfigurationCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const functionName = `${SERVICE}-${stage.stage}-enrichCall`;
  const client = new LambdaClient({ region: stage.region });
  try {
    const { Environment } = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: functionName }),
    );
    const env = Environment?.Variables ?? {};
    const { CALLS_TABLE: tableName, RECORDINGS_BUCKET: bucket } = env;
    if (!tableName || !bucket) throw new Error('its environment names no CALLS_TABLE or RECORDINGS_BUCKET');
    return {
      tableName,
      bucket,
      prefix: env.RECORDINGS_PREFIX ?? 'recordings/',
      ...(env.RETENTION_DAYS && { retentionDays: env.RETENTION_DAYS }),
    };
  } catch (cause) {
    throw infrastructureFailure(`could not read ${functionName}'s configuration`, cause);
  } finally {
    client.destroy();
  }
}

/** The table and bucket a command reads or changes: the local stack's, or a stage's. */
export interface Archive {
  documents: ReturnType<typeof createDocumentClient>;
  s3: S3Client;
  tableName: string;
  bucket: string;
  /** Where the call folders start in the bucket. */
  prefix: string;
  retention: RetentionConfig | undefined;
}

/**
 * Runs `work` on the archive of `target`, then closes what was opened. A stage's table is known by
 * its name; its bucket, prefix and retention only from its enrichCall function, read unless
 * `tableOnly` is set.
 */
export async function withArchive<T>(
  target: Target,
  io: Io,
  work: (archive: Archive) => Promise<T>,
  { tableOnly = false } = {},
): Promise<T> {
  const [{ S3Client }, { readRetentionConfig }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('../../lib/config.ts'),
  ]);
  let stack: LocalStack | undefined;
  let owned: { s3: S3Client; dynamodb: DynamoDBClient } | undefined;
  try {
    let archive: Archive;
    if (target.kind === 'stage') {
      const where = tableOnly
        ? { tableName: `${SERVICE}-${target.stage}-calls`, bucket: '', prefix: '', retentionDays: undefined }
        : await stageArchive(target);
      owned = {
        s3: new S3Client({ region: target.region }),
        dynamodb: new DynamoDBClient({ region: target.region }),
      };
      archive = {
        documents: createDocumentClient(owned.dynamodb),
        s3: owned.s3,
        tableName: where.tableName,
        bucket: where.bucket,
        prefix: where.prefix,
        retention: readRetentionConfig({ RETENTION_DAYS: where.retentionDays }),
      };
    } else {
      stack = await openLocalStack(target.dataDir, io, false);
      archive = {
        documents: createDocumentClient(stack.clients.dynamodb),
        s3: stack.clients.s3,
        tableName: stack.tableName,
        bucket: stack.bucket,
        prefix: stack.env.RECORDINGS_PREFIX ?? '',
        retention: readRetentionConfig(io.env),
      };
    }
    return await work(archive);
  } finally {
    owned?.s3.destroy();
    owned?.dynamodb.destroy();
    await stack?.close();
  }
}
