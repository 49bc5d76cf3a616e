/**
 * The deployed shape of the functions, taken from serverless.yml itself (`osls print` and
 * `osls package`), so the benchmarks measure the bundles Lambda would run and the floors are
 * built with the very same esbuild options.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';

/** The project root (bench/support/..). */
export const ROOT = resolve(import.meta.dirname, '..', '..');

/** Variables serverless.yml reads with ${env:…} and insists on. */
const PACKAGE_ENV = { COMETCHAT_APP_ID: 'abc123', COMETCHAT_REGION: 'us' };
const STAGE = 'bench';

/** One function as serverless.yml resolves it. */
export interface FunctionShape {
  name: string;
  /** `functions/enrich-call.handler`. */
  handler: string;
  memorySize: number;
  timeout: number;
  /** Provider and function environment; CloudFormation references left as objects. */
  environment: Record<string, unknown>;
}

/** What the benchmarks need from serverless.yml. */
export interface ServiceShape {
  /** serverless-esbuild's settings (`custom.esbuild`). */
  esbuild: Record<string, unknown>;
  functions: FunctionShape[];
}

/** What serverless-esbuild would use if serverless.yml could not be read (kept in step by hand). */
const FALLBACK_ESBUILD = {
  bundle: true,
  minify: true,
  sourcemap: true,
  keepNames: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  outputFileExtension: '.mjs',
  exclude: [],
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
};

/** Runs a command in the project root; resolves with stdout, rejects with stderr's tail. */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(out)
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${(err || out).slice(-2000)}`)),
    );
  });
}

const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

/** serverless.yml as `osls print` resolves it for the bench stage; a fallback when that fails. */
export async function readService(): Promise<ServiceShape & { source: 'serverless.yml' | 'fallback' }> {
  try {
    const text = await run(process.execPath, [OSLS, 'print', '--stage', STAGE, '--format', 'json'], {
      env: PACKAGE_ENV,
    });
    const config = JSON.parse(text.slice(text.indexOf('{'))) as {
      custom?: { esbuild?: Record<string, unknown> };
      provider?: { environment?: Record<string, unknown>; memorySize?: number; timeout?: number };
      functions?: Record<string, Partial<FunctionShape> & { environment?: Record<string, unknown> }>;
    };
    const providerEnv = config.provider?.environment ?? {};
    const functions = Object.entries(config.functions ?? {}).map(([name, fn]) => ({
      name,
      handler: String(fn.handler),
      memorySize: Number(fn.memorySize ?? config.provider?.memorySize ?? 1024),
      timeout: Number(fn.timeout ?? config.provider?.timeout ?? 6),
      environment: { ...providerEnv, ...fn.environment },
    }));
    return { esbuild: config.custom?.esbuild ?? FALLBACK_ESBUILD, functions, source: 'serverless.yml' };
  } catch {
    return { esbuild: FALLBACK_ESBUILD, functions: [], source: 'fallback' };
  }
}

const PLUGIN_ONLY_OPTIONS = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
]);

/** serverless-esbuild's settings turned into esbuild options, the way the plugin does it. */
export function esbuildOptions(settings: Record<string, unknown>): BuildOptions {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings))
    if (!PLUGIN_ONLY_OPTIONS.has(key)) options[key] = value;
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((v) => typeof v === 'string') : [];
  const exclude = strings(settings.exclude);
  options.external = [...strings(settings.external), ...(exclude.includes('*') ? [] : exclude)];
  const extension = typeof settings.outputFileExtension === 'string' ? settings.outputFileExtension : '.js';
  if (extension !== '.js') options.outExtension = { '.js': extension };
  return options as BuildOptions;
}

/** Bundles `entry` (a path or `{ contents }`) into `outfile` with the service's esbuild options. */
export async function bundle(
  settings: Record<string, unknown>,
  entry: string | { contents: string },
  outfile: string,
  extra: BuildOptions = {},
): Promise<{ bytes: number; metafile?: import('esbuild').Metafile }> {
  const { outExtension: _ignored, ...options } = esbuildOptions(settings);
  // Code splitting needs an output folder: name the entry after `outfile` and put it beside it.
  const splitting = (extra.splitting ?? options.splitting) === true;
  const extension = extname(outfile);
  const target: BuildOptions = splitting
    ? {
        outdir: dirname(outfile),
        entryNames: basename(outfile, extension),
        outExtension: { '.js': extension },
      }
    : { outfile };
  const result = await build({
    ...options,
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: ROOT, sourcefile: 'floor.ts', loader: 'ts' } }),
    ...target,
    logLevel: 'error',
    ...extra,
  });
  const bytes = (await readFile(outfile)).length;
  return { bytes, ...(result.metafile && { metafile: result.metafile }) };
}

/**
 * `osls package` into `dir`, then each function's zip unpacked into `dir/<function>/`.
 * Returns, per function, the path of the handler's module and the zip's size.
 */
export async function packageService(
  dir: string,
  functions: readonly FunctionShape[],
): Promise<Map<string, { module: string; zipBytes: number }>> {
  await run(process.execPath, [OSLS, 'package', '--stage', STAGE, '--package', dir], { env: PACKAGE_ENV });
  const bundles = new Map<string, { module: string; zipBytes: number }>();
  for (const fn of functions) {
    const zip = await readFile(join(dir, `${fn.name}.zip`));
    const target = join(dir, fn.name);
    for (const entry of unzip(zip)) {
      const path = join(target, entry.name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, entry.data);
    }
    const file = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
    bundles.set(fn.name, { module: join(target, `${file}.mjs`), zipBytes: zip.length });
  }
  return bundles;
}

/** The files of a (non-ZIP64) zip archive: enough for what serverless packages. */
export function unzip(zip: Buffer): { name: string; data: Buffer }[] {
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end -= 1;
  if (end < 0) throw new Error('not a zip archive');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad zip central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (name.startsWith('/') || name.split('/').includes('..'))
      throw new Error(`zip entry ${name}: unsafe path`);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + compressed);
    if (method !== 0 && method !== 8) throw new Error(`zip entry ${name}: unsupported method ${method}`);
    files.push({ name, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
  }
  return files;
}
