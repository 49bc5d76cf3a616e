/**
 * Builds the backfill's adapters and settings from configuration: once per container in the
 * Lambda handler, or with clients of the caller's own (tests, the local runner). The pacer lives
 * as long as the container, so warm invocations share one request budget.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../aws/dynamodb.ts';
import { createCometChatClient } from '../cometchat/client.ts';
import {
  readBackfillConfig,
  readCometChatConfig,
  readQueueConfig,
  readRecordingsConfig,
  readStoreConfig,
} from '../config.ts';
import { enqueueEnrichments, type QueueClient } from '../queue/enqueue.ts';
import { secretProvider } from '../secrets.ts';
import { createCallStore } from '../store/call-store.ts';
import { BACKFILL_DEFAULTS, type BackfillDependencies, type BackfillSettings } from './backfill.ts';
import { createManifestSink } from './manifest.ts';
import { type Clock, createPacer, SYSTEM_CLOCK } from './pacer.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Clients and a clock a caller may supply instead of the defaults. */
export interface BackfillOverrides {
  dynamodb?: DynamoDBDocumentClient;
  sqs?: QueueClient;
  s3?: S3Client;
  sfn?: Pick<SFNClient, 'send'>;
  /** Drives the pacer and the use case's notion of now. */
  clock?: Clock;
}

/** Validates every variable the backfill needs (failing fast, naming it) and wires the adapters. */
export function backfillFromEnv(
  env: Env = process.env,
  overrides: BackfillOverrides = {},
): { deps: BackfillDependencies; settings: BackfillSettings } {
  const cometChatConfig = readCometChatConfig(env);
  const { tableName } = readStoreConfig(env);
  const { queueUrl } = readQueueConfig(env);
  const config = readBackfillConfig(env);
  // The manifest goes to the recordings bucket, which the state machine reads; only needed then.
  const recordings = config.stateMachineArn ? readRecordingsConfig(env) : undefined;
  const clock = overrides.clock ?? SYSTEM_CLOCK;

  const cometChat = createCometChatClient({
    baseUrl: cometChatConfig.baseUrl,
    apiKey: secretProvider(cometChatConfig.apiKey, 'CometChat API key'),
  });
  const store = createCallStore({
    tableName,
    client: overrides.dynamodb ?? createDocumentClient(),
  });
  const sqs = overrides.sqs ?? new SQSClient({});
  const manifests =
    config.stateMachineArn && recordings
      ? createManifestSink({
          s3: overrides.s3 ?? new S3Client({ forcePathStyle: recordings.forcePathStyle }),
          sfn: overrides.sfn ?? new SFNClient({}),
          bucket: recordings.bucket,
          stateMachineArn: config.stateMachineArn,
        })
      : undefined;

  const deps: BackfillDependencies = {
    cometChat,
    store,
    enqueue: async (messages, options) => {
      await enqueueEnrichments(sqs, queueUrl, messages, options);
    },
    pacer: createPacer({ ratePerMinute: config.requestsPerMinute, clock }),
    now: () => clock.now(),
    ...(manifests ? { manifests } : {}),
  };
  const settings: BackfillSettings = {
    ...BACKFILL_DEFAULTS,
    overlapSeconds: config.overlapSeconds,
    queueThreshold: config.queueThreshold,
  };
  return { deps, settings };
}
