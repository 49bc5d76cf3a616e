/**
 * `npm start` as a newcomer runs it: a child process with no CometChat credentials, against a
 * fresh data folder. The second run must find everything already stored.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
/** Each run starts dynalite, s3rver and the simulator in a fresh process: seconds alone, more on a busy machine. */
const RUN_TIMEOUT_MS = 120_000;
const ROOT = join(import.meta.dirname, '..', '..');
let dataDir: string;

/** The environment without any CometChat or AWS settings the developer's shell may carry. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(COMETCHAT_|AWS_|WEBHOOK_|CALLS_|RECORDING)/.test(name),
    ),
  );
}

async function npmStart(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'dev/start.ts', '--data-dir', dataDir, ...args],
    {
      cwd: ROOT,
      env: cleanEnv(),
      timeout: RUN_TIMEOUT_MS,
    },
  );
  return stdout;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'npm-start-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', { timeout: RUN_TIMEOUT_MS }, () => {
  it('enriches the sample calls into the local stack and says where they are', async () => {
    const output = await npmStart('--once');

    expect(output).toContain('simulator');
    // The same table and summary line as `npm run calls -- enrich`: both go through dev/enrich-locally.ts.
    expect(output).toMatch(/^sessionId\s+status\s+participants\s+recordings\s+transcripts\s+result$/m);
    expect(output).toContain('5 of 5 calls enriched, 0 failed.');
    // The group meeting: two recordings and seven transcripts (five in Get Call, seven when paged).
    expect(output).toMatch(/\sended\s+\d+\s+2 \(2 copied, [\d.]+ MiB\)\s+7 \(7 copied\)\s+ok$/m);
    expect(output).toMatch(/\s0\s+0\s+ok$/m);
    expect(output).toContain(join('s3', 'cometchat-recordings', 'recordings'));
    // Every call changed (it is new): one CallArchived each, as a bus would receive them.
    expect(output).toMatch(/^Events: 5 written to .*events\.jsonl/m);
    const lines = (await readFile(join(dataDir, 'events.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line)['detail-type'])).toEqual(Array(5).fill('CallArchived'));
  });

  it('finds everything already stored on a second run: nothing copied again', async () => {
    const output = await npmStart('--once');

    expect(output).toContain('5 of 5 calls enriched, 0 failed.');
    expect(output).toMatch(/2 \(0 copied, [\d.]+ MiB\)\s+7 \(0 copied\)\s+ok$/m);
    expect(output).not.toMatch(/[1-9] copied/);
    expect(output).toMatch(/^Events: 0 written/m);
  });

  it('enriches only the session ids it is given, and exits 1 when one cannot be found', async () => {
    const error = (await npmStart('--once', 'v1.us.unknown.session').catch((e: unknown) => e)) as {
      code?: number;
      stdout?: string;
    };

    expect(error.code).toBe(1);
    expect(error.stdout).toContain('0 of 1 calls enriched, 1 failed.');
    expect(error.stdout).toMatch(/^v1\.us\.unknown\.session\s+-\s+-\s+-\s+-\s+CallNotFoundError: /m);
  });
});
