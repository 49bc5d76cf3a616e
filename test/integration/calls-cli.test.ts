/**
 * `npm run calls`, run as a child process exactly as an operator runs it, each run with a data
 * folder of the suite's own (CALLS_DATA_DIR). "Real" CometChat is a simulator this suite starts
 * and hands over as COMETCHAT_* credentials; without them the tool starts its own simulator.
 * A deployed stage is a scripted HTTP server standing in for the Lambda Invoke API.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, localClients, startDynalite } from '../../dev/local-aws.ts';
import { simulatorEnv } from '../../dev/local-stack.ts';
import { type CometChatSimulator, startCometChatSimulator } from '../../dev/simulator/index.ts';
import { sampleCalls } from '../../dev/simulator/sample-calls.ts';
import { json, readBody, type ScriptedServer, startScriptedServer } from '../support/scripted-server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dev', 'calls-cli.ts');
const SAMPLES = sampleCalls(Date.UTC(2026, 0, 15, 12));
const AUDIO = SAMPLES[0]?.raw.sessionId as string;
const GROUP = SAMPLES[2]?.raw.sessionId as string;
const GROUP_RIDS = SAMPLES[2]?.recordings?.map((r) => r.rid) ?? [];
const UNKNOWN = 'v1.us.unknown.0000';

let dataDir: string;
let simulator: CometChatSimulator;
let lambda: ScriptedServer;
let scratch: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the tool; with no COMETCHAT_* settings (a developer's .env is masked) unless `env` has them. */
function calls(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        CALLS_DATA_DIR: dataDir,
        COMETCHAT_APP_ID: '',
        COMETCHAT_REGION: '',
        COMETCHAT_API_KEY: '',
        COMETCHAT_BASE_URL: '',
        RECORDING_ALLOWED_HOSTS: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The suite's simulator, handed to the tool as real CometChat credentials. */
const realCometChat = () => simulatorEnv(simulator);

/** A deployed stage whose Lambda Invoke API is the scripted server. */
const stage = () => ({
  AWS_ENDPOINT_URL_LAMBDA: lambda.origin,
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret-example',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
});

const bodyOf = async (req: IncomingMessage) => JSON.parse(await readBody(req)) as Record<string, unknown>;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'calls-cli-'));
  dataDir = join(scratch, 'data');
  simulator = await startCometChatSimulator({ calls: SAMPLES });
  lambda = await startScriptedServer();
});

afterAll(async () => {
  await lambda?.close();
  await simulator?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('calls CLI', () => {
  describe('help and usage', () => {
    it('prints the commands and exit codes for --help', async () => {
      const run = await calls(['--help']);

      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: npm run calls -- <command>/);
      for (const command of ['enrich', 'backfill', 'status', 'rebuild'])
        expect(run.stdout).toContain(`  ${command} `);
      expect(run.stdout).toContain('Exit codes:');
    });

    it.each(['enrich', 'backfill', 'status', 'rebuild'])(
      'prints its own help for %s --help',
      async (command) => {
        const run = await calls([command, '--help']);

        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^Usage: npm run calls -- ${command}`));
        expect(run.stdout).toContain('--stage <stage>');
      },
    );

    it.each([
      ['no command', [], 'a command is needed', 'npm run calls -- <command>'],
      ['an unknown command', ['frobnicate'], 'unknown command "frobnicate"', 'npm run calls -- <command>'],
      [
        'an unknown option',
        ['enrich', '--bogus', AUDIO],
        "Unknown option '--bogus'",
        'npm run calls -- enrich',
      ],
      ['enrich without ids', ['enrich'], 'at least one session id', 'npm run calls -- enrich'],
      ['status with two ids', ['status', AUDIO, GROUP], 'exactly one session id', 'npm run calls -- status'],
      [
        'a bad --from',
        ['backfill', '--from', 'yesterday'],
        'from must be an ISO-8601',
        'npm run calls -- backfill',
      ],
      [
        '--region alone',
        ['status', AUDIO, '--region', 'eu-west-1'],
        'only applies with --stage',
        'npm run calls -- status',
      ],
    ])('exits 2 with the help on stderr for %s', async (_label, args, message, help) => {
      const run = await calls(args);

      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain(`Usage: ${help}`);
    });
  });

  describe('against the local stack', () => {
    it('enriches two calls and lists them in the summary table', async () => {
      simulator.resetRequests();

      const run = await calls(['enrich', AUDIO, GROUP], realCometChat());

      expect(run.code).toBe(0);
      const lines = run.stdout.split('\n');
      expect(lines[0]).toMatch(/^sessionId\s+status\s+participants\s+recordings\s+transcripts\s+result$/);
      expect(lines.find((l) => l.startsWith(AUDIO))).toMatch(/\sended\s+2\s+0\s+0\s+ok$/);
      expect(lines.find((l) => l.startsWith(GROUP))).toMatch(
        /\sended\s+\d+\s+2 \(2 copied, [\d.]+ MiB\)\s+7 \(7 copied\)\s+ok$/,
      );
      expect(run.stdout).toContain('2 of 2 calls enriched, 0 failed.');
      expect(simulator.requests.filter((r) => r.kind === 'recording')).toHaveLength(2);
    });

    it('shows what was stored for a call, from the same data folder', async () => {
      const run = await calls(['status', GROUP]);

      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`sessionId\\s+${GROUP.replaceAll('.', '\\.')}`));
      expect(run.stdout).toMatch(/status\s+ended/);
      expect(run.stdout).toContain('Participants');
      for (const rid of GROUP_RIDS) {
        expect(run.stdout).toContain(`s3://cometchat-recordings/recordings/${GROUP}/${rid}.mp4`);
      }
    });

    it('prints the stored call as JSON with --json', async () => {
      const run = await calls(['status', GROUP, '--json']);

      expect(run.code).toBe(0);
      const parsed = JSON.parse(run.stdout) as {
        found: boolean;
        call: {
          sessionId: string;
          status: string;
          participants: unknown[];
          recordings: { rid: string; sha256: string }[];
        };
      };
      expect(parsed.found).toBe(true);
      expect(parsed.call).toMatchObject({ sessionId: GROUP, status: 'ended' });
      expect(parsed.call.participants.length).toBeGreaterThan(0);
      expect(parsed.call.recordings.map((r) => r.rid).sort()).toEqual([...GROUP_RIDS].sort());
      expect(parsed.call.recordings.every((r) => /^[0-9a-f]{64}$/.test(r.sha256))).toBe(true);
    });

    it('exits 1 for a call that is not stored', async () => {
      const run = await calls(['status', UNKNOWN]);

      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`No call ${UNKNOWN} is stored`);
    });

    it('rebuilds the table from the manifests in S3 alone once the table is lost', async () => {
      const before = JSON.parse((await calls(['status', GROUP, '--json'])).stdout).call;
      await emptyLocalTable();
      expect((await calls(['status', GROUP])).code).toBe(1);

      const run = await calls(['rebuild', '--from-s3', '--json']);

      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ command: 'rebuild', newer: 0, failed: [] });
      expect(result.restored).toBe(result.manifests);
      expect(result.manifests).toBeGreaterThanOrEqual(2);
      expect(JSON.parse((await calls(['status', GROUP, '--json'])).stdout).call).toEqual(before);
    });

    it('refuses rebuild without --from-s3', async () => {
      const run = await calls(['rebuild']);

      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--from-s3');
    });

    it('exits 1 when a call fails, still enriching the others, and says why in JSON', async () => {
      const run = await calls(['enrich', UNKNOWN, AUDIO, '--json'], realCometChat());

      expect(run.code).toBe(1);
      const parsed = JSON.parse(run.stdout) as {
        results: ({ sessionId: string } & Record<string, unknown>)[];
        succeeded: number;
        failed: number;
      };
      expect(parsed).toMatchObject({ succeeded: 1, failed: 1 });
      expect(parsed.results[0]).toMatchObject({ sessionId: UNKNOWN, error: { name: 'CallNotFoundError' } });
      expect(parsed.results[1]).toMatchObject({
        sessionId: AUDIO,
        result: { sessionId: AUDIO, status: 'ended', participants: 2, recordings: [] },
      });
    });

    it('exits 1 and names the error in the table for a session CometChat does not know', async () => {
      const run = await calls(['enrich', UNKNOWN], realCometChat());

      expect(run.code).toBe(1);
      expect(run.stdout.split('\n').find((l) => l.startsWith(UNKNOWN))).toContain('CallNotFoundError');
      expect(run.stdout).toContain('0 of 1 calls enriched, 1 failed.');
    });

    // Three runs of the tool, each starting its own local stack: more than the default on a busy machine.
    it('backfills a window from its own simulator: a dry run lists, a run enriches, a rerun skips', {
      timeout: 120_000,
    }, async () => {
      const folder = join(scratch, 'backfill');
      const env = { CALLS_DATA_DIR: folder };

      const dry = await calls(['backfill', '--from', '2020-01-01', '--dry-run', '--json'], env);
      const real = await calls(['backfill', '--from', '2020-01-01', '--json'], env);
      const again = await calls(['backfill', '--from', '2020-01-01', '--json'], env);

      expect(dry.code).toBe(0);
      const listed = JSON.parse(dry.stdout) as { listed: number; sessionIds: string[]; dryRun: boolean };
      expect(listed).toMatchObject({ dryRun: true, listed: 5 });
      expect(listed.sessionIds).toHaveLength(5);
      expect(real.code).toBe(0);
      const ran = JSON.parse(real.stdout) as { calls: { sessionId: string; ok: boolean }[]; failed: number };
      expect(ran.failed).toBe(0);
      expect(ran.calls.map((c) => c.sessionId).sort()).toEqual([...listed.sessionIds].sort());
      expect(ran.calls.every((c) => c.ok)).toBe(true);
      expect(again.code).toBe(0);
      const rerun = JSON.parse(again.stdout) as { skipped: number; eligible: number; calls: unknown[] };
      expect(rerun.skipped).toBeGreaterThan(0);
      expect(rerun.calls).toHaveLength(rerun.eligible);
      expect(rerun.skipped + rerun.eligible).toBe(5);
    });

    it('exits 3 when the local stack cannot start', async () => {
      const notAFolder = join(scratch, 'a-file');
      await writeFile(notAFolder, 'not a folder');

      const run = await calls(['status', AUDIO], { CALLS_DATA_DIR: notAFolder });

      expect(run.code).toBe(3);
      expect(run.stderr).toContain('could not start the local stack');
    });
  });

  describe('against a deployed stage (--stage)', () => {
    it('invokes the stage’s enrichCall function with each session id', async () => {
      const payloads: Record<string, unknown>[] = [];
      lambda.script(async (req, res) => {
        const payload = await bodyOf(req);
        payloads.push(payload);
        json(200, { sessionId: payload.sessionId, status: 'ended', participants: 3, recordings: [] })(
          req,
          res,
        );
      });

      const run = await calls(['enrich', AUDIO, GROUP, '--stage', 'test', '--region', 'us-east-1'], stage());

      expect(run.code).toBe(0);
      expect(lambda.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /2015-03-31/functions/cometchat-call-archive-test-enrichCall/invocations',
        'POST /2015-03-31/functions/cometchat-call-archive-test-enrichCall/invocations',
      ]);
      expect(payloads).toEqual([{ sessionId: AUDIO }, { sessionId: GROUP }]);
      expect(run.stdout.split('\n').find((l) => l.startsWith(GROUP))).toMatch(/\sended\s+3\s+0\s+0\s+ok$/);
    });

    it('reports a function error by its name and exits 1', async () => {
      lambda.requests.length = 0;
      lambda.script(
        json(
          200,
          { errorType: 'CometChatAuthError', errorMessage: 'the API key was refused' },
          { 'x-amz-function-error': 'Unhandled' },
        ),
      );

      const run = await calls(['enrich', AUDIO, '--stage', 'test', '--json'], stage());

      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({
        target: { kind: 'stage', stage: 'test' },
        results: [
          { sessionId: AUDIO, error: { name: 'CometChatAuthError', message: 'the API key was refused' } },
        ],
      });
    });

    it('invokes the stage’s backfill function and prints what it did', async () => {
      lambda.requests.length = 0;
      const result = {
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-01-02T00:00:00.000Z',
        pages: 3,
        listed: 250,
        enqueued: 240,
        checkpoint: '2026-01-02T00:00:00.000Z',
      };
      let received: unknown;
      lambda.script(async (req, res) => {
        received = await bodyOf(req);
        json(200, result)(req, res);
      });

      const run = await calls(
        ['backfill', '--from', '2026-01-01', '--to', '2026-01-02', '--stage', 'test'],
        stage(),
      );

      expect(run.code).toBe(0);
      expect(received).toEqual({ from: 1767225600, to: 1767312000, dryRun: false });
      expect(lambda.requests.map((r) => r.url)).toEqual([
        '/2015-03-31/functions/cometchat-call-archive-test-backfill/invocations',
      ]);
      expect(run.stdout).toMatch(/listed\s+250/);
      expect(run.stdout).toMatch(/enqueued\s+240/);
    });

    it('reads status from the stage’s table', async () => {
      const dynamodb = await startDynalite();
      try {
        const client = localClients({ dynamodb: dynamodb.endpoint, s3: dynamodb.endpoint }).dynamodb;
        await ensureTable(client, 'cometchat-call-archive-test-calls');
        client.destroy();

        const run = await calls(['status', AUDIO, '--stage', 'test'], {
          ...stage(),
          AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
        });

        expect(run.code).toBe(1);
        expect(run.stdout).toContain(
          `No call ${AUDIO} is stored in table cometchat-call-archive-test-calls.`,
        );
      } finally {
        await dynamodb.close();
      }
    });

    it('exits 3 when the stage cannot be reached', async () => {
      const run = await calls(['enrich', AUDIO, '--stage', 'test'], {
        ...stage(),
        AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9',
        AWS_MAX_ATTEMPTS: '1',
      });

      expect(run.code).toBe(3);
      expect(run.stderr).toContain('could not invoke cometchat-call-archive-test-enrichCall');
    });
  });
});

/** Deletes every item of the local table in the suite's data folder: the table is lost. */
async function emptyLocalTable(): Promise<void> {
  const dynamodb = await startDynalite({ path: join(dataDir, 'dynamodb') });
  const client = localClients({ dynamodb: dynamodb.endpoint, s3: dynamodb.endpoint }).dynamodb;
  try {
    const TableName = 'cometchat-calls';
    const { Items = [] } = await client.send(new ScanCommand({ TableName }));
    for (const item of Items) {
      await client.send(
        new DeleteItemCommand({
          TableName,
          Key: { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue },
        }),
      );
    }
  } finally {
    client.destroy();
    await dynamodb.close();
  }
}
