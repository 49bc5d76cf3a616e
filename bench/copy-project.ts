/**
 * The project's side of the recording-copy benchmark, in its own bundle: `createRecordingCopier`
 * with its production defaults, through the URL policy (the bench host is listed explicitly).
 */
import { createRecordingCopier } from '../lib/recordings/copy-recording.ts';
import { runCopyWorker } from './copy-worker.ts';

runCopyWorker({
  project: async (job, s3) => {
    const copier = createRecordingCopier({
      s3,
      bucket: job.bucket,
      prefix: '',
      policy: { allowedHosts: [new URL(job.url).host] },
      ...(job.partSizeBytes !== undefined && { partSizeBytes: job.partSizeBytes }),
      ...(job.queueSize !== undefined && { queueSize: job.queueSize }),
    });
    const { entry } = await copier.copy({
      sessionId: job.sessionId,
      source: { rid: job.rid, url: job.url, sourceUrl: job.url },
    });
    return entry.bytes;
  },
});
