/**
 * Recording copy: the project's copier against a bare lib-storage `Upload` of the same stream
 * (the floor), each run in a fresh child process with the function's Lambda heap limits. The
 * recording host and s3rver run here, in the parent, so their memory is not counted.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Plugin } from 'esbuild';
import { ensureBucket, localClients, startS3rver } from '../dev/local-aws.ts';
import { recordingStream } from '../dev/simulator/index.ts';
import type { CopyJob, CopyMode, CopyOutcome } from './copy-worker.ts';
import { lambdaHeapFlags, runJsonChild } from './support/child.ts';
import { bundle, ROOT, run } from './support/serverless.ts';
import { median, progress } from './support/stats.ts';

const MiB = 1024 * 1024;
const BUCKET = 'bench-recordings';

/** Medians over the runs of one mode at one size. */
export interface CopySummary {
  mode: CopyMode;
  bytes: number;
  runs: number;
  ms: number;
  cpuMs: number;
  maxRssMiB: number;
  startRssMiB: number;
  /** Peak `process.memoryUsage().arrayBuffers` (Buffers), MiB. */
  arrayBuffersMiB: number;
  heapUsedMiB: number;
  /** Every run's peak RSS, MiB (the worst one is what the target is about). */
  allMaxRssMiB: number[];
}

/** What the copy benchmark found. */
export interface CopyResults {
  memorySizeMiB: number;
  nodeFlags: string[];
  /** Per size: floor and project (and the project at `beforeRef`), interleaved. */
  compared: { floor: CopySummary; project: CopySummary; before?: CopySummary }[];
  beforeRef?: string;
  /** Single runs at one size, to see where memory goes. */
  breakdown: CopySummary[];
}

/** Settings for a run of this benchmark. */
export interface CopyOptions {
  esbuild: Record<string, unknown>;
  memorySizeMiB: number;
  /** Extra flags from the function's NODE_OPTIONS (e.g. --enable-source-maps). */
  nodeOptions: string[];
  sizes: number[];
  runs: number;
  breakdownSize: number;
  workDir: string;
  /** Part size / queue size for the project's copier instead of its defaults (exploration). */
  project?: { partSizeBytes?: number; queueSize?: number };
  /** Also measure the copier as it was at this git revision (before/after figures). */
  beforeRef?: string;
}

/** Default sizes: two the target names, two small ones for the chart. */
export const COPY_SIZES = [16 * MiB, 64 * MiB, 256 * MiB, 1024 * MiB];

function summarise(mode: CopyMode, bytes: number, outcomes: CopyOutcome[]): CopySummary {
  const m = (pick: (o: CopyOutcome) => number) => median(outcomes.map(pick));
  return {
    mode,
    bytes,
    runs: outcomes.length,
    ms: m((o) => o.ms),
    cpuMs: m((o) => o.cpuMs),
    maxRssMiB: m((o) => o.maxRssKiB / 1024),
    startRssMiB: m((o) => o.startRssKiB / 1024),
    arrayBuffersMiB: m((o) => o.peaks.arrayBuffers / MiB),
    heapUsedMiB: m((o) => o.peaks.heapUsed / MiB),
    allMaxRssMiB: outcomes.map((o) => o.maxRssKiB / 1024),
  };
}

async function startRecordingHost(): Promise<{ server: Server; origin: string }> {
  // GET /<bytes>/<rid>: deterministic bytes, produced on demand so backpressure bounds memory here too.
  const server = createServer((req, res) => {
    const [, size, rid] = (req.url ?? '').split('/');
    const bytes = Number(size);
    if (!rid || !Number.isSafeInteger(bytes)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(bytes) });
    pipeline(recordingStream(rid, bytes), res).catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Runs the benchmark. */
export async function benchRecordingCopy(options: CopyOptions): Promise<CopyResults> {
  const workers = {
    floor: join(options.workDir, 'copy-floor.mjs'),
    project: join(options.workDir, 'copy-project.mjs'),
  };
  await bundle(options.esbuild, join(import.meta.dirname, 'copy-floor.ts'), workers.floor);
  await bundle(options.esbuild, join(import.meta.dirname, 'copy-project.ts'), workers.project);
  const before = options.beforeRef ? join(options.workDir, 'copy-before.mjs') : undefined;
  if (before && options.beforeRef) {
    await bundle(options.esbuild, join(import.meta.dirname, 'copy-project.ts'), before, {
      plugins: [await copierAt(options.beforeRef)],
    });
  }
  const directory = await mkdtemp(join(tmpdir(), 'bench-s3rver-'));
  const s3rver = await startS3rver({ directory });
  const { s3, dynamodb } = localClients({ dynamodb: 'http://127.0.0.1:9', s3: s3rver.endpoint });
  const host = await startRecordingHost();
  const nodeFlags = [...lambdaHeapFlags(options.memorySizeMiB), ...options.nodeOptions];
  let sequence = 0;

  const once = async (
    mode: CopyMode,
    bytes: number,
    sampleEveryMs: number,
    worker = mode === 'project' ? workers.project : workers.floor,
  ): Promise<CopyOutcome> => {
    sequence += 1;
    const rid = `rid-${sequence}`;
    const key = `bench/${mode}-${sequence}.mp4`;
    const job: CopyJob = {
      mode,
      url: `${host.origin}/${bytes}/${rid}`,
      s3Endpoint: s3rver.endpoint,
      bucket: BUCKET,
      key,
      sessionId: `v1.us.bench.${sequence}`,
      rid,
      sampleEveryMs,
      ...(mode === 'project' && options.project),
    };
    try {
      return await runJsonChild<CopyOutcome>([...nodeFlags, worker, JSON.stringify(job)], {
        cleanEnv: true,
      });
    } finally {
      // 1 GiB objects add up: keep the disk to one object at a time.
      await removeObject(s3, key);
    }
  };

  try {
    await ensureBucket(s3, BUCKET);
    // The first copies of a run are slower (s3rver and the host warming up): not measured.
    for (const mode of ['floor', 'project'] as const) await once(mode, 16 * MiB, 0);
    const compared: CopyResults['compared'] = [];
    for (const bytes of options.sizes) {
      const outcomes: Record<'floor' | 'project' | 'before', CopyOutcome[]> = {
        floor: [],
        project: [],
        before: [],
      };
      const runs = runsFor(bytes, options.runs);
      for (let i = 0; i < runs; i++) {
        for (const which of before
          ? (['floor', 'project', 'before'] as const)
          : (['floor', 'project'] as const)) {
          const mode = which === 'floor' ? 'floor' : 'project';
          const outcome = await once(mode, bytes, 0, which === 'before' ? before : undefined);
          outcomes[which].push(outcome);
          progress(
            `copy ${sizeName(bytes)} ${which} run ${i + 1}/${runs}: ${Math.round(outcome.ms)} ms, ` +
              `peak RSS ${Math.round(outcome.maxRssKiB / 1024)} MiB`,
          );
        }
      }
      compared.push({
        floor: summarise('floor', bytes, outcomes.floor),
        project: summarise('project', bytes, outcomes.project),
        ...(before && { before: summarise('project', bytes, outcomes.before) }),
      });
    }
    const breakdown: CopySummary[] = [];
    for (const mode of options.breakdownSize > 0
      ? (['drain', 'floor-fetch', 'floor', 'project'] as const)
      : []) {
      // Sampling memoryUsage() every 5 ms costs a little time, which is why it is a separate run.
      const outcome = await once(mode, options.breakdownSize, 5);
      breakdown.push(summarise(mode, options.breakdownSize, [outcome]));
      progress(`copy breakdown ${mode}: peak RSS ${Math.round(outcome.maxRssKiB / 1024)} MiB`);
    }
    return {
      memorySizeMiB: options.memorySizeMiB,
      nodeFlags,
      compared,
      breakdown,
      ...(options.beforeRef && { beforeRef: options.beforeRef }),
    };
  } finally {
    await new Promise<void>((resolve) => host.server.close(() => resolve()));
    host.server.closeAllConnections();
    s3.destroy();
    dynamodb.destroy();
    await s3rver.close();
    await rm(directory, { recursive: true, force: true });
  }
}

function sizeName(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`;
}

/** Runs per size: `runs` for the big ones, a couple more where a run costs little. */
function runsFor(bytes: number, runs: number): number {
  return bytes < 1024 * MiB ? runs + 2 : runs;
}

/** An esbuild plugin serving lib/recordings/copy-recording.ts as it was at `ref`. */
async function copierAt(ref: string): Promise<Plugin> {
  const contents = await run('git', ['show', `${ref}:lib/recordings/copy-recording.ts`]);
  const path = join(ROOT, 'lib', 'recordings', 'copy-recording.ts');
  return {
    name: 'copier-before',
    setup(build) {
      build.onLoad({ filter: /copy-recording\.ts$/ }, (args) =>
        args.path === path
          ? { contents, loader: 'ts', resolveDir: join(ROOT, 'lib', 'recordings') }
          : undefined,
      );
    },
  };
}

async function removeObject(s3: S3Client, key: string): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  } catch {
    // Nothing stored (a failed run): nothing to remove.
  }
}
