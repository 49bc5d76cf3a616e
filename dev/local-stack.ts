/**
 * The whole local stack in one call: dynalite, s3rver, the table and bucket, and (unless real
 * CometChat credentials are given) the CometChat simulator serving the sample calls. Returns
 * the environment the handlers read, so `npm start` and the integration tests run the real
 * handlers against it unchanged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureBucket,
  ensureTable,
  LOCAL_REGION,
  localClients,
  startDynalite,
  startS3rver,
} from './local-aws.ts';
import {
  type CometChatSimulator,
  type CometChatSimulatorOptions,
  startCometChatSimulator,
} from './simulator/index.ts';

/** The erasure salt of every local stack (not a secret: local data only). */
export const LOCAL_ERASURE_SALT = 'local-erasure-salt-not-a-secret';

/** The CometChat settings that point the handlers at `simulator`, as if it were the real API. */
export function simulatorEnv(simulator: CometChatSimulator): Record<string, string> {
  return {
    COMETCHAT_APP_ID: simulator.appId,
    COMETCHAT_REGION: simulator.region,
    COMETCHAT_API_KEY: simulator.apiKey,
    COMETCHAT_BASE_URL: simulator.baseUrl,
    RECORDING_ALLOWED_HOSTS: simulator.recordingsHost,
  };
}

/** What the stack was started with. */
export interface LocalStackOptions {
  /** Keep DynamoDB and S3 data here between runs; default: a temporary folder removed on close. */
  dataDir?: string;
  tableName?: string;
  bucket?: string;
  /** Start the simulator with these options; `false` when real CometChat settings are in `cometChatEnv`. */
  simulator?: CometChatSimulatorOptions | false;
  /** Real CometChat settings (`COMETCHAT_*`), used instead of the simulator's. */
  cometChatEnv?: Record<string, string>;
}

/** A running local stack. */
export interface LocalStack {
  /** Environment for the handlers: table, bucket, endpoints, credentials, CometChat. */
  readonly env: Readonly<Record<string, string>>;
  readonly simulator: CometChatSimulator | undefined;
  readonly clients: ReturnType<typeof localClients>;
  readonly tableName: string;
  readonly bucket: string;
  /** Copies `env` into `process.env` (the handlers read it at import time). */
  applyEnv(): void;
  close(): Promise<void>;
}

/** Starts everything; on failure, stops whatever had started. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const tableName = options.tableName ?? 'cometchat-calls';
  const bucket = options.bucket ?? 'cometchat-recordings';
  const temporary = options.dataDir ? undefined : await mkdtemp(join(tmpdir(), 'cometchat-archive-'));
  const dataDir = options.dataDir ?? (temporary as string);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) await closeOne().catch(() => {});
    if (temporary) await rm(temporary, { recursive: true, force: true });
  };
  try {
    const dynamodb = await startDynalite(options.dataDir ? { path: join(dataDir, 'dynamodb') } : {});
    closers.push(dynamodb.close);
    const s3 = await startS3rver({ directory: join(dataDir, 's3') });
    closers.push(s3.close);
    const clients = localClients({ dynamodb: dynamodb.endpoint, s3: s3.endpoint });
    closers.push(async () => {
      clients.dynamodb.destroy();
      clients.s3.destroy();
    });
    await ensureTable(clients.dynamodb, tableName);
    await ensureBucket(clients.s3, bucket);

    let simulator: CometChatSimulator | undefined;
    let cometChatEnv: Record<string, string>;
    if (options.simulator === false) {
      cometChatEnv = { ...options.cometChatEnv };
    } else {
      simulator = await startCometChatSimulator(options.simulator ?? {});
      closers.push(() => simulator?.close() ?? Promise.resolve());
      cometChatEnv = simulatorEnv(simulator);
    }

    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      // s3rver predates the SDK's default CRC32 checksums.
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      S3_FORCE_PATH_STYLE: 'true',
      CALLS_TABLE: tableName,
      RECORDINGS_BUCKET: bucket,
      RECORDINGS_PREFIX: 'recordings/',
      // A fixed local salt, so erasure hashes match across runs; deployed, the stack generates one.
      ERASURE_SALT: LOCAL_ERASURE_SALT,
      // As serverless.yml's provider environment sets them, so local logs and metrics name the service.
      POWERTOOLS_SERVICE_NAME: 'cometchat-call-archive',
      POWERTOOLS_METRICS_NAMESPACE: 'CometChatCallArchive',
      ...cometChatEnv,
    };
    return {
      env,
      simulator,
      clients,
      tableName,
      bucket,
      applyEnv: () => Object.assign(process.env, env),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
