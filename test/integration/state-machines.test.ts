/**
 * Both state machines executed by aws-local-stepfunctions, their EnrichCall Task bound to the
 * real enrichCall handler on dynalite + s3rver + the CometChat simulator. Retry pauses are
 * overridden to 0 ms (the library's retryIntervalOverrides), so no test waits out a back-off;
 * which retrier matched, and how often, is read from the execution's event log.
 *
 * The library has no ItemReader, ResultWriter or failure tolerance: the backfill runs as an
 * inline Map over the manifest the test reads from s3rver (test/support/state-machines.ts).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';
import { callItems } from '../support/dynamodb.ts';
import { importHandler } from '../support/handlers.ts';
import {
  inlineDistributedMap,
  lambdaInvokeTask,
  loadDefinition,
  readItems,
  substitute,
} from '../support/state-machines.ts';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<EnrichmentResult>;
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:cometchat-call-archive-test-enrichCall';
const SAMPLES = sampleCalls(Date.now());
const sessionOf = (index: number) => SAMPLES[index]?.raw.sessionId as string;
const AUDIO = sessionOf(0);
const GROUP = sessionOf(2);
const UNKNOWN = 'v1.us.unknown.0000';

let stack: LocalStack;
let handler: Handler;
let documents: DynamoDBDocumentClient;
let substitutions: Record<string, string>;

/** Runs `definition` with EnrichCall bound to the real handler; never rejects. */
async function execute(definition: StateMachineDefinition, input: Record<string, unknown>) {
  const options: RunOptions = {
    overrides: {
      taskResourceLocalHandlers: {
        EnrichCall: lambdaInvokeTask(FUNCTION_ARN, (event) => handler(event, lambdaContext('enrichCall'))),
      },
      retryIntervalOverrides: { EnrichCall: 0 },
    },
  };
  const execution = new StateMachine(definition).run(input as never, options);
  const events: EventLog[] = [];
  const collected = (async () => {
    for await (const event of execution.eventLogs) events.push(event);
  })();
  let output: unknown;
  let error: Error | undefined;
  try {
    output = await execution.result;
  } catch (caught) {
    // The library wraps the state's error in an ExecutionError; the cause is what the handler threw.
    error = (caught as Error).cause as Error;
  }
  await collected;
  return { output, error, events };
}

const enrichCallMachine = () => substitute(loadDefinition('enrich-call'), substitutions);

/** The ErrorEquals of each retrier that fired, in order. */
const retriesOf = (events: EventLog[]) =>
  events.flatMap((e) => (e.type === 'StateRetried' ? [e.retry.retrier.ErrorEquals] : []));

const getCallStatuses = (sessionId: string) =>
  stack.simulator?.requests
    .filter((r) => r.kind === 'get-call' && r.path.endsWith(encodeURIComponent(sessionId)))
    .map((r) => r.status);

/** A copy of sample `index` under a session id of its own, so each test starts from nothing. */
function addCopyOf(index: number, suffix: string) {
  const call = structuredClone(SAMPLES[index]);
  if (!call) throw new Error('sample missing');
  const sessionId = `${call.raw.sessionId as string}-${suffix}`;
  call.raw.sessionId = sessionId;
  stack.simulator?.addCall(call);
  return { sessionId, call };
}

async function storedCall(sessionId: string) {
  return (await callItems(documents, stack.tableName, sessionId)).find((item) => item.sk === 'CALL');
}

beforeAll(async () => {
  stack = await startLocalStack({ simulator: { calls: SAMPLES } });
  stack.applyEnv();
  handler = await importHandler<Handler>('functions/enrich-call.ts');
  documents = DynamoDBDocumentClient.from(stack.clients.dynamodb);
  substitutions = { EnrichCallFunctionArn: FUNCTION_ARN, RecordingsBucketName: stack.bucket };
});

afterAll(async () => {
  await stack?.close();
});

describe('enrich-call state machine', () => {
  it('returns the EnrichmentResult and stores the call', async () => {
    const { output, error, events } = await execute(enrichCallMachine(), { sessionId: AUDIO });

    expect(error).toBeUndefined();
    expect(output).toEqual({
      sessionId: AUDIO,
      status: 'ended',
      participants: 2,
      recordings: [],
      transcripts: [],
    });
    expect(await storedCall(AUDIO)).toMatchObject({ sessionId: AUDIO, status: 'ended' });
    expect(retriesOf(events)).toEqual([]);
  });

  it.each([
    [503, 'CometChatUnavailableError'],
    [429, 'CometChatRateLimitError'],
  ])(
    'retries when CometChat answers %i past the client’s own retries (%s), then succeeds',
    async (status, name) => {
      const { sessionId } = addCopyOf(0, `retry-${status}`);
      // Four failures use up the client's four attempts: the handler throws, the state machine retries.
      stack.simulator?.failNext(
        { sessionId },
        ...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status })),
      );

      const { output, error, events } = await execute(enrichCallMachine(), { sessionId });

      expect(error).toBeUndefined();
      expect(output).toMatchObject({ sessionId, status: 'ended' });
      expect(retriesOf(events)).toEqual([expect.arrayContaining([name])]);
      expect(getCallStatuses(sessionId)).toEqual([status, status, status, status, 200]);
    },
  );

  it('succeeds with skipped: true when CometChat does not know the session', async () => {
    const { output, error, events } = await execute(enrichCallMachine(), { sessionId: UNKNOWN });

    expect(error).toBeUndefined();
    expect(output).toEqual({ sessionId: UNKNOWN, skipped: true, reason: 'CallNotFoundError' });
    expect(events.filter((e) => e.type === 'StateCaught')).toHaveLength(1);
    expect(retriesOf(events)).toEqual([]);
    expect(await storedCall(UNKNOWN)).toBeUndefined();
  });

  it('fails at once with RecordingRejectedError when a recording URL breaks the policy', async () => {
    const sessionId = 'v1.us.policy.state-machine';
    stack.simulator?.addCall({
      raw: {
        ...(SAMPLES[0]?.raw ?? {}),
        sessionId,
        hasRecording: true,
        recordings: [
          { rid: 'rec-evil', recording_url: 'https://evil.example.com/r.mp4', startTime: 1, endTime: 2 },
        ],
      },
    });

    const { output, error, events } = await execute(enrichCallMachine(), { sessionId });

    expect(output).toBeUndefined();
    expect(error?.name).toBe('RecordingRejectedError');
    expect(retriesOf(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionFailed', Error: 'RecordingRejectedError' });
    expect(await storedCall(sessionId)).toBeUndefined();
  });

  it('fails with InvalidInputError, sending nothing to CometChat, when the input has no sessionId', async () => {
    stack.simulator?.resetRequests();

    const { error, events } = await execute(enrichCallMachine(), { session: AUDIO });

    expect(error?.name).toBe('InvalidInputError');
    expect(retriesOf(events)).toEqual([]);
    expect(stack.simulator?.requests).toEqual([]);
  });

  it('gives up with RecordingDownloadError once its four retries are spent', async () => {
    const { sessionId, call } = addCopyOf(2, 'download-fails');
    const rid = call.recordings?.[0]?.rid as string;
    stack.simulator?.failNextRecording(
      rid,
      ...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 500 })),
    );

    const { error, events } = await execute(enrichCallMachine(), { sessionId });

    expect(error?.name).toBe('RecordingDownloadError');
    expect(retriesOf(events)).toEqual(
      Array.from({ length: 4 }, () => [
        'CometChatUnavailableError',
        'RecordingDownloadError',
        'StorageError',
      ]),
    );
    expect(await storedCall(sessionId)).toBeUndefined();
  });
});

describe('backfill state machine (its Distributed Map run inline)', () => {
  it('enriches every manifest line, skipping sessions CometChat does not know', async () => {
    const { definition, itemReader } = inlineDistributedMap(
      substitute(loadDefinition('backfill'), substitutions),
      'EnrichEach',
    );
    const { sessionId: retried } = addCopyOf(0, 'backfill-retry');
    stack.simulator?.failNext(
      { sessionId: retried },
      ...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })),
    );
    const manifestKey = 'backfill/manifests/state-machine-test.jsonl';
    const lines = [GROUP, UNKNOWN, retried].map((sessionId) =>
      JSON.stringify({ sessionId, trigger: 'backfill' }),
    );
    await stack.clients.s3.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: manifestKey, Body: `${lines.join('\n')}\n` }),
    );
    const input = { manifestKey };

    const items = await readItems(itemReader, input, stack.clients.s3);
    const { output, error, events } = await execute(definition, { ...input, items });

    expect(error).toBeUndefined();
    expect(items).toHaveLength(3);
    const results = output as Record<string, unknown>[];
    expect(results.map((r) => r.sessionId)).toEqual([GROUP, UNKNOWN, retried]);
    expect(results[0]).toMatchObject({ status: 'ended', participants: expect.any(Number) });
    expect(results[0]?.recordings).toHaveLength(2);
    expect(results[1]).toEqual({ sessionId: UNKNOWN, skipped: true, reason: 'CallNotFoundError' });
    expect(results[2]).toMatchObject({ sessionId: retried, status: 'ended' });
    expect(retriesOf(events)).toEqual([
      ['CometChatUnavailableError', 'RecordingDownloadError', 'StorageError'],
    ]);
    expect((await storedCall(GROUP))?.recordings).toHaveLength(2);
  });
});
