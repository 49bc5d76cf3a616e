/**
 * The EventBridge sink against a real HTTP server on 127.0.0.1 speaking PutEvents' JSON protocol
 * (awsJson1_1), through the real SDK client: what goes over the wire, and what a refusal becomes.
 */
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../../lib/errors.ts';
import { publishCallArchived, publishCallArchiveFailed } from '../../../lib/events/archive-events.ts';
import { createEventBridgeSink } from '../../../lib/events/eventbridge-sink.ts';
import { fullCallItem, SIGNED_URL } from '../../support/call-items.ts';
import {
  awsJson,
  type ScriptedServer,
  type Step,
  startScriptedServer,
} from '../../support/scripted-server.ts';

type PutEventsBody = {
  Entries: { EventBusName: string; Source: string; DetailType: string; Detail: string }[];
};

let server: ScriptedServer;
let bodies: PutEventsBody[];

/** Records the request body, then answers `status` with `body` as PutEvents would. */
function putEvents(status: number, body: unknown, headers: Record<string, string> = {}): Step {
  return awsJson(status, body, (text) => bodies.push(JSON.parse(text) as PutEventsBody), headers);
}

const accepted = putEvents(200, { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });

function sink() {
  const client = new EventBridgeClient({
    endpoint: server.origin,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  return createEventBridgeSink({ busName: 'archive-events', client });
}

beforeEach(async () => {
  server = await startScriptedServer();
  bodies = [];
});

afterEach(async () => {
  await server.close();
});

describe('createEventBridgeSink', () => {
  it('sends CallArchived to the bus with the contract source, detail-type and detail', async () => {
    server.script(accepted);
    const call = fullCallItem();

    await publishCallArchived(sink(), call, { bucket: 'archive-bucket' });

    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    const entry = bodies[0]?.Entries[0];
    expect(bodies[0]?.Entries).toHaveLength(1);
    expect(entry).toMatchObject({
      EventBusName: 'archive-events',
      Source: 'cometchat-call-archive',
      DetailType: 'CallArchived',
    });
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({
      sessionId: call.sessionId,
      status: 'ended',
      initiatedAt: 1_764_500_000,
      participants: 2,
      manifest: { bucket: 'archive-bucket', key: call.manifestKey },
    });
  });

  it('puts no signed URL on the wire, even for an error message holding one', async () => {
    server.script(accepted);

    await publishCallArchived(sink(), fullCallItem(), { bucket: 'archive-bucket' });
    await publishCallArchiveFailed(sink(), { sessionId: 's1', error: new Error(`GET ${SIGNED_URL} 403`) });

    expect(bodies).toHaveLength(2);
    expect(JSON.stringify(bodies)).not.toMatch(/X-Amz-Signature|X-Amz-Algorithm|avatar|sourceUrl/);
    expect(JSON.parse(bodies[1]?.Entries[0]?.Detail ?? '{}')).toEqual({
      sessionId: 's1',
      errorName: 'Error',
      errorMessage: 'GET https://recordings.cometchat.io/app/rec-1.mp4?[redacted] 403',
    });
  });

  it('fails with StorageError when EventBridge refuses an entry, its error code as the cause', async () => {
    server.script(
      putEvents(200, {
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      }),
    );

    const error = await publishCallArchived(sink(), fullCallItem(), { bucket: 'archive-bucket' }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toBe('EventBridge did not take 1 of 1 events');
    expect((error as Error).cause).toMatchObject({ name: 'InternalFailure', message: 'try again' });
  });

  it('fails with StorageError when the request itself fails, the service error as the cause', async () => {
    server.script(
      putEvents(
        400,
        { __type: 'ResourceNotFoundException', message: 'Event bus archive-events does not exist.' },
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      ),
    );

    const error = await publishCallArchiveFailed(sink(), { sessionId: 's1', error: new Error('x') }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('stops at once when the invocation is aborted, as a StorageError', async () => {
    server.script(() => {});
    const controller = new AbortController();

    const pending = publishCallArchived(sink(), fullCallItem(), {
      bucket: 'archive-bucket',
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await new Promise<void>((resolve) => {
      const wait = () => (server.requests.length > 0 ? resolve() : setImmediate(wait));
      wait();
    });
    controller.abort();

    expect(await pending).toBeInstanceOf(StorageError);
  });
});

describe('the EventBridge SDK', () => {
  it('is bundled into a chunk of its own, loaded only on the first send', async () => {
    const root = join(import.meta.dirname, '..', '..', '..');
    const result = await build({
      stdin: {
        contents: "export { createEventBridgeSink } from './lib/events/eventbridge-sink.ts';",
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      outdir: join(root, '.esbuild-test-out'),
      write: false,
      logLevel: 'silent',
    });
    const entry = result.outputFiles.find((f) => f.path.endsWith('stdin.js'));
    const chunks = result.outputFiles.filter((f) => f !== entry);

    // The protocol's target prefix lives in the SDK's own code, never in ours.
    expect(entry?.text).not.toContain('AWSEvents');
    expect(chunks.some((c) => c.text.includes('AWSEvents'))).toBe(true);
  });
});
