/**
 * The real enrichCall and enrich (queue consumer) handlers on the local stack, given 4 seconds
 * (as Lambda would with a 4-second timeout) for a call whose recording host trickles its bytes.
 * The download must fail as RecordingDownloadError before the deadline, and once the handler has
 * settled nothing it started may go on: no S3 or DynamoDB request and no recording bytes
 * afterwards, counted at the wire (proxies in front of s3rver and dynalite, the simulator's log).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';
import { type CountingProxy, startCountingProxy } from '../support/counting-proxy.ts';
import { sqsEvent } from '../support/fifo-queues.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<EnrichmentResult>;
type Consumer = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

const TIMEOUT_MS = 4_000;
const SAMPLES = sampleCalls(Date.now());
/** The sample call with recordings (one of them over 5 MiB). */
const WITH_RECORDINGS = SAMPLES.find((call) => (call.recordings?.length ?? 0) > 0);

let stack: LocalStack;
let dynamo: CountingProxy;
let s3: CountingProxy;
let handler: Handler;
let consumer: Consumer;
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
  // The consumer sends only permanent failures there; this test has none.
  process.env.ENRICH_DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/unused-dlq.fifo';
  handler = await importHandler<Handler>('functions/enrich-call.ts');
  consumer = await importHandler<Consumer>('functions/queue-consumer.ts', { fresh: false });
});

/** One enrichment message for `sessionId`, as the event source mapping delivers it. */
const enrichmentEvent = (sessionId: string) =>
  sqsEvent(JSON.stringify({ sessionId, trigger: 'call_ended', eventKey: 'k' }), 'g', 'enrich.fifo');

/** Runs `invoke` against the trickling host; returns its outcome and what the wire saw after it. */
async function slowRun<T>(invoke: () => Promise<T>) {
  // 50 KB/s: the 6 MiB recording would take two minutes.
  stack.simulator?.configureRecordingHost({ bytesPerSecond: 50_000 });
  stack.simulator?.resetRequests();
  const started = Date.now();
  const outcome = await invoke().then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error: error as Error }),
  );
  const settledAfterMs = Date.now() - started;
  const aws = { dynamo: total(dynamo), s3: total(s3) };
  // The host may hand one more paced slice to the socket before it sees the client close it.
  await sleep(250);
  const bytes = stack.simulator?.bytesServed() ?? 0;
  // Past the moment the invocation would have ended, and then some.
  await sleep(started + TIMEOUT_MS + 1_000 - Date.now());
  return {
    ...outcome,
    settledAfterMs,
    bytes,
    before: { ...aws, bytes },
    after: { dynamo: total(dynamo), s3: total(s3), bytes: stack.simulator?.bytesServed() ?? 0 },
  };
}

afterAll(async () => {
  output?.stop();
  await dynamo?.close();
  await s3?.close();
  await stack?.close();
});

describe('handlers within their time', () => {
  const sessionId = WITH_RECORDINGS?.raw.sessionId as string;

  it('enrichCall fails a slow download as RecordingDownloadError before the deadline, and leaves nothing running', async () => {
    const run = await slowRun(() => handler({ sessionId }, lambdaContext('enrichCall', TIMEOUT_MS)));

    expect(run.error?.name).toBe('RecordingDownloadError');
    expect(run.settledAfterMs).toBeLessThan(TIMEOUT_MS);
    expect(run.bytes).toBeGreaterThan(0);
    expect(run.after).toEqual(run.before);
  });

  it('the queue consumer reports the message for a retry before the deadline, and leaves nothing running', async () => {
    const event = enrichmentEvent(sessionId);
    const messageId = event.Records[0]?.messageId as string;
    const run = await slowRun(() => consumer(event, lambdaContext('enrich', TIMEOUT_MS)));

    expect(run.error).toBeUndefined();
    expect(run.value).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(run.settledAfterMs).toBeLessThan(TIMEOUT_MS);
    expect(run.bytes).toBeGreaterThan(0);
    expect(run.after).toEqual(run.before);
  });
});
