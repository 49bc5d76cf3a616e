/**
 * `npm start`: the main job, locally, with no AWS account and no setup.
 *
 *   npm start                      enrich every sample call (or, with real CometChat credentials,
 *                                  the most recent page of real calls) and print a summary
 *   npm start -- <sessionId…>      enrich just those calls
 *
 * DynamoDB (dynalite) and S3 (s3rver) run in-process and keep their data in `.local/` between
 * runs. Without COMETCHAT_APP_ID / COMETCHAT_REGION / COMETCHAT_API_KEY (environment or `.env`),
 * a CometChat simulator serves realistic calls and recordings over HTTP.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { type LocalStack, startLocalStack } from './local-stack.ts';
import { sampleCalls } from './sample-calls.ts';

const ROOT = join(import.meta.dirname, '..');
const USAGE = `Usage: npm start [-- [--data-dir DIR] [sessionId…]]

Enriches CometChat calls into a local DynamoDB + S3 and prints what was stored.
With no session ids: the simulator's sample calls, or with real CometChat credentials
(COMETCHAT_APP_ID, COMETCHAT_REGION, COMETCHAT_API_KEY in the environment or .env), the most
recent page of real calls.`;

interface Row {
  sessionId: string;
  result: string;
  status?: string;
  participants?: number;
  recordings?: string;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (existsSync(join(ROOT, '.env'))) process.loadEnvFile(join(ROOT, '.env'));
  const real = ['COMETCHAT_APP_ID', 'COMETCHAT_REGION', 'COMETCHAT_API_KEY'].every(
    (name) => process.env[name],
  );
  const dataDir = values['data-dir'] ?? join(ROOT, '.local');
  // Local runs log at WARN unless told otherwise: the summary below is the output that matters.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

  const stack = await startLocalStack({
    dataDir,
    ...(real
      ? { simulator: false as const, cometChatEnv: pickCometChatEnv(process.env) }
      : { simulator: { calls: sampleCalls(startOfUtcDay()) } }),
  });
  try {
    stack.applyEnv();
    console.log(
      real
        ? `CometChat: app ${stack.env.COMETCHAT_APP_ID} (${stack.env.COMETCHAT_REGION}), real API`
        : `CometChat: simulator at ${stack.simulator?.baseUrl} (no credentials configured)`,
    );
    console.log(
      `Local stack: table ${stack.tableName}, bucket ${stack.bucket}, data in ${relative(process.cwd(), dataDir) || '.'}`,
    );
    const sessionIds = positionals.length > 0 ? positionals : await defaultSessionIds(stack, real);
    if (sessionIds.length === 0) {
      console.log('No calls to enrich.');
      return 0;
    }
    const rows = await enrichAll(sessionIds);
    printSummary(rows, stack, dataDir);
    return rows.some((r) => r.result !== 'ok') ? 1 : 0;
  } finally {
    await stack.close();
  }
}

/**
 * Sample calls are anchored to the UTC day, so a second run on the same day finds the same
 * calls already stored (and shows nothing re-downloaded), while a new day brings new ones.
 */
function startOfUtcDay(now = Date.now()): number {
  return now - (now % 86_400_000);
}

function pickCometChatEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = [
    'COMETCHAT_APP_ID',
    'COMETCHAT_REGION',
    'COMETCHAT_API_KEY',
    'COMETCHAT_BASE_URL',
    'RECORDING_ALLOWED_HOSTS',
  ] as const;
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}

async function defaultSessionIds(stack: LocalStack, real: boolean): Promise<string[]> {
  if (!real) return stack.simulator?.sessionIds() ?? [];
  const { createCometChatClient } = await import('../lib/cometchat/client.ts');
  const { readCometChatConfig } = await import('../lib/config.ts');
  const { secretProvider } = await import('../lib/secrets.ts');
  const config = readCometChatConfig();
  const client = createCometChatClient({
    baseUrl: config.baseUrl,
    apiKey: secretProvider(config.apiKey, 'CometChat API key'),
  });
  const { calls } = await client.listCalls({ page: 1, perPage: 25 });
  return calls.map((c) => c.sessionId).filter((id): id is string => typeof id === 'string');
}

async function enrichAll(sessionIds: readonly string[]): Promise<Row[]> {
  // Imported only now: the handler reads its configuration from the environment at import time.
  const { enrichDependenciesFromEnv } = await import('../lib/dependencies.ts');
  const { enrichCall } = await import('../lib/enrich.ts');
  const deps = enrichDependenciesFromEnv();
  const rows: Row[] = [];
  for (const sessionId of sessionIds) {
    try {
      const result = await enrichCall({ sessionId }, deps, { deadline: Date.now() + 120_000 });
      const copied = result.recordings.filter((r) => r.copied).length;
      rows.push({
        sessionId,
        result: 'ok',
        status: result.status,
        participants: result.participants,
        recordings:
          result.recordings.length === 0
            ? '-'
            : `${result.recordings.length} (${copied} copied, ${formatBytes(sum(result.recordings.map((r) => r.bytes)))})`,
      });
    } catch (error) {
      const { name, message } = error as Error;
      rows.push({ sessionId, result: `${name}: ${message}` });
    }
  }
  return rows;
}

function printSummary(rows: readonly Row[], stack: LocalStack, dataDir: string): void {
  const header = ['session', 'status', 'participants', 'recordings', 'result'];
  const cells = rows.map((r) => [
    shorten(r.sessionId, 44),
    r.status ?? '-',
    r.participants === undefined ? '-' : String(r.participants),
    r.recordings ?? '-',
    shorten(r.result, 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]) => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of cells) console.log(line(row));
  const ok = rows.filter((r) => r.result === 'ok').length;
  console.log(`\n${ok} of ${rows.length} calls enriched into table "${stack.tableName}".`);
  console.log(
    `Recordings are under ${join(relative(process.cwd(), dataDir) || '.', 's3', stack.bucket, 'recordings')}/ ` +
      `(s3://${stack.bucket}/recordings/<sessionId>/<rid>.<ext>).`,
  );
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const { name, message } = error as Error;
    console.error(`npm start failed: ${name}: ${message}`);
    process.exitCode = 3;
  },
);
