/**
 * Builds the backfill's adapters and settings from configuration: once per container in the
 * Lambda handler, or with clients of the caller's own (tests, the local runner). The token
 * bucket lives as long as the container, so warm invocations share one request budget.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
import type { BackfillDependencies, BackfillSettings } from './backfill.ts';
import { createManifestSink } from './manifest.ts';
import { type Clock, createTokenBucket, SYSTEM_CLOCK } from './token-bucket.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Clients and a clock a caller may supply instead of the defaults. */
export interface BackfillOverrides {
  dynamodb?: DynamoDBDocumentClient;
  sqs?: QueueClient;
  s3?: S3Client;
  sfn?: Pick<SFNClient, 'send'>;
  /** Drives the token bucket and the use case's notion of now. */
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
    pageParam: config.pageParam,
    perPageParam: config.perPageParam,
  });
  const store = createCallStore({
    tableName,
    client:
      overrides.dynamodb ??
      DynamoDBDocumentClient.from(new DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true },
      }),
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
    enqueue: async (messages) => {
      await enqueueEnrichments(sqs, queueUrl, messages);
    },
    bucket: createTokenBucket({ ratePerMinute: config.requestsPerMinute, clock }),
    now: () => clock.now(),
    ...(manifests ? { manifests } : {}),
  };
  const settings: BackfillSettings = {
    overlapSeconds: config.overlapSeconds,
    lookbackSeconds: config.lookbackSeconds,
    holdSeconds: config.holdSeconds,
    perPage: config.perPage,
    order: config.order,
    maxPasses: config.maxPasses,
    maxPages: config.maxPages,
    queueThreshold: config.queueThreshold,
    ...(config.windowParams.from || config.windowParams.to ? { windowParams: config.windowParams } : {}),
  };
  return { deps, settings };
}
