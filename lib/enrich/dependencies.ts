/**
 * Builds the enrichment use case's adapters from configuration. Used by the Lambda handlers
 * (once per container, at module scope) and by the local runner, which hands in its own clients.
 * The S3 client and the recording copier are imported only when the first call with recordings
 * arrives, so a container that never sees one never loads them (with esbuild's `splitting`,
 * never even parses them: docs/benchmarks.md).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../aws/dynamodb.ts';
import { createCometChatClient } from '../cometchat/client.ts';
import {
  readArchiveKeyTemplate,
  readCometChatConfig,
  readRecordingsConfig,
  readStoreConfig,
} from '../config.ts';
import type { RecordingCopier } from '../recordings/copy-recording.ts';
import { callFolders } from '../recordings/object-key.ts';
import { secretProvider } from '../secrets.ts';
import { createCallStore } from '../store/call-store.ts';
import type { EnrichDependencies } from './enrich.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Clients a caller may supply instead of the defaults (which honour the SDK's own env vars). */
export interface ClientOverrides {
  dynamodb?: DynamoDBDocumentClient;
  s3?: () => Promise<S3Client>;
}

/** Validates every variable enrichment needs (failing fast, naming the variable) and wires the adapters. */
export function enrichDependenciesFromEnv(
  env: Env = process.env,
  clients: ClientOverrides = {},
): EnrichDependencies {
  const cometChatConfig = readCometChatConfig(env);
  const storeConfig = readStoreConfig(env);
  const recordingsConfig = readRecordingsConfig(env);
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
  const store = createCallStore({ tableName: storeConfig.tableName, client: documents });

  let copier: Promise<RecordingCopier> | undefined;
  const recordings = () => {
    copier ??= (async () => {
      const [{ createRecordingCopier }, { createUploadRecords }, s3] = await Promise.all([
        import('../recordings/copy-recording.ts'),
        import('../store/upload-records.ts'),
        clients.s3 ? clients.s3() : defaultS3Client(recordingsConfig.forcePathStyle),
      ]);
      return createRecordingCopier({
        s3,
        bucket: recordingsConfig.bucket,
        prefix: recordingsConfig.prefix,
        policy: { allowedHosts: recordingsConfig.allowedHosts },
        // A copy cut off half way (timeout, crash) is resumed by the next run from this record.
        uploads: createUploadRecords({ client: documents, tableName: storeConfig.tableName }),
      });
    })();
    return copier;
  };

  return { cometChat, store, recordings, folderOf };
}

async function defaultS3Client(forcePathStyle: boolean): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({ forcePathStyle });
}
