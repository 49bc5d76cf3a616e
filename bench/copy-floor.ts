/**
 * The floor of the recording-copy benchmark, in its own bundle: a bare lib-storage `Upload`
 * with default settings (queue size 4, 5 MiB parts) of a node:http response or a fetch() body,
 * and `drain`, which downloads and discards (the cost of the stream alone).
 */
import { Upload } from '@aws-sdk/lib-storage';
import { get, runCopyWorker } from './copy-worker.ts';

runCopyWorker({
  floor: async (job, s3) => {
    const response = await get(job.url);
    // No byte counting here: a 'data' listener would switch the stream to flowing mode and
    // defeat the backpressure being measured.
    await new Upload({ client: s3, params: { Bucket: job.bucket, Key: job.key, Body: response } }).done();
    return Number(response.headers['content-length'] ?? 0);
  },
  'floor-fetch': async (job, s3) => {
    const response = await fetch(job.url);
    if (!response.body) throw new Error('the response has no body');
    await new Upload({
      client: s3,
      params: { Bucket: job.bucket, Key: job.key, Body: response.body },
    }).done();
    return Number(response.headers.get('content-length') ?? 0);
  },
  drain: async (job) => {
    let bytes = 0;
    for await (const chunk of await get(job.url)) bytes += (chunk as Buffer).length;
    return bytes;
  },
});
