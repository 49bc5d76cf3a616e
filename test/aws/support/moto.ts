/**
 * moto_server (moto's AWS in one process) on a free loopback port: `moto_server -p 0` lets the
 * OS pick the port, and the server prints it on its first line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/** A running moto_server. */
export interface Moto {
  /** `http://127.0.0.1:<port>`: every service on one endpoint. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto_server on 127.0.0.1; rejects (naming the command) when it is not installed. */
export async function startMoto(timeoutMs = 20_000): Promise<Moto> {
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => fail(new Error(`moto_server did not start in ${timeoutMs} ms: ${seen}`)),
      timeoutMs,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(error);
    };
    const read = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', read);
        child.stderr?.off('data', read);
        child.removeAllListeners('exit');
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('error', (error) =>
      fail(new Error('moto_server could not be started (is moto on PATH?)', { cause: error })),
    );
    child.once('exit', (code) => fail(new Error(`moto_server exited (${code}) before listening: ${seen}`)));
  });
  // Keep draining its request log so a full pipe never stalls it.
  child.stdout?.resume();
  child.stderr?.resume();
  return { endpoint, stop: () => stop(child) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
