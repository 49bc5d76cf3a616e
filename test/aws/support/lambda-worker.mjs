// One Lambda "container" per worker thread: the bundle is imported once with the worker's own
// environment (as Lambda does at init), then each message from the parent is one invocation.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { module, exportName, functionName, timeoutMs, memoryMb } = workerData;
const loaded = await import(pathToFileURL(module).href);
const handler = loaded[exportName];

function context() {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

parentPort.on('message', async ({ id, event }) => {
  try {
    const result = await handler(event, context());
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: { name: error?.name, message: error?.message } });
  }
});
parentPort.postMessage({ ready: true });
