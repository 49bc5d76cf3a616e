/**
 * The self-describing archive (issue 12) on the local stack: dynalite, s3rver and the CometChat
 * simulator over HTTP, driven through the real `enrichCall` handler.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';
import type { SimulatedCall } from '../../dev/simulator/index.ts';
import type { CallItem } from '../../lib/calls/types.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';
import { callItems } from '../support/dynamodb.ts';
import { rejectionOf } from '../support/errors.ts';
import { importHandler } from '../support/handlers.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';
import { storedDigest } from '../support/s3.ts';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<EnrichmentResult>;

// 2024-02-29T10:00:00Z
const INITIATED_AT = 1_709_200_800;
let stack: LocalStack;
let documents: DynamoDBDocumentClient;
let output: OutputCapture;
let sequence = 0;

/**
 * Serves an ended call with `recordings` small recordings (`rec-<n>-<i>`), under a session id no
 * other test uses unless `sessionId` names one to replace; returns the session id.
 */
function addCall(
  options: { recordings?: number; raw?: Record<string, unknown>; sessionId?: string } = {},
): string {
  if (options.sessionId === undefined) sequence += 1;
  const sessionId = options.sessionId ?? `v1.us.archive-test.${INITIATED_AT}.${sequence}`;
  const n = sessionId.slice(sessionId.lastIndexOf('.') + 1);
  const call: SimulatedCall = {
    raw: {
      sessionId,
      type: 'video',
      mode: 'meet',
      status: 'ended',
      receiverType: 'group',
      initiator: 'uid-1',
      receiver: 'group-1',
      initiatedAt: INITIATED_AT,
      startedAt: INITIATED_AT + 5,
      endedAt: INITIATED_AT + 305,
      hasRecording: (options.recordings ?? 0) > 0,
      participants: [
        { uid: 'uid-1', name: 'One', isJoined: true, joinedAt: INITIATED_AT + 5, leftAt: INITIATED_AT + 305 },
        { uid: 'uid-2', name: 'Two', isJoined: true, joinedAt: INITIATED_AT + 6, leftAt: INITIATED_AT + 300 },
      ],
      ...options.raw,
    },
    recordings: Array.from({ length: options.recordings ?? 0 }, (_, i) => ({
      rid: `rec-${n}-${i}`,
      bytes: 2048 + i,
    })),
  };
  stack.simulator?.addCall(call);
  return sessionId;
}

/** The enrichCall handler, imported afresh (a cold start) with `env` over the stack's environment. */
async function loadHandler(env: Record<string, string> = {}): Promise<Handler> {
  stack.applyEnv();
  delete process.env.ARCHIVE_KEY_TEMPLATE;
  delete process.env.EVENT_BUS_NAME;
  Object.assign(process.env, env);
  return importHandler<Handler>('functions/enrich-call.ts');
}

const invoke = (handler: Handler, sessionId: string) => handler({ sessionId }, lambdaContext('enrichCall'));

async function callItem(sessionId: string): Promise<CallItem> {
  const items = await callItems(documents, stack.tableName, sessionId);
  const call = items.find((item) => item.sk === 'CALL');
  if (!call) throw new Error(`no call item for ${sessionId}`);
  return call as unknown as CallItem;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await stack.clients.s3.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((object) => object.Key as string).sort();
}

beforeAll(async () => {
  output = captureOutput();
  stack = await startLocalStack({ simulator: { calls: [] } });
  documents = DynamoDBDocumentClient.from(stack.clients.dynamodb);
});

afterAll(async () => {
  output?.stop();
  await stack?.close();
});

describe('ARCHIVE_KEY_TEMPLATE', () => {
  it('puts every file of a call in the folder the template names, by the UTC day it was initiated', async () => {
    const handler = await loadHandler({ ARCHIVE_KEY_TEMPLATE: '{appId}/{yyyy}/{mm}/{dd}/{sessionId}' });
    const sessionId = addCall({ recordings: 2 });

    const result = await invoke(handler, sessionId);

    const folder = `recordings/${stack.simulator?.appId}/2024/02/29/${sessionId}/`;
    expect(result.recordings.map((r) => r.key)).toEqual([
      `${folder}rec-${sequence}-0.mp4`,
      `${folder}rec-${sequence}-1.mp4`,
    ]);
    const stored = await keysUnder(folder);
    for (const recording of result.recordings) {
      expect(stored).toContain(recording.key);
      expect(await storedDigest(stack.clients.s3, stack.bucket, recording.key)).toEqual({
        bytes: recording.bytes,
        sha256: recording.sha256,
      });
    }
    expect(await keysUnder(`recordings/${sessionId}/`)).toEqual([]);
    expect((await callItem(sessionId)).recordings.map((r) => r.key)).toEqual(
      result.recordings.map((r) => r.key),
    );
  });

  it.each([
    ['without {sessionId}', '{yyyy}/{mm}'],
    ['with an unknown placeholder', '{yyyy}/{hh}/{sessionId}'],
    ['with a parent segment', '../{sessionId}'],
    ['too long for S3 keys', `${'x'.repeat(800)}/{sessionId}`],
  ])('is refused at start-up %s, naming the variable', async (_, template) => {
    const error = await rejectionOf(loadHandler({ ARCHIVE_KEY_TEMPLATE: template }));

    expect(error).toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/ARCHIVE_KEY_TEMPLATE/),
    });
  });
});
