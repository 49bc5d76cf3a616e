/**
 * The harness of one measured recording copy, run in a fresh child process (bundled like a
 * Lambda, started by bench/recording-copy.ts) so that `process.resourceUsage().maxRSS` is this
 * copy's peak and nothing else's: the recording host, s3rver and dynalite live in the parent. The
 * copies themselves are in copy-floor.ts and copy-project.ts, bundled apart so that each child
 * loads only the code its copy needs.
 *
 * Input: one JSON argument (`CopyJob`). Output: one JSON line on stdout (`CopyOutcome`).
 */
import { type IncomingMessage, request } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';

/** What a worker does: see {@link CopyJob.mode}. */
export type CopyMode = 'floor' | 'floor-fetch' | 'project' | 'drain';

/** What the parent asks a worker to do. */
export interface CopyJob {
  /**
   * `floor`: a bare lib-storage Upload of the node:http response; `floor-fetch`: the same with a
   * fetch() body; `project`: the project's copier; `drain`: download and discard (the stream's
   * own cost, no upload).
   */
  mode: CopyMode;
  /** The recording's URL on the parent's recording host. */
  url: string;
  s3Endpoint: string;
  bucket: string;
  key: string;
  sessionId: string;
  rid: string;
  /** Sample `process.memoryUsage()` this often (ms), to see where memory goes; 0: do not. */
  sampleEveryMs: number;
  /** Override the project copier's part size / parts at once (exploration). */
  partSizeBytes?: number;
  concurrency?: number;
  /** DynamoDB for the project copier's resume record (none: no resume). */
  dynamodbEndpoint?: string;
  tableName?: string;
}

/** What a worker reports. */
export interface CopyOutcome {
  ms: number;
  /** CPU time (user + system) this process spent on the copy, ms. */
  cpuMs: number;
  bytes: number;
  /** Peak resident set size of this process, KiB (`process.resourceUsage().maxRSS`). */
  maxRssKiB: number;
  /** Peaks of the sampled `process.memoryUsage()` fields, bytes. */
  peaks: { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  /** Resident set size before the copy started (code loaded, clients built), KiB. */
  startRssKiB: number;
}

/** A copy: reads `job.url`, stores it at `job.key`, returns the bytes copied. */
export type CopyFunction = (job: CopyJob, s3: S3Client) => Promise<number>;

/** GET `url` with node:http (no agent tricks): the stream the floor reads. */
export function get(url: string): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    request(url, resolve).on('error', reject).end();
  });
}

/** Runs the job named on the command line with `copies[job.mode]` and prints the outcome. */
export function runCopyWorker(copies: Partial<Record<CopyMode, CopyFunction>>): void {
  const job = JSON.parse(process.argv[2] ?? '{}') as CopyJob;
  const copy = copies[job.mode];
  if (!copy) throw new Error(`this worker cannot run mode ${job.mode}`);
  // The same client settings for every mode, so the comparison is fair: checksums only where S3
  // requires them, as dev/local-aws.ts sets up s3rver (the project's own tests keep the
  // defaults, which s3rver accepts for the Buffer bodies the copier sends).
  const s3 = new S3Client({
    endpoint: job.s3Endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  const peaks = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const usage = process.memoryUsage();
    for (const field of Object.keys(peaks) as (keyof typeof peaks)[]) {
      peaks[field] = Math.max(peaks[field], usage[field]);
    }
  };

  const main = async () => {
    const startRssKiB = Math.round(process.memoryUsage.rss() / 1024);
    const timer = job.sampleEveryMs > 0 ? setInterval(sample, job.sampleEveryMs) : undefined;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const bytes = await copy(job, s3);
    const ms = performance.now() - started;
    const { user, system } = process.cpuUsage(cpu);
    if (timer) clearInterval(timer);
    sample();
    const outcome: CopyOutcome = {
      ms,
      cpuMs: (user + system) / 1000,
      bytes,
      maxRssKiB: process.resourceUsage().maxRSS,
      peaks,
      startRssKiB,
    };
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
    s3.destroy();
  };
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
