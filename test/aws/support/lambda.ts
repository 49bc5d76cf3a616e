/**
 * The packaged handlers run as Lambda runs them: each function's unzipped bundle imported in a
 * worker thread of its own, with only the environment the deployed function has (read back from
 * moto's Lambda, so every !Ref is resolved against the stack) plus what points the SDK at moto and
 * the CometChat simulator. Nothing from the test process's environment leaks in, so the SDK's
 * checksum settings are its defaults.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { MOTO_REGION, motoCredentials } from './stack.ts';

/** A function's handler, loaded and ready for invocations. */
export interface DeployedFunction {
  /** The environment it was started with. */
  readonly env: Readonly<Record<string, string>>;
  /** Invokes the handler; rejects with an Error carrying the thrown error's name and message. */
  invoke<T = unknown>(event: unknown): Promise<T>;
  /** The lines it wrote to stdout (its JSON logs and EMF metrics). */
  readonly output: string[];
  stop(): Promise<void>;
}

/** How a function is started: the stack's name for it and the overrides for the local world. */
export interface StartFunctionOptions {
  motoEndpoint: string;
  /** The function's physical name (`cometchat-call-archive-awstest-enrich`). */
  functionName: string;
  /** Where its zip was unpacked. */
  folder: string;
  /** Added to (and overriding) the deployed environment. */
  env?: Record<string, string>;
}

/** Starts a function's "container": reads its deployed configuration from moto and imports the bundle. */
export async function startFunction(options: StartFunctionOptions): Promise<DeployedFunction> {
  const lambda = new LambdaClient({
    endpoint: options.motoEndpoint,
    region: MOTO_REGION,
    credentials: motoCredentials(),
  });
  const configuration = await lambda
    .send(new GetFunctionConfigurationCommand({ FunctionName: options.functionName }))
    .finally(() => lambda.destroy());
  const handler = configuration.Handler ?? '';
  const file = handler.slice(0, handler.lastIndexOf('.'));
  const env: Record<string, string> = {
    // What Lambda's runtime sets.
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(configuration.MemorySize ?? 128),
    AWS_ACCESS_KEY_ID: motoCredentials().accessKeyId,
    AWS_SECRET_ACCESS_KEY: motoCredentials().secretAccessKey,
    TZ: 'UTC',
    PATH: process.env.PATH ?? '',
    ...configuration.Environment?.Variables,
    AWS_ENDPOINT_URL: options.motoEndpoint,
    ...options.env,
  };
  const worker = new Worker(new URL('./lambda-worker.mjs', import.meta.url), {
    env,
    stdout: true,
    workerData: {
      module: join(options.folder, `${file}.mjs`),
      exportName: handler.slice(handler.lastIndexOf('.') + 1),
      functionName: options.functionName,
      timeoutMs: (configuration.Timeout ?? 3) * 1000,
      memoryMb: configuration.MemorySize ?? 128,
    },
  });
  const output: string[] = [];
  let partial = '';
  worker.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    output.push(...lines);
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on(
      'message',
      (message: {
        ready?: true;
        id?: number;
        result?: unknown;
        error?: { name: string; message: string };
      }) => {
        if (message.ready) {
          worker.off('error', reject);
          return resolve();
        }
        const waiter = pending.get(message.id ?? -1);
        if (!waiter) return;
        pending.delete(message.id ?? -1);
        if (message.error) {
          const error = new Error(message.error.message);
          error.name = message.error.name;
          waiter.reject(error);
        } else waiter.resolve(message.result);
      },
    );
  });
  worker.on('error', (error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });
  return {
    env,
    output,
    invoke<T>(event: unknown): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        worker.postMessage({ id, event });
      });
    },
    async stop() {
      await worker.terminate();
    },
  };
}
