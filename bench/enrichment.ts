/**
 * Enrichment on the local stack: 50-participant calls without recordings through the use case
 * (lib/enrich/enrich.ts with the adapters lib/enrich/dependencies.ts wires), first on fresh session ids, then
 * again unchanged; DynamoDB requests counted by a proxy in front of dynalite, S3 requests and
 * recording downloads counted too. The floor is the bare cost of what enrichment cannot avoid:
 * one Get Call and one Query per call, against the same servers.
 */
import { join } from 'node:path';
import { type LocalStack, startLocalStack } from '../dev/local-stack.ts';
import { type CountingProxy, DYNAMODB_WRITES, startCountingProxy } from '../test/support/counting-proxy.ts';
import { groupCall } from './calls.ts';
import type { EnrichAnswer, EnrichCommand } from './enrich-worker.ts';
import { lambdaHeapFlags, startJsonChild } from './support/child.ts';
import { bundle } from './support/serverless.ts';
import { progress } from './support/stats.ts';

/** One phase's figures. */
export interface EnrichPhase {
  calls: number;
  callsPerSecond: number;
  cpuMsPerCall: number;
  /** DynamoDB requests per call, by operation. */
  dynamodbPerCall: Record<string, number>;
  writesPerCall: number;
  /** S3 requests per call, by method. */
  s3PerCall: Record<string, number>;
  recordingDownloads: number;
  bytesDownloaded: number;
  /** The worker's peak RSS by the end of the phase, MiB. */
  maxRssMiB: number;
}

/** What the benchmark found. */
export interface EnrichResults {
  participants: number;
  nodeFlags: string[];
  floor: EnrichPhase;
  first: EnrichPhase;
  rerun: EnrichPhase;
  /** One call with a recording, enriched then enriched again unchanged. */
  recording: { bytes: number; first: EnrichPhase; rerun: EnrichPhase };
}

/** Settings for a run. */
export interface EnrichOptions {
  esbuild: Record<string, unknown>;
  nodeOptions: string[];
  /** The function's memory size: the worker gets the heap limits Lambda would give it. */
  memorySizeMiB: number;
  calls: number;
  participants: number;
  workDir: string;
}

const MiB = 1024 * 1024;
const RECORDING_BYTES = 6 * MiB;

/** Runs the benchmark. */
export async function benchEnrichment(options: EnrichOptions): Promise<EnrichResults> {
  const worker = join(options.workDir, 'enrich-worker.mjs');
  await bundle(options.esbuild, join(import.meta.dirname, 'enrich-worker.ts'), worker);
  const newest = Math.floor(Date.now() / 1000) - 3600;
  const warmup = Array.from({ length: 5 }, (_, i) =>
    groupCall(i, { participants: options.participants, newest, label: 'bench-warmup' }),
  );
  const calls = Array.from({ length: options.calls }, (_, i) =>
    groupCall(i, { participants: options.participants, newest, label: 'bench-enrich' }),
  );
  const recorded = groupCall(0, {
    participants: options.participants,
    newest,
    label: 'bench-recorded',
    recordingBytes: RECORDING_BYTES,
  });
  const ids = (list: { raw: Record<string, unknown> }[]) => list.map((c) => String(c.raw.sessionId));
  const nodeFlags = [...lambdaHeapFlags(options.memorySizeMiB), ...options.nodeOptions];

  let stack: LocalStack | undefined;
  let dynamo: CountingProxy | undefined;
  let s3: CountingProxy | undefined;
  try {
    stack = await startLocalStack({ simulator: { calls: [...warmup, ...calls, recorded] } });
    dynamo = await startCountingProxy(stack.env.AWS_ENDPOINT_URL_DYNAMODB as string);
    s3 = await startCountingProxy(stack.env.AWS_ENDPOINT_URL_S3 as string);
    const simulator = stack.simulator;
    if (!simulator) throw new Error('the local stack started without its simulator');
    const child = startJsonChild<EnrichAnswer>([...nodeFlags, worker], {
      cleanEnv: true,
      env: {
        ...stack.env,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
    });

    const phase = async (command: EnrichCommand): Promise<EnrichPhase> => {
      dynamo?.reset();
      s3?.reset();
      simulator.resetRequests();
      child.send(command);
      const answer = await child.next();
      const perCall = (proxy: CountingProxy | undefined) =>
        Object.fromEntries([...(proxy?.counts ?? [])].map(([op, n]) => [op, n / answer.calls]));
      const recordingRequests = simulator.requests.filter((r) => r.kind === 'recording').length;
      return {
        calls: answer.calls,
        callsPerSecond: answer.calls / (answer.wallMs / 1000),
        cpuMsPerCall: answer.cpuMs / answer.calls,
        dynamodbPerCall: perCall(dynamo),
        writesPerCall: (dynamo?.count(...DYNAMODB_WRITES) ?? 0) / answer.calls,
        s3PerCall: perCall(s3),
        recordingDownloads: recordingRequests,
        bytesDownloaded: answer.copiedBytes,
        maxRssMiB: answer.maxRssKiB / 1024,
      };
    };

    progress(`enrichment: warm-up (${warmup.length} calls)`);
    await phase({ phase: 'enrich', ids: ids(warmup) });
    await phase({ phase: 'floor', ids: ids(warmup) });
    progress(`enrichment: first run (${calls.length} calls of ${options.participants} participants)`);
    const first = await phase({ phase: 'enrich', ids: ids(calls) });
    // Floor and re-run alternate, on the same (now stored) calls, so drift hits both alike.
    const floors: EnrichPhase[] = [];
    const reruns: EnrichPhase[] = [];
    for (let round = 0; round < 2; round++) {
      progress(`enrichment: floor and re-run, round ${round + 1}/2`);
      floors.push(await phase({ phase: 'floor', ids: ids(calls) }));
      reruns.push(await phase({ phase: 'enrich', ids: ids(calls) }));
    }
    progress('enrichment: a call with a recording, then again');
    const recordingFirst = await phase({ phase: 'enrich', ids: ids([recorded]) });
    const recordingRerun = await phase({ phase: 'enrich', ids: ids([recorded]) });
    child.send({ phase: 'exit' });
    await child.exited;
    return {
      participants: options.participants,
      nodeFlags,
      floor: mergePhases(floors),
      first,
      rerun: mergePhases(reruns),
      recording: { bytes: RECORDING_BYTES, first: recordingFirst, rerun: recordingRerun },
    };
  } finally {
    await dynamo?.close();
    await s3?.close();
    await stack?.close();
  }
}

/** Two rounds of the same phase as one: rates from the totals, counts per call averaged. */
function mergePhases(phases: EnrichPhase[]): EnrichPhase {
  const calls = phases.reduce((sum, p) => sum + p.calls, 0);
  const seconds = phases.reduce((sum, p) => sum + p.calls / p.callsPerSecond, 0);
  const weighted = (pick: (p: EnrichPhase) => number) =>
    phases.reduce((sum, p) => sum + pick(p) * p.calls, 0) / calls;
  const mergeCounts = (pick: (p: EnrichPhase) => Record<string, number>) => {
    const merged: Record<string, number> = {};
    for (const p of phases)
      for (const [op, n] of Object.entries(pick(p))) merged[op] = (merged[op] ?? 0) + (n * p.calls) / calls;
    return merged;
  };
  return {
    calls,
    callsPerSecond: calls / seconds,
    cpuMsPerCall: weighted((p) => p.cpuMsPerCall),
    dynamodbPerCall: mergeCounts((p) => p.dynamodbPerCall),
    writesPerCall: weighted((p) => p.writesPerCall),
    s3PerCall: mergeCounts((p) => p.s3PerCall),
    recordingDownloads: phases.reduce((sum, p) => sum + p.recordingDownloads, 0),
    bytesDownloaded: phases.reduce((sum, p) => sum + p.bytesDownloaded, 0),
    maxRssMiB: Math.max(...phases.map((p) => p.maxRssMiB)),
  };
}
