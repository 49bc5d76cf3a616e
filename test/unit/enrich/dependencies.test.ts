import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { enrichDependenciesFromEnv } from '../../../lib/enrich/dependencies.ts';
import { ConfigError } from '../../../lib/errors.ts';
import { json, type ScriptedServer, startScriptedServer } from '../../support/scripted-server.ts';

const SESSION = 'v1.us.31780434a95d45.dependencies-test';

const ENV = {
  COMETCHAT_APP_ID: '31780434a95d45',
  COMETCHAT_REGION: 'us',
  COMETCHAT_API_KEY: 'literal-api-key',
  CALLS_TABLE: 'calls-table',
  RECORDINGS_BUCKET: 'call-recordings',
  RECORDING_ALLOWED_HOSTS: 'recordings.example.com',
} as const;

/** A document client that answers every command with an empty page, recording what it was sent. */
function stubDocumentClient() {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return { Items: [] };
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

function s3Factory() {
  return vi.fn(
    async () =>
      new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  );
}

describe('enrichDependenciesFromEnv', () => {
  let cometChat: ScriptedServer;

  beforeAll(async () => {
    cometChat = await startScriptedServer();
  });

  afterAll(async () => {
    await cometChat.close();
  });

  it.each(['COMETCHAT_APP_ID', 'COMETCHAT_REGION', 'CALLS_TABLE', 'RECORDINGS_BUCKET'])(
    'fails at once with a ConfigError naming %s when it is missing',
    (name) => {
      const env: Record<string, string | undefined> = { ...ENV, [name]: undefined };
      const s3 = s3Factory();

      expect(() => enrichDependenciesFromEnv(env, { dynamodb: stubDocumentClient().client, s3 })).toThrow(
        expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining(name) }),
      );
      expect(s3).not.toHaveBeenCalled();
    },
  );

  it('fails at once with a ConfigError naming the key variables when neither is set', () => {
    const env = { ...ENV, COMETCHAT_API_KEY: undefined };

    expect(() => enrichDependenciesFromEnv(env, { dynamodb: stubDocumentClient().client })).toThrow(
      ConfigError,
    );
    expect(() => enrichDependenciesFromEnv(env, { dynamodb: stubDocumentClient().client })).toThrow(
      /COMETCHAT_API_KEY or COMETCHAT_API_KEY_PARAMETER/,
    );
  });

  it('fails at once on a malformed recordings variable, before any recording arrives', () => {
    const env = { ...ENV, RECORDING_ALLOWED_HOSTS: 'https://not-a-host/' };

    expect(() => enrichDependenciesFromEnv(env, { dynamodb: stubDocumentClient().client })).toThrow(
      /RECORDING_ALLOWED_HOSTS/,
    );
  });

  it('creates no S3 client until recordings() is called, then exactly one, memoised', async () => {
    const s3 = s3Factory();
    const deps = enrichDependenciesFromEnv(ENV, { dynamodb: stubDocumentClient().client, s3 });

    expect(s3).not.toHaveBeenCalled();

    const first = deps.recordings();
    const second = deps.recordings();

    expect(second).toBe(first);
    expect(await first).toBe(await second);
    expect(await deps.recordings()).toBe(await first);
    expect(s3).toHaveBeenCalledTimes(1);
  });

  it('does not load the S3 SDK until recordings() is called', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    let s3Loads = 0;
    vi.resetModules();
    vi.doMock('@aws-sdk/client-s3', async (importOriginal) => {
      s3Loads += 1;
      return await importOriginal();
    });
    try {
      const fresh = await import('../../../lib/enrich/dependencies.ts');
      const deps = fresh.enrichDependenciesFromEnv(ENV, { dynamodb: stubDocumentClient().client });

      expect(s3Loads).toBe(0);

      await deps.recordings();

      expect(s3Loads).toBe(1);
    } finally {
      vi.doUnmock('@aws-sdk/client-s3');
      vi.resetModules();
    }
  });

  it('builds a copier that applies RECORDING_ALLOWED_HOSTS', async () => {
    const deps = enrichDependenciesFromEnv(ENV, { dynamodb: stubDocumentClient().client, s3: s3Factory() });
    const copier = await deps.recordings();

    const refused = copier.copy({
      sessionId: SESSION,
      source: {
        rid: 'r1',
        url: 'https://elsewhere.example.net/r1.mp4',
        sourceUrl: 'https://elsewhere.example.net/r1.mp4',
      },
    });

    // By name: another test re-imports the module graph, so the class may be a different copy.
    await expect(refused).rejects.toMatchObject({ name: 'RecordingRejectedError' });
  });

  it('wires the store to CALLS_TABLE', async () => {
    const { client, sent } = stubDocumentClient();
    const deps = enrichDependenciesFromEnv(ENV, { dynamodb: client });

    expect(await deps.store.load(SESSION)).toBeUndefined();

    expect(sent).toHaveLength(1);
    expect(sent[0]?.input).toMatchObject({ TableName: 'calls-table' });
  });

  it('wires CometChat to COMETCHAT_BASE_URL with the configured key', async () => {
    cometChat.script(json(200, { data: { sessionId: SESSION, status: 'ended' } }));
    const env = { ...ENV, COMETCHAT_BASE_URL: `${cometChat.origin}/v3/` };
    const deps = enrichDependenciesFromEnv(env, { dynamodb: stubDocumentClient().client });

    const raw = await deps.cometChat.getCall(SESSION);

    expect(raw).toMatchObject({ sessionId: SESSION, status: 'ended' });
    expect(cometChat.requests).toHaveLength(1);
    expect(cometChat.requests[0]?.url).toBe(`/v3/calls/${SESSION}`);
    expect(cometChat.requests[0]?.headers.apikey).toBe('literal-api-key');
  });
});
