/**
 * Recording copy: the project's copier against a single-stream lib-storage `Upload` of the same
 * URL through the same host (the floor), each copy in a fresh child process with the function's
 * Lambda heap limits. The recording host (the simulator's `serveFile`, paced per connection like
 * one flow from a CDN), s3rver and dynalite run here, in the parent, so their memory is not
 * counted. Every figure that is judged is a ratio against the floor of the same run.
 *
 * - time: one file, paced, copied by the floor, by the project with ranges (K parts at once) and
 *   by the project from a host that ignores Range;
 * - memory: peak RSS at two sizes, unpaced (the pace does not change what is held);
 * - resume: a copy killed (SIGKILL, like a crash) at about 60% of the file, then run again: the
 *   bytes the host serves to the second run.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ensureBucket, ensureTable, localClients, startDynalite, startS3rver } from '../dev/local-aws.ts';
import { recordingStream } from '../dev/simulator/content.ts';
import { serveFile } from '../dev/simulator/recording-host.ts';
import type { CopyJob, CopyMode, CopyOutcome } from './copy-worker.ts';
import { lambdaHeapFlags, runJsonChild } from './support/child.ts';
import { bundle } from './support/serverless.ts';
import { progress } from './support/stats.ts';

const MiB = 1024 * 1024;
const BUCKET = 'bench-recordings';
const TABLE = 'bench-calls';

/** One measured copy. */
export interface CopySummary {
  mode: CopyMode;
  bytes: number;
  runs: number;
  ms: number;
  cpuMs: number;
  maxRssMiB: number;
  startRssMiB: number;
  /** Peak `process.memoryUsage().arrayBuffers` (Buffers), MiB (0 when not sampled). */
  arrayBuffersMiB: number;
  heapUsedMiB: number;
  /** Every run's peak RSS, MiB. */
  allMaxRssMiB: number[];
  /** Body bytes the recording host sent for this copy. */
  servedBytes: number;
}

/** What the copy benchmark found. */
export interface CopyResults {
  memorySizeMiB: number;
  nodeFlags: string[];
  /** The host's pace per connection in the timed and resume runs, bytes per second. */
  bytesPerSecond: number;
  /** Parts the project fetches at once. */
  concurrency: number;
  /** Paced copies of one file: the floor, the project with ranges, the project without. */
  timed: { floor: CopySummary; ranged: CopySummary; unranged: CopySummary };
  /** Per size (unpaced): floor and project (with ranges), for peak RSS. */
  compared: { floor: CopySummary; project: CopySummary; before?: CopySummary }[];
  beforeRef?: string;
  /** The crash-and-resume run. */
  resume: { bytes: number; killedAfterBytes: number; rerun: CopySummary };
  /** Kept for the report's layout; not measured any more. */
  breakdown: CopySummary[];
}

/** Settings for a run of this benchmark. */
export interface CopyOptions {
  esbuild: Record<string, unknown>;
  memorySizeMiB: number;
  /** Extra flags from the function's NODE_OPTIONS (e.g. --enable-source-maps). */
  nodeOptions: string[];
  /** Sizes for the memory comparison. */
  sizes: number[];
  /** Size of the paced, timed copies. */
  timedSize: number;
  /** Size of the crash-and-resume copy. */
  resumeSize: number;
  bytesPerSecond: number;
  workDir: string;
  /** Accepted for the command line's sake; the copier before this one had another shape. */
  beforeRef?: string;
  runs?: number;
  breakdownSize?: number;
}

/** Default sizes for the memory comparison: the two the target names. */
export const COPY_SIZES = [256 * MiB, 1024 * MiB];
/** The project's parts at once (its default). */
const CONCURRENCY = 4;

interface Host {
  server: Server;
  origin: string;
  served: { bytes: number };
  pace: { bytesPerSecond: number | undefined };
}

async function startHost(): Promise<Host> {
  const served = { bytes: 0 };
  const pace: Host['pace'] = { bytesPerSecond: undefined };
  // GET /<ranges|plain>/<bytes>/<rid>: deterministic bytes, any range produced on demand.
  const server = createServer((req, res) => {
    const [, mode, size, rid] = new URL(req.url ?? '/', 'http://x').pathname.split('/');
    const bytes = Number(size);
    if (!rid || !Number.isSafeInteger(bytes) || (mode !== 'ranges' && mode !== 'plain')) {
      res.writeHead(404).end();
      return;
    }
    serveFile(
      req,
      res,
      {
        size: bytes,
        contentType: 'video/mp4',
        etag: `"${rid}-${bytes}"`,
        lastModified: Date.UTC(2026, 0, 1),
        read: (start, end) => recordingStream(rid, end, { start }),
      },
      {
        ranges: mode === 'ranges',
        ...(pace.bytesPerSecond !== undefined && { bytesPerSecond: pace.bytesPerSecond }),
        onBytes: (n) => {
          served.bytes += n;
        },
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served, pace };
}

function summarise(mode: CopyMode, bytes: number, outcome: CopyOutcome, servedBytes: number): CopySummary {
  return {
    mode,
    bytes,
    runs: 1,
    ms: outcome.ms,
    cpuMs: outcome.cpuMs,
    maxRssMiB: outcome.maxRssKiB / 1024,
    startRssMiB: outcome.startRssKiB / 1024,
    arrayBuffersMiB: outcome.peaks.arrayBuffers / MiB,
    heapUsedMiB: outcome.peaks.heapUsed / MiB,
    allMaxRssMiB: [outcome.maxRssKiB / 1024],
    servedBytes,
  };
}

/** Runs the benchmark. */
export async function benchRecordingCopy(options: CopyOptions): Promise<CopyResults> {
  const workers = {
    floor: join(options.workDir, 'copy-floor.mjs'),
    project: join(options.workDir, 'copy-project.mjs'),
  };
  await bundle(options.esbuild, join(import.meta.dirname, 'copy-floor.ts'), workers.floor);
  await bundle(options.esbuild, join(import.meta.dirname, 'copy-project.ts'), workers.project);
  const directory = await mkdtemp(join(tmpdir(), 'bench-s3rver-'));
  const [s3rver, dynalite] = await Promise.all([startS3rver({ directory }), startDynalite()]);
  const { s3, dynamodb } = localClients({ dynamodb: dynalite.endpoint, s3: s3rver.endpoint });
  const host = await startHost();
  const nodeFlags = [...lambdaHeapFlags(options.memorySizeMiB), ...options.nodeOptions];
  let sequence = 0;

  const jobFor = (mode: CopyMode, ranges: boolean, bytes: number, key?: string): CopyJob => {
    sequence += 1;
    const rid = `rid-${sequence}`;
    return {
      mode,
      url: `${host.origin}/${ranges ? 'ranges' : 'plain'}/${bytes}/${rid}`,
      s3Endpoint: s3rver.endpoint,
      bucket: BUCKET,
      // The project's copier names keys itself (`<sessionId>/<rid>.mp4` under an empty prefix).
      key:
        key ?? (mode === 'project' ? `v1.us.bench.${sequence}/${rid}.mp4` : `bench/${mode}-${sequence}.mp4`),
      sessionId: `v1.us.bench.${sequence}`,
      rid,
      sampleEveryMs: 0,
      ...(mode === 'project' && {
        concurrency: CONCURRENCY,
        dynamodbEndpoint: dynalite.endpoint,
        tableName: TABLE,
      }),
    };
  };

  const once = async (job: CopyJob, bytes: number, label: string): Promise<CopySummary> => {
    const before = host.served.bytes;
    const worker = job.mode === 'project' ? workers.project : workers.floor;
    try {
      const outcome = await runJsonChild<CopyOutcome>([...nodeFlags, worker, JSON.stringify(job)], {
        cleanEnv: true,
      });
      const summary = summarise(job.mode, bytes, outcome, host.served.bytes - before);
      progress(
        `copy ${label}: ${Math.round(summary.ms)} ms, peak RSS ${Math.round(summary.maxRssMiB)} MiB, ` +
          `${Math.round(summary.servedBytes / MiB)} MiB served`,
      );
      return summary;
    } finally {
      // 1 GiB objects add up: keep the disk to one object at a time.
      await removeObject(s3, job.key);
    }
  };

  try {
    await Promise.all([ensureBucket(s3, BUCKET), ensureTable(dynamodb, TABLE)]);
    // The first copies of a run are slower (s3rver and the host warming up): not measured.
    await once(jobFor('floor', false, 16 * MiB), 16 * MiB, 'warm-up floor');
    await once(jobFor('project', true, 16 * MiB), 16 * MiB, 'warm-up project');

    // Memory first, unpaced: the pace does not change what a copy holds, only how long.
    const compared: CopyResults['compared'] = [];
    for (const bytes of options.sizes) {
      const floor = await once(jobFor('floor', false, bytes), bytes, `${sizeName(bytes)} floor (unpaced)`);
      const project = await once(
        jobFor('project', true, bytes),
        bytes,
        `${sizeName(bytes)} project (unpaced)`,
      );
      compared.push({ floor, project });
    }

    host.pace.bytesPerSecond = options.bytesPerSecond;
    const t = options.timedSize;
    const timed = {
      floor: await once(jobFor('floor', false, t), t, `${sizeName(t)} floor (paced)`),
      ranged: await once(jobFor('project', true, t), t, `${sizeName(t)} project, ranges (paced)`),
      unranged: await once(jobFor('project', false, t), t, `${sizeName(t)} project, no ranges (paced)`),
    };

    const resume = await crashAndResume(options.resumeSize);
    return {
      memorySizeMiB: options.memorySizeMiB,
      nodeFlags,
      bytesPerSecond: options.bytesPerSecond,
      concurrency: CONCURRENCY,
      timed,
      compared,
      resume,
      breakdown: [],
    };
  } finally {
    host.server.closeAllConnections();
    await new Promise<void>((resolve) => host.server.close(() => resolve()));
    s3.destroy();
    dynamodb.destroy();
    await Promise.all([s3rver.close(), dynalite.close()]);
    await rm(directory, { recursive: true, force: true });
  }

  /** A paced copy killed at ~60%, then the same copy again: what does the rerun download? */
  async function crashAndResume(bytes: number): Promise<CopyResults['resume']> {
    const job = jobFor('project', true, bytes);
    const before = host.served.bytes;
    const child = spawn(process.execPath, [...nodeFlags, workers.project, JSON.stringify(job)], {
      env: { PATH: process.env.PATH },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let killedAfterBytes = 0;
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (host.served.bytes - before >= bytes * 0.6) {
          clearInterval(poll);
          killedAfterBytes = host.served.bytes - before;
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.once('exit', (code) => {
        clearInterval(poll);
        if (killedAfterBytes === 0) reject(new Error(`the copy to be killed ended first (exit ${code})`));
      });
    });
    await exited;
    progress(`copy ${sizeName(bytes)} resume: killed after ${Math.round(killedAfterBytes / MiB)} MiB served`);
    // Whatever the killed copy's sockets still had on the way is not the rerun's.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rerun = await once(job, bytes, `${sizeName(bytes)} resume rerun (paced)`);
    return { bytes, killedAfterBytes, rerun };
  }
}

function sizeName(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`;
}

async function removeObject(s3: S3Client, key: string): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  } catch {
    // Nothing stored (a failed run): nothing to remove.
  }
}
