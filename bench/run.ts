/**
 * `npm run bench`: every benchmark, the targets table on stdout, docs/benchmarks.md (its
 * generated part) and the memory chart written. Progress goes to stderr.
 *
 * Options: `--only copy,cold,enrich,backfill` runs a subset; `--quick` runs small sizes and few
 * repetitions (a smoke test; the figures are not meant to be kept); `--no-write` leaves docs/
 * alone; `--before <git-ref>` also measures the recording copier as it was at that revision;
 * `--json <file>` saves the raw results. BENCH_VERBOSE=1 passes the child processes' output through.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchBackfill } from './backfill.ts';
import { benchColdStart } from './cold-start.ts';
import { benchEnrichment } from './enrichment.ts';
import { benchRecordingCopy, COPY_SIZES } from './recording-copy.ts';
import {
  type BenchResults,
  CHART_FILE,
  generatedSection,
  memoryChart,
  textTable,
  updateDocument,
} from './report.ts';
import { ROOT, readService } from './support/serverless.ts';
import { progress } from './support/stats.ts';

const MiB = 1024 * 1024;
const BENCHMARKS = ['copy', 'cold', 'enrich', 'backfill'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    before: { type: 'string' },
    json: { type: 'string' },
  },
});

const selected = new Set<Benchmark>(
  values.only
    ? values.only.split(',').map((name) => {
        if (!(BENCHMARKS as readonly string[]).includes(name)) throw new Error(`unknown benchmark ${name}`);
        return name as Benchmark;
      })
    : BENCHMARKS,
);
const quick = values.quick;

/** The function's NODE_OPTIONS from serverless.yml, as flags for a child process. */
function nodeOptionsOf(environment: Record<string, unknown> | undefined): string[] {
  const value = environment?.NODE_OPTIONS;
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : [];
}

async function main(): Promise<void> {
  const started = Date.now();
  const workDir = await mkdtemp(join(tmpdir(), 'cometchat-bench-'));
  const service = await readService();
  progress(
    `serverless.yml read (${service.source}): ${service.functions.map((f) => f.name).join(', ') || 'no functions'}`,
  );
  const enrichCall = service.functions.find((f) => f.name === 'enrichCall');
  const nodeOptions = nodeOptionsOf(enrichCall?.environment ?? service.functions[0]?.environment);
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model.trim() ?? 'unknown CPU',
      node: process.versions.node,
      load: loadavg(),
    },
    serviceSource: service.source,
    functions: service.functions.map(({ name, memorySize, timeout }) => ({ name, memorySize, timeout })),
    skipped: [],
  };

  try {
    if (selected.has('copy')) {
      results.copy = await benchRecordingCopy({
        esbuild: service.esbuild,
        memorySizeMiB: enrichCall?.memorySize ?? 512,
        nodeOptions,
        sizes: quick ? [16 * MiB, 64 * MiB] : COPY_SIZES,
        // At 4 MiB/s per connection a copy is network-bound on two cores (issue 10, item 7).
        bytesPerSecond: 4 * MiB,
        timedSize: quick ? 16 * MiB : 64 * MiB,
        resumeSize: quick ? 64 * MiB : 1024 * MiB,
        workDir,
        ...(values.before && { beforeRef: values.before }),
      });
    }
    if (selected.has('cold')) {
      results.cold = await benchColdStart({
        esbuild: service.esbuild,
        functions: service.functions,
        nodeOptions,
        runs: quick ? 3 : 15,
        workDir,
      });
    }
    if (selected.has('enrich')) {
      results.enrich = await benchEnrichment({
        esbuild: service.esbuild,
        nodeOptions,
        memorySizeMiB: enrichCall?.memorySize ?? 512,
        calls: quick ? 20 : 100,
        participants: 50,
        workDir,
      });
    }
    if (selected.has('backfill')) {
      if (existsSync(join(ROOT, 'lib', 'backfill.ts'))) {
        results.backfill = await benchBackfill({
          esbuild: service.esbuild,
          nodeOptions,
          memorySizeMiB: service.functions.find((f) => f.name === 'backfill')?.memorySize ?? 512,
          calls: quick ? 2000 : 10_000,
          perPage: 10,
          budgetPerMinute: 6000,
          workDir,
        });
      } else {
        results.skipped.push({ name: 'backfill', reason: 'lib/backfill/backfill.ts does not exist yet' });
      }
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  for (const name of BENCHMARKS) {
    if (!selected.has(name) && !results.skipped.some((s) => s.name === name)) {
      results.skipped.push({ name, reason: 'not selected (--only)' });
    }
  }
  results.durationMs = Date.now() - started;

  process.stdout.write(`${textTable(results)}\n`);
  if (values.json) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
  if (!values['no-write']) {
    const document = join(ROOT, 'docs', 'benchmarks.md');
    const existing = existsSync(document) ? await readFile(document, 'utf8') : undefined;
    await writeFile(document, updateDocument(existing, generatedSection(results)));
    if (results.copy) await writeFile(join(ROOT, 'docs', CHART_FILE), memoryChart(results.copy));
    progress(`wrote docs/benchmarks.md${results.copy ? ` and docs/${CHART_FILE}` : ''}`);
  }
  progress(`done in ${Math.round(results.durationMs / 1000)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
