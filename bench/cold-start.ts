/**
 * Cold start: each function's bundle as `osls package` builds it (serverless-esbuild with the
 * settings in serverless.yml), its size and the time a fresh Node process takes to import it,
 * against a floor bundle built with the same options that holds only the SDK clients the
 * function needs. A function whose handler exists but that serverless.yml does not list yet is
 * bundled with esbuild directly, with the same options, and marked so.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { build } from 'esbuild';
import { runJsonChild } from './support/child.ts';
import { bundle, esbuildOptions, type FunctionShape, packageService, ROOT } from './support/serverless.ts';
import { median, progress } from './support/stats.ts';

/** A floor: the clients a function cannot do without, created at module scope. */
interface Floor {
  /** What it holds, for the table. */
  label: string;
  source: string;
}

const DYNAMODB = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
export const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));`;
const S3 = `import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
export const s3 = new S3Client({});
export const upload = Upload;`;
const SQS = `import { SQSClient } from '@aws-sdk/client-sqs';
export const sqs = new SQSClient({});`;

/** Floors and targets per function (ratios are project / floor). */
const FLOORS: Record<string, { floor: Floor; target?: number }> = {
  enrichCall: {
    floor: { label: 'DynamoDB document client + S3 + lib-storage', source: `${DYNAMODB}\n${S3}` },
    target: 0.85,
  },
  enrich: {
    floor: {
      label: 'DynamoDB document client + S3 + lib-storage + SQS',
      source: `${DYNAMODB}\n${S3}\n${SQS}`,
    },
  },
  webhook: { floor: { label: 'SQS', source: SQS }, target: 1.0 },
  backfill: { floor: { label: 'DynamoDB document client + SQS', source: `${DYNAMODB}\n${SQS}` } },
};

/** One function's figures. */
export interface ColdStartRow {
  name: string;
  /** `osls package`, or `esbuild` when serverless.yml does not list the function yet. */
  builtBy: 'osls package' | 'esbuild';
  bundleBytes: number;
  zipBytes?: number;
  importMs: number;
  rssMiB: number;
  floorLabel: string;
  floorBytes: number;
  floorImportMs: number;
  floorRssMiB: number;
  ratio: number;
  target?: number;
  /** Bytes of the bundle evaluated at import vs. only behind `import()` (from esbuild's metafile). */
  eagerBytes?: number;
  lazyBytes?: number;
  /** The largest packages evaluated at import, bytes in the bundle. */
  topEagerPackages?: { name: string; bytes: number }[];
  /** Both built again with `splitting: true` added (when serverless.yml does not split already). */
  split?: { importMs: number; floorImportMs: number; ratio: number };
  error?: string;
}

/** What the benchmark found. */
export interface ColdStartResults {
  runs: number;
  nodeFlags: string[];
  rows: ColdStartRow[];
  /** Functions with no handler file yet. */
  missing: string[];
  /** Why `osls package` could not be used, if it could not. */
  packageError?: string;
}

/** Settings for a run. */
export interface ColdStartOptions {
  esbuild: Record<string, unknown>;
  functions: FunctionShape[];
  nodeOptions: string[];
  runs: number;
  workDir: string;
}

const EXPECTED = ['webhook', 'enrich', 'enrichCall', 'backfill'];

/** Plausible values for every variable a handler validates at import time. */
const BASE_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  POWERTOOLS_SERVICE_NAME: 'cometchat-call-archive',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  COMETCHAT_APP_ID: 'abc123',
  COMETCHAT_REGION: 'us',
  COMETCHAT_API_KEY_PARAMETER: '/cometchat-call-archive/bench/cometchat-api-key',
  WEBHOOK_BASIC_AUTH_PARAMETER: '/cometchat-call-archive/bench/webhook-basic-auth',
  CALLS_TABLE: 'cometchat-call-archive-bench-calls',
  RECORDINGS_BUCKET: 'cometchat-call-archive-bench-recordings',
  RECORDINGS_PREFIX: 'recordings/',
  ENRICH_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-enrich.fifo',
  ENRICH_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-enrich-dlq.fifo',
};

/** A CloudFormation reference becomes a plausible literal named after the variable. */
function literal(name: string, value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return (
    BASE_ENV[name] ??
    (name.endsWith('_ARN') ? 'arn:aws:states:us-east-1:123456789012:stateMachine:bench' : 'bench')
  );
}

function envFor(shape: FunctionShape | undefined): Record<string, string> {
  const env = { ...BASE_ENV };
  for (const [name, value] of Object.entries(shape?.environment ?? {})) {
    if (name !== 'NODE_OPTIONS') env[name] = literal(name, value);
  }
  return env;
}

/** `functions/enrich-call.ts` -> `enrichCall`. */
function functionName(file: string): string {
  return basename(file, '.ts').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

interface ImportSample {
  ms: number;
  rssMiB: number;
}

const IMPORT_SCRIPT = `
const url = process.argv[1];
const started = performance.now();
await import(url);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, rssMiB: process.memoryUsage.rss() / 1048576 }) + '\\n');
process.exit(0);
`;

async function importOnce(
  module: string,
  env: Record<string, string>,
  nodeFlags: string[],
): Promise<ImportSample> {
  return runJsonChild<ImportSample>(
    [...nodeFlags, '--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(module).href],
    { env, cleanEnv: true },
  );
}

/** Which bytes of a bundle run at import and which only behind `import()`. */
export function eagerAndLazy(metafile: Metafile): {
  eagerBytes: number;
  lazyBytes: number;
  topEagerPackages: { name: string; bytes: number }[];
} {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  if (!output?.entryPoint) return { eagerBytes: 0, lazyBytes: 0, topEagerPackages: [] };
  const eager = new Set<string>();
  const pending = [output.entryPoint];
  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (eager.has(path)) continue;
    eager.add(path);
    for (const edge of metafile.inputs[path]?.imports ?? []) {
      if (edge.kind !== 'dynamic-import' && !edge.external) pending.push(edge.path);
    }
  }
  let eagerBytes = 0;
  let lazyBytes = 0;
  const packages = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (!eager.has(path)) {
      lazyBytes += bytesInOutput;
      continue;
    }
    eagerBytes += bytesInOutput;
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = match?.[1] ?? '(project code)';
    packages.set(name, (packages.get(name) ?? 0) + bytesInOutput);
  }
  const topEagerPackages = [...packages.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 6);
  return { eagerBytes, lazyBytes, topEagerPackages };
}

/** Handler and floor built with `splitting: true` added: what `import()` reaches goes to chunks. */
async function splitBundles(
  settings: Record<string, unknown>,
  entry: string,
  floorSource: string,
  outdir: string,
): Promise<{ module: string; floorModule: string }> {
  const options = { ...esbuildOptions(settings), splitting: true, logLevel: 'error' as const };
  await build({ ...options, entryPoints: { handler: entry }, outdir: join(outdir, 'handler') });
  await build({
    ...options,
    stdin: { contents: floorSource, resolveDir: ROOT, sourcefile: 'floor.ts', loader: 'ts' },
    entryNames: 'floor',
    outdir: join(outdir, 'floor'),
  });
  const extension = (options.outExtension as Record<string, string> | undefined)?.['.js'] ?? '.js';
  return {
    module: join(outdir, 'handler', `handler${extension}`),
    floorModule: join(outdir, 'floor', `floor${extension}`),
  };
}

/** Runs the benchmark. */
export async function benchColdStart(options: ColdStartOptions): Promise<ColdStartResults> {
  const { workDir } = options;
  const handlers = (await readdir(join(ROOT, 'functions'))).filter((f) => f.endsWith('.ts')).sort();
  const names = handlers.map(functionName);
  const missing = EXPECTED.filter((name) => !names.includes(name));

  // The real package, for every function serverless.yml lists.
  const packaged = new Map<string, { module: string; zipBytes: number }>();
  const listed = options.functions.filter((fn) =>
    existsSync(join(ROOT, `${fn.handler.replace(/\.[^.]+$/, '')}.ts`)),
  );
  let packageError: string | undefined;
  if (listed.length > 0) {
    progress(`cold start: osls package (${listed.map((f) => f.name).join(', ')})`);
    try {
      for (const [name, value] of await packageService(join(workDir, 'package'), listed))
        packaged.set(name, value);
    } catch (error) {
      packageError = (error as Error).message.split('\n')[0];
      progress(`cold start: osls package failed, bundling with esbuild instead: ${packageError}`);
    }
  }

  const rows: ColdStartRow[] = [];
  const splitting = options.esbuild.splitting !== true;
  const plans: {
    name: string;
    module: string;
    floorModule: string;
    split?: { module: string; floorModule: string };
    env: Record<string, string>;
    row: ColdStartRow;
  }[] = [];
  for (const file of handlers) {
    const name = functionName(file);
    const spec = FLOORS[name];
    if (!spec) continue;
    const shape = options.functions.find((fn) => fn.name === name);
    const dir = join(workDir, 'cold', name);
    await mkdir(dir, { recursive: true });
    const entry = join(ROOT, 'functions', file);
    // A metafile needs a build of our own. One file, even when the service splits: the breakdown
    // below reads which bytes are evaluated at import and which only behind import().
    const own = await bundle(options.esbuild, entry, join(dir, 'handler.mjs'), {
      metafile: true,
      splitting: false,
    });
    const fromPackage = packaged.get(name);
    const floor = await bundle(options.esbuild, { contents: spec.floor.source }, join(dir, 'floor.mjs'));
    const row: ColdStartRow = {
      name,
      builtBy: fromPackage ? 'osls package' : 'esbuild',
      bundleBytes: fromPackage ? (await stat(fromPackage.module)).size : own.bytes,
      ...(fromPackage && { zipBytes: fromPackage.zipBytes }),
      importMs: Number.NaN,
      rssMiB: Number.NaN,
      floorLabel: spec.floor.label,
      floorBytes: floor.bytes,
      floorImportMs: Number.NaN,
      floorRssMiB: Number.NaN,
      ratio: Number.NaN,
      ...(spec.target !== undefined && { target: spec.target }),
      ...(own.metafile && eagerAndLazy(own.metafile)),
    };
    rows.push(row);
    plans.push({
      name,
      module: fromPackage?.module ?? join(dir, 'handler.mjs'),
      floorModule: join(dir, 'floor.mjs'),
      ...(splitting && {
        split: await splitBundles(options.esbuild, entry, spec.floor.source, join(dir, 'split')),
      }),
      env: envFor(shape),
      row,
    });
  }

  const nodeFlags = [...options.nodeOptions];
  for (const plan of plans) {
    const project: ImportSample[] = [];
    const floor: ImportSample[] = [];
    try {
      // Interleaved, so drift on a shared machine hits both alike.
      for (let i = 0; i < options.runs; i++) {
        floor.push(await importOnce(plan.floorModule, plan.env, nodeFlags));
        project.push(await importOnce(plan.module, plan.env, nodeFlags));
      }
    } catch (error) {
      plan.row.error = (error as Error).message.split('\n').slice(0, 3).join(' ');
    }
    plan.row.importMs = median(project.map((s) => s.ms));
    plan.row.rssMiB = median(project.map((s) => s.rssMiB));
    plan.row.floorImportMs = median(floor.map((s) => s.ms));
    plan.row.floorRssMiB = median(floor.map((s) => s.rssMiB));
    plan.row.ratio = plan.row.importMs / plan.row.floorImportMs;
    if (plan.split && !plan.row.error) {
      const split = plan.split;
      const project: number[] = [];
      const floor: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        floor.push((await importOnce(split.floorModule, plan.env, nodeFlags)).ms);
        project.push((await importOnce(split.module, plan.env, nodeFlags)).ms);
      }
      plan.row.split = {
        importMs: median(project),
        floorImportMs: median(floor),
        ratio: median(project) / median(floor),
      };
    }
    progress(
      `cold start ${plan.name}: import ${plan.row.importMs.toFixed(1)} ms vs floor ` +
        `${plan.row.floorImportMs.toFixed(1)} ms (${plan.row.ratio.toFixed(2)}×)` +
        (plan.row.error ? ` — ${plan.row.error}` : ''),
    );
  }
  return { runs: options.runs, nodeFlags, rows, missing, ...(packageError && { packageError }) };
}
