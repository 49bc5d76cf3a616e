/** A Lambda `Context` shaped like the real one, for calling the handlers outside Lambda. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** The account the local stack pretends to be, as in the local queues' ARNs. */
const LOCAL_ACCOUNT = '000000000000';

/** A context whose remaining time counts down from `timeoutMs`, as Lambda's does from the function timeout. */
export function lambdaContext(functionName: string, timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
