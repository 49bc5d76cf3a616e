/** Fresh Node processes for measurements that must not share a heap (peak RSS, cold imports). */
import { spawn } from 'node:child_process';

/** A child that talks in JSON lines: `next()` awaits its next line, `send()` writes one to it. */
export interface JsonChild<T> {
  next(): Promise<T>;
  send(message: unknown): void;
  /** Resolves when the child exits 0; rejects with its stderr's tail otherwise. */
  exited: Promise<void>;
}

/** Starts `node <nodeArgs>` with `env` replacing (not extending) the environment when `cleanEnv`. */
export function startJsonChild<T>(
  nodeArgs: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cleanEnv?: boolean } = {},
): JsonChild<T> {
  const child = spawn(process.execPath, nodeArgs, {
    env: options.cleanEnv ? { PATH: process.env.PATH, ...options.env } : { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let buffered = '';
  let stderr = '';
  let failure: Error | undefined;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (data: string) => {
    buffered += data;
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[child stdout] ${line.slice(0, 300)}\n`);
      if (!line.startsWith('{')) continue;
      const waiter = waiting.shift();
      if (waiter) waiter.resolve(line);
      else lines.push(line);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (data: string) => {
    if (process.env.BENCH_VERBOSE) process.stderr.write(data);
    stderr = (stderr + data).slice(-4000);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve();
      } else {
        failure = new Error(
          `child exited ${code ?? signal}: ${stderr.trim().split('\n').slice(-8).join('\n')}`,
        );
        reject(failure);
      }
      for (const waiter of waiting.splice(0)) waiter.reject(failure ?? new Error('child exited early'));
    });
  });
  exited.catch(() => {});
  return {
    next: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(JSON.parse(line) as T);
      if (failure || child.exitCode !== null) return Promise.reject(failure ?? new Error('child exited'));
      return new Promise<string>((resolve, reject) => waiting.push({ resolve, reject })).then(
        (text) => JSON.parse(text) as T,
      );
    },
    send: (message) => {
      child.stdin.write(`${JSON.stringify(message)}\n`);
    },
    exited,
  };
}

/** Runs a child to its end and returns its last JSON line. */
export async function runJsonChild<T>(
  nodeArgs: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cleanEnv?: boolean } = {},
): Promise<T> {
  const child = startJsonChild<T>(nodeArgs, options);
  const result = await child.next();
  await child.exited;
  return result;
}

/**
 * V8 heap flags the Lambda Node.js bootstrap derives from the function's memory size
 * (new space = memory / 10, half of it per semi-space, old space = the rest), so a child
 * gets the heap limits of the function it stands in for.
 */
export function lambdaHeapFlags(memorySizeMiB: number): string[] {
  const newSpace = Math.floor(memorySizeMiB / 10);
  return [
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memorySizeMiB - newSpace}`,
  ];
}
