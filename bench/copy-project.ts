/**
 * The project's side of the recording-copy benchmark, in its own bundle: `createRecordingCopier`
 * with its production defaults (K parts at once, 8 MiB parts), through the URL policy (the bench
 * host is listed explicitly), with its resume record in DynamoDB when the job names a table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../lib/aws/dynamodb.ts';
import { createRecordingCopier } from '../lib/recordings/copy-recording.ts';
import { createUploadRecords } from '../lib/store/upload-records.ts';
import { runCopyWorker } from './copy-worker.ts';

runCopyWorker({
  project: async (job, s3) => {
    const uploads =
      job.dynamodbEndpoint && job.tableName
        ? createUploadRecords({
            client: createDocumentClient(
              new DynamoDBClient({
                endpoint: job.dynamodbEndpoint,
                region: 'us-east-1',
                credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
              }),
            ),
            tableName: job.tableName,
          })
        : undefined;
    const copier = createRecordingCopier({
      s3,
      bucket: job.bucket,
      prefix: '',
      policy: { allowedHosts: [new URL(job.url).host] },
      ...(uploads && { uploads }),
      ...(job.partSizeBytes !== undefined && { partSizeBytes: job.partSizeBytes }),
      ...(job.concurrency !== undefined && { concurrency: job.concurrency }),
    });
    const { entry } = await copier.copy({
      sessionId: job.sessionId,
      source: { rid: job.rid, url: job.url, sourceUrl: job.url },
    });
    return entry.bytes;
  },
});
