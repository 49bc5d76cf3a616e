/**
 * Builds the enrichment use case's adapters from configuration. Used by the Lambda handlers
 * (once per container, at module scope) and by the local runner, which hands in its own clients.
 * The S3 client, the recording copier, the analytics writer and the EventBridge sink are imported
 * on first use, so a container whose calls never change (every manifest written) never loads them
 * (with esbuild's `splitting`, never even parses them: docs/benchmarks.md).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../aws/dynamodb.ts';
import { createCometChatClient } from '../cometchat/client.ts';
import {
  readArchiveKeyTemplate,
  readCometChatConfig,
  readErasureSalt,
  readEventsConfig,
  readRecordingsConfig,
  readRetentionConfig,
  readStoreConfig,
} from '../config.ts';
import { erasureCheck } from '../erase/erased-set.ts';
import { saltProvider } from '../erase/salt.ts';
import type { EventSink } from '../events/archive-events.ts';
import type { ManifestStore } from '../manifest/manifest-store.ts';
import type { RecordingCopier } from '../recordings/copy-recording.ts';
import type { TranscriptCopier } from '../recordings/copy-transcript.ts';
import { callFolders } from '../recordings/object-key.ts';
import { secretProvider } from '../secrets.ts';
import { createCallStore } from '../store/call-store.ts';
import type { EnrichDependencies } from './enrich.ts';
import type { AnalyticsWriter } from './publish.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Clients a caller may supply instead of the defaults (which honour the SDK's own env vars). */
export interface ClientOverrides {
  dynamodb?: DynamoDBDocumentClient;
  s3?: () => Promise<S3Client>;
  /** Where events go instead of EVENT_BUS_NAME's bus (`npm start`: .local/events.jsonl). */
  events?: EventSink;
}

/** Validates every variable enrichment needs (failing fast, naming the variable) and wires the adapters. */
export function enrichDependenciesFromEnv(
  env: Env = process.env,
  clients: ClientOverrides = {},
): EnrichDependencies {
  const cometChatConfig = readCometChatConfig(env);
  const storeConfig = readStoreConfig(env);
  const recordingsConfig = readRecordingsConfig(env);
  const eventsConfig = readEventsConfig(env);
  const folderOf = callFolders({
    prefix: recordingsConfig.prefix,
    template: readArchiveKeyTemplate(env),
    appId: cometChatConfig.appId,
  });

  const cometChat = createCometChatClient({
    baseUrl: cometChatConfig.baseUrl,
    apiKey: secretProvider(cometChatConfig.apiKey, 'CometChat API key'),
  });
  const documents = clients.dynamodb ?? createDocumentClient();
  const store = createCallStore({
    tableName: storeConfig.tableName,
    client: documents,
    retention: readRetentionConfig(env),
  });

  let s3Client: Promise<S3Client> | undefined;
  const s3 = () => {
    s3Client ??= clients.s3 ? clients.s3() : defaultS3Client(recordingsConfig.forcePathStyle);
    return s3Client;
  };

  let copier: Promise<RecordingCopier> | undefined;
  const recordings = () => {
    copier ??= (async () => {
      const [{ createRecordingCopier }, { createUploadRecords }, client] = await Promise.all([
        import('../recordings/copy-recording.ts'),
        import('../store/upload-records.ts'),
        s3(),
      ]);
      return createRecordingCopier({
        s3: client,
        bucket: recordingsConfig.bucket,
        prefix: recordingsConfig.prefix,
        policy: { allowedHosts: recordingsConfig.allowedHosts },
        // A copy cut off half way (timeout, crash) is resumed by the next run from this record.
        uploads: createUploadRecords({ client: documents, tableName: storeConfig.tableName }),
      });
    })();
    return copier;
  };

  let transcriptCopier: Promise<TranscriptCopier> | undefined;
  const transcripts = () => {
    transcriptCopier ??= Promise.all([import('../recordings/copy-transcript.ts'), s3()]).then(
      ([{ createTranscriptCopier }, client]) =>
        createTranscriptCopier({
          s3: client,
          bucket: recordingsConfig.bucket,
          policy: { allowedHosts: recordingsConfig.allowedHosts },
        }),
    );
    return transcriptCopier;
  };

  let manifestStore: Promise<ManifestStore> | undefined;
  const manifests = () => {
    manifestStore ??= (async () => {
      const [{ createManifestStore }, client] = await Promise.all([
        import('../manifest/manifest-store.ts'),
        s3(),
      ]);
      return createManifestStore({ s3: client, bucket: recordingsConfig.bucket });
    })();
    return manifestStore;
  };

  let analyticsWriter: Promise<AnalyticsWriter> | undefined;
  const analytics = () => {
    analyticsWriter ??= Promise.all([import('../analytics/analytics-store.ts'), s3()]).then(
      ([{ putAnalyticsRecord }, client]): AnalyticsWriter =>
        (call, options) =>
          putAnalyticsRecord(client, recordingsConfig.bucket, call, options),
    );
    return analyticsWriter;
  };

  let sink: Promise<EventSink> | undefined;
  const given = clients.events;
  const events = given
    ? async () => given
    : eventsConfig &&
      (() => {
        sink ??= import('../events/eventbridge-sink.ts').then(({ createEventBridgeSink }) =>
          createEventBridgeSink({ busName: eventsConfig.busName }),
        );
        return sink;
      });

  // With an erasure salt configured (always, deployed), the erased set is consulted per call.
  const saltSource = readErasureSalt(env);
  const erasure = saltSource
    ? erasureCheck({ client: documents, tableName: storeConfig.tableName, salt: saltProvider(saltSource) })
    : undefined;

  return {
    cometChat,
    store,
    recordings,
    transcripts,
    manifests,
    analytics,
    ...(events && { events }),
    folderOf,
    ...(erasure && { erasure }),
  };
}

async function defaultS3Client(forcePathStyle: boolean): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({ forcePathStyle });
}
