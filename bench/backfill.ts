/**
 * Backfill: a 10,000-call List Calls walk against the simulator (rate-limited slightly above the
 * configured budget), with the real adapters in a child process; the achieved CometChat
 * request rate against the budget, and any 429 the simulator answered.
 */
import { join } from 'node:path';
import { startLocalQueues } from '../dev/local-queue.ts';
import { startLocalStack } from '../dev/local-stack.ts';
import { generateCalls } from '../test/support/generated-calls.ts';
import type { BackfillOutcome } from './backfill-worker.ts';
import { lambdaHeapFlags, runJsonChild } from './support/child.ts';
import { bundle } from './support/serverless.ts';
import { median, progress } from './support/stats.ts';

/** What the benchmark found. */
export interface BackfillResults {
  nodeFlags: string[];
  calls: number;
  perPage: number;
  budgetPerMinute: number;
  simulatorLimitPerMinute: number;
  requests: number;
  /** Requests per minute over the whole run. */
  overallPerMinute: number;
  /** 60 000 / the median gap between requests once the initial burst is spent: the steady rate. */
  steadyPerMinute: number;
  /** Requests per minute over that same stretch (saved-up tokens included). */
  windowPerMinute: number;
  /** steadyPerMinute / budgetPerMinute. */
  ratio: number;
  /** Median gap between consecutive requests in the steady state, ms (the budget's is 60 000 / budget). */
  medianGapMs: number;
  tooManyRequests: number;
  listed: number;
  enqueued: number;
  complete: boolean;
  wallMs: number;
  /** The worker's peak RSS, MiB. */
  maxRssMiB: number;
}

/** Settings for a run. */
export interface BackfillBenchOptions {
  esbuild: Record<string, unknown>;
  nodeOptions: string[];
  /** The function's memory size: the worker gets the heap limits Lambda would give it. */
  memorySizeMiB: number;
  calls: number;
  perPage: number;
  budgetPerMinute: number;
  workDir: string;
}

const QUEUE = 'bench-enrich.fifo';

/** Runs the benchmark. */
export async function benchBackfill(options: BackfillBenchOptions): Promise<BackfillResults> {
  const worker = join(options.workDir, 'backfill-worker.mjs');
  await bundle(options.esbuild, join(import.meta.dirname, 'backfill-worker.ts'), worker);
  const newest = Math.floor(Date.now() / 1000) - 600;
  const calls = generateCalls({ count: options.calls, newest, spacingSeconds: 30, label: 'bench-backfill' });
  const oldest = newest - (options.calls - 1) * 30;
  const simulatorLimitPerMinute = Math.ceil(options.budgetPerMinute * 1.05);
  const nodeFlags = [...lambdaHeapFlags(options.memorySizeMiB), ...options.nodeOptions];
  const stack = await startLocalStack({ simulator: { calls, rateLimitPerMinute: simulatorLimitPerMinute } });
  const queues = await startLocalQueues({ queues: [QUEUE] });
  try {
    const simulator = stack.simulator;
    if (!simulator) throw new Error('the local stack started without its simulator');
    simulator.resetRequests();
    progress(
      `backfill: ${options.calls} calls, ${options.perPage} per page, budget ${options.budgetPerMinute}/min`,
    );
    const outcome = await runJsonChild<BackfillOutcome>(
      [...nodeFlags, worker, JSON.stringify({ from: oldest - 1, to: newest + 1 })],
      {
        cleanEnv: true,
        env: {
          ...stack.env,
          AWS_ENDPOINT_URL_SQS: queues.endpoint,
          ENRICH_QUEUE_URL: queues.queueUrl(QUEUE),
          COMETCHAT_REQUESTS_PER_MINUTE: String(options.budgetPerMinute),
          BENCH_PER_PAGE: String(options.perPage),
          BACKFILL_QUEUE_THRESHOLD: String(options.calls * 10),
          POWERTOOLS_LOG_LEVEL: 'WARN',
          POWERTOOLS_METRICS_DISABLED: 'true',
        },
      },
    );
    const times = outcome.requestTimes;
    // The steady state is measured past the first fifth of the run (start-up, cold connections).
    const skip = Math.floor(times.length / 5);
    const steady = times.slice(skip);
    // The median gap, not the span: one slow page delays the next request, not the pace.
    const gaps = steady.slice(1).map((t, i) => t - (steady[i] as number));
    const steadyPerMinute = 60_000 / median(gaps);
    const spanMs = (steady.at(-1) ?? 0) - (steady[0] ?? 0);
    const windowPerMinute = steady.length > 1 ? ((steady.length - 1) / spanMs) * 60_000 : Number.NaN;
    const tooManyRequests = simulator.requests.filter((r) => r.status === 429).length;
    const results: BackfillResults = {
      nodeFlags,
      calls: options.calls,
      perPage: options.perPage,
      budgetPerMinute: options.budgetPerMinute,
      simulatorLimitPerMinute,
      requests: times.length,
      overallPerMinute: (times.length / outcome.wallMs) * 60_000,
      steadyPerMinute,
      ratio: steadyPerMinute / options.budgetPerMinute,
      medianGapMs: median(gaps),
      windowPerMinute,
      tooManyRequests,
      listed: outcome.listed,
      enqueued: outcome.enqueued,
      complete: outcome.complete,
      wallMs: outcome.wallMs,
      maxRssMiB: outcome.maxRssKiB / 1024,
    };
    progress(
      `backfill: ${results.requests} requests, steady ${Math.round(steadyPerMinute)}/min ` +
        `(${(results.ratio * 100).toFixed(1)}% of budget), ${tooManyRequests} × 429`,
    );
    return results;
  } finally {
    await queues.close();
    await stack.close();
  }
}
