/**
 * The real enrichCall handler on the local stack, given 4 seconds (as Lambda would with a
 * 4-second timeout) for a call whose recording host trickles its bytes. The download must fail
 * as RecordingDownloadError before the deadline, and once the handler has settled nothing it
 * started may go on: no S3 or DynamoDB request and no recording bytes afterwards, counted at the
 * wire (proxies in front of s3rver and dynalite, the simulator's own log).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';
import { type CountingProxy, startCountingProxy } from '../support/counting-proxy.ts';
import { rejectionOf } from '../support/errors.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<EnrichmentResult>;

const TIMEOUT_MS = 4_000;
const SAMPLES = sampleCalls(Date.now());
/** The sample call with recordings (one of them over 5 MiB). */
const WITH_RECORDINGS = SAMPLES.find((call) => (call.recordings?.length ?? 0) > 0);

let stack: LocalStack;
let dynamo: CountingProxy;
let s3: CountingProxy;
let handler: Handler;
let output: OutputCapture;

const total = (proxy: CountingProxy) => [...proxy.counts.values()].reduce((sum, n) => sum + n, 0);

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: SAMPLES } });
  dynamo = await startCountingProxy(stack.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  s3 = await startCountingProxy(stack.env.AWS_ENDPOINT_URL_S3 as string);
  stack.applyEnv();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  handler = await importHandler<Handler>('functions/enrich-call.ts');
});

afterAll(async () => {
  output?.stop();
  await dynamo?.close();
  await s3?.close();
  await stack?.close();
});

describe('enrichCall within its time', () => {
  it('fails a slow download as RecordingDownloadError before the deadline, and leaves nothing running', async () => {
    const sessionId = WITH_RECORDINGS?.raw.sessionId as string;
    // 50 KB/s: the 6 MiB recording would take two minutes.
    stack.simulator?.configureRecordingHost({ bytesPerSecond: 50_000 });
    stack.simulator?.resetRequests();
    const started = Date.now();

    const error = await rejectionOf(handler({ sessionId }, lambdaContext('enrichCall', TIMEOUT_MS)));
    const settled = Date.now();
    const aws = { dynamo: total(dynamo), s3: total(s3) };
    // The host may hand one more paced slice to the socket before it sees the client close it.
    await sleep(250);
    const bytes = stack.simulator?.bytesServed() ?? 0;

    expect(error.name).toBe('RecordingDownloadError');
    expect(settled - started).toBeLessThan(TIMEOUT_MS);
    expect(bytes).toBeGreaterThan(0);
    // Past the moment the invocation would have ended, and then some: nothing more at the wire.
    await sleep(started + TIMEOUT_MS + 1_000 - Date.now());
    expect({ dynamo: total(dynamo), s3: total(s3) }).toEqual(aws);
    expect(stack.simulator?.bytesServed()).toBe(bytes);
    expect(output.text()).not.toContain('TimeoutError');
  });
});
