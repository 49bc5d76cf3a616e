/**
 * `npm run calls -- <command>`: the operator's tool. Enriches calls, runs a backfill and shows
 * what is stored, against the local stack (the same `.local/` data `npm start` uses, and the
 * CometChat simulator unless real credentials are set) or, with `--stage`, a deployed stage
 * through the AWS SDK's default credentials. HELP below lists the commands and exit codes.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../lib/aws/dynamodb.ts';
import type { BackfillResult } from '../lib/backfill/backfill.ts';
import type { BackfillInput } from '../lib/backfill/window.ts';
import type { EnrichmentResult } from '../lib/enrich/enrich.ts';
import type { StoredCall } from '../lib/store/call-store.ts';
import {
  COMETCHAT_CREDENTIALS,
  formatBytes,
  hasCometChatCredentials,
  loadDotEnv,
  pickCometChatEnv,
  ROOT,
  renderTable,
  startOfUtcDay,
} from './cli-support.ts';
import {
  type LocalEnricher,
  localEnricher,
  type Outcome,
  type Row,
  renderRows,
  rowOf,
} from './enrich-locally.ts';
import type { LocalStack } from './local-stack.ts';

/** serverless.yml's `service`: deployed names are `<service>-<stage>-<name>`. */
const SERVICE = 'cometchat-call-archive';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, infrastructure: 3 } as const;

const COMMANDS = [
  'enrich',
  'backfill',
  'status',
  'show',
  'list',
  'download',
  'hold',
  'release',
  'erase',
  'rebuild',
] as const;
type Command = (typeof COMMANDS)[number];

const COMMON_HELP = `Options for every command:
  --stage <stage>     work against a deployed stage (AWS credentials from the usual chain)
                      instead of the local stack
  --region <region>   the stage's AWS region (default: AWS_REGION, else us-east-1)
  --data-dir <dir>    local data folder (default: CALLS_DATA_DIR, else .local/ at the repo root)
  --json              machine-readable JSON on stdout instead of tables
  -h, --help          this help`;

const EXIT_HELP = `Exit codes:
  0  done, nothing failed
  1  some items failed (see the summary), or the call asked about is not stored
  2  usage error (unknown command or option, missing or bad argument)
  3  configuration or infrastructure error: nothing could be done`;

const HELP: Record<Command | 'main', string> = {
  main: `Usage: npm run calls -- <command> [options]

Commands:
  enrich <sessionId…>                       enrich calls: CometChat -> DynamoDB + S3
  backfill [--from T] [--to T] [--dry-run]  find the calls of a time window and enrich them
  list --user <uid> | --day <YYYY-MM-DD> | --held
                                            find calls: a user's, a day's, the held ones
  show <sessionId>                          show what is stored for a call
  status <sessionId>                        the same as show
  download <sessionId> [--to DIR]           fetch a call's files, each checked against its sha256
  hold <sessionId> / release <sessionId>    put a call under legal hold, or take it off
  erase --uid <uid> --mode delete|redact    erase a user from every call they took part in
  rebuild --from-s3                         rebuild the table's calls from the manifests in S3

Run "npm run calls -- <command> --help" for a command's own help.
Locally, DynamoDB and S3 run in-process with their data in .local/; without COMETCHAT_APP_ID,
COMETCHAT_REGION and COMETCHAT_API_KEY (environment or .env) a CometChat simulator serves
sample calls.

${COMMON_HELP}

${EXIT_HELP}`,
  enrich: `Usage: npm run calls -- enrich <sessionId…> [options]

Fetches each call from CometChat and stores it, its participants and its recordings. Locally
this runs the enrichment in-process; with --stage it invokes the stage's enrichCall function.
A call CometChat does not know fails with CallNotFoundError (exit 1).

${COMMON_HELP}

${EXIT_HELP}`,
  backfill: `Usage: npm run calls -- backfill [--from T] [--to T] [--dry-run] [options]

Lists the calls CometChat has for a time window and enriches each one. Times are ISO-8601
(2024-05-01, 2024-05-01T12:00:00Z) or Unix seconds; by default the window runs from the stored
checkpoint (less an overlap) to now. Locally the calls are enriched in-process; with --stage the
stage's backfill function is invoked and queues them.

  --from <time>       start of the window
  --to <time>         end of the window (default: now)
  --dry-run           list only: enrich nothing, move no checkpoint

${COMMON_HELP}

${EXIT_HELP}`,
  rebuild: `Usage: npm run calls -- rebuild --from-s3 [options]

Rebuilds the calls table from the manifests (call.json) in S3 alone: each call item and its
participant index items are put back, unless the table holds a later revision of that call.
Locally it reads the local bucket into the local table; with --stage, the stage's bucket and
table (as the stage's enrichCall function is configured).

  --from-s3           required: the manifests in S3 are what the table is rebuilt from

${COMMON_HELP}

${EXIT_HELP}`,
  status: `Usage: npm run calls -- status <sessionId> [options]

The same as "show".

${COMMON_HELP}

${EXIT_HELP}`,
  show: `Usage: npm run calls -- show <sessionId> [options]

Prints what is stored for one call: the call item, its participants and its recordings.

${COMMON_HELP}

${EXIT_HELP}`,
  list: `Usage: npm run calls -- list (--user <uid> [--from T] [--to T] | --day <YYYY-MM-DD>
       | --from-day <YYYY-MM-DD> --to-day <YYYY-MM-DD> | --held) [--limit N] [--cursor C] [options]

Lists calls newest first, a page at a time, with the total the query matches. A user's calls come
from the byUser index (times ISO-8601 or Unix seconds, on when the call was initiated); a day's
or a range of days' (UTC, at most 366) from the byDay index. --held scans the table for calls
under legal hold (a full read of the table: an operator command, not for automation).

  --limit <n>         calls per page (default 50)
  --cursor <c>        the page after the one that printed this cursor

${COMMON_HELP}

${EXIT_HELP}`,
  download: `Usage: npm run calls -- download <sessionId> [--to DIR] [options]

Downloads every recording, transcript and the manifest (call.json) of a call into DIR (default:
./<sessionId>), streaming each through a sha256 and keeping it only when the digest matches the
one the archive stored. A mismatch is an error naming the file (exit 1).

${COMMON_HELP}

${EXIT_HELP}`,
  hold: `Usage: npm run calls -- hold <sessionId> [options]

Puts a call under legal hold: its items lose their expiresAt (DynamoDB TTL leaves them) and every
file is tagged hold=true (the S3 lifecycle rule leaves it), whatever the retention.

${COMMON_HELP}

${EXIT_HELP}`,
  erase: `Usage: npm run calls -- erase --uid <uid> --mode delete|redact [--dry-run] [--include-held] [options]

Erases a user from the archive. delete removes every call they took part in (call item, index
items, every version of its files and manifest, its analytics record); redact keeps those calls
but replaces their uid, name and avatar with a salted hash and removes their index items. Either
way an audit record (the salted hash, mode, counts, when) is kept, and enrichment applies the
erasure to these calls from now on. Calls under legal hold are reported and left alone unless
--include-held. Locally this runs in-process; with --stage it invokes the stage's erase function.

  --uid <uid>         the user to erase (never printed, logged or stored)
  --mode <mode>       delete or redact
  --dry-run           list the calls that would be erased; change nothing
  --include-held      erase held calls too

${COMMON_HELP}

${EXIT_HELP}`,
  release: `Usage: npm run calls -- release <sessionId> [options]

Takes a call off legal hold: its items get their expiresAt back (with retention) and every file is
tagged hold=false again, so the retention applies to it as to any other call.

${COMMON_HELP}

${EXIT_HELP}`,
};

/** A mistake in how the tool was called: exit 2, with the command's help. */
class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly command: Command | 'main' = 'main',
  ) {
    super(message);
  }
}

/** Nothing could be done: AWS, the local stack or the configuration failed. Exit 3. */
class InfrastructureError extends Error {
  override readonly name = 'InfrastructureError';
}

/** Where the work happens. */
type Target = { kind: 'local'; dataDir: string } | { kind: 'stage'; stage: string; region: string };

interface Options {
  target: Target;
  json: boolean;
}

/** Where output goes; a parameter so tests can capture it. */
export interface Io {
  stdout: Pick<NodeJS.WriteStream, 'write'>;
  stderr: Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'>;
  env: NodeJS.ProcessEnv;
}

/** An ASCII progress bar on `stream`, drawn only when it is a terminal and there is more than one item. */
export function progressBar(
  total: number,
  stream: Io['stderr'],
): { advance(label: string): void; end(): void } {
  if (stream.isTTY !== true || total <= 1) return { advance: () => {}, end: () => {} };
  let done = 0;
  const width = 24;
  const draw = (label: string) => {
    const filled = Math.round((width * done) / total);
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
    stream.write(`\r${text.slice(0, Math.max(20, (stream.columns || 80) - 1))}\x1b[K`);
  };
  draw('');
  return {
    advance(label) {
      done += 1;
      draw(label);
    },
    end() {
      stream.write('\r\x1b[K');
    },
  };
}

function printRows(io: Io, rows: readonly Row[]): void {
  io.stdout.write(`${renderRows(rows)}\n`);
}

/** A flat record as field/value rows; nested values as JSON. */
function fieldsOf(record: Record<string, unknown>): string[][] {
  return Object.entries(record).map(([k, v]) => [
    k,
    typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v),
  ]);
}

function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function resolveTarget(
  values: { stage?: string; region?: string; 'data-dir'?: string },
  env: Io['env'],
): Target {
  if (values.stage !== undefined) {
    if (!/^[A-Za-z0-9-]{1,32}$/.test(values.stage))
      throw new UsageError(`"${values.stage}" is not a stage name`);
    return {
      kind: 'stage',
      stage: values.stage,
      region: values.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    };
  }
  if (values.region !== undefined) throw new UsageError('--region only applies with --stage');
  return { kind: 'local', dataDir: values['data-dir'] || env.CALLS_DATA_DIR || join(ROOT, '.local') };
}

/** Starts the local stack; with `cometChat`, real CometChat when its credentials are set, else the simulator. */
async function openLocalStack(dataDir: string, io: Io, cometChat: boolean): Promise<LocalStack> {
  const { env } = io;
  const [{ startLocalStack }, { sampleCalls }] = await Promise.all([
    import('./local-stack.ts'),
    import('./simulator/sample-calls.ts'),
  ]);
  const real = hasCometChatCredentials(env);
  const missing = COMETCHAT_CREDENTIALS.filter((name) => !env[name]);
  if (cometChat && !real && missing.length < COMETCHAT_CREDENTIALS.length) {
    io.stderr.write(`${missing.join(', ')} not set: using the CometChat simulator, not the real API.\n`);
  }
  try {
    return await startLocalStack({
      dataDir,
      ...(cometChat && !real
        ? { simulator: { calls: sampleCalls(startOfUtcDay()) } }
        : { simulator: false as const, cometChatEnv: cometChat ? pickCometChatEnv(env) : {} }),
    });
  } catch (cause) {
    const { name, message } = cause as Error;
    throw new InfrastructureError(`could not start the local stack in ${dataDir}: ${name}: ${message}`, {
      cause,
    });
  }
}

/** Invokes a deployed function; a function error comes back as `{ error }`, anything else throws. */
async function invoke(
  target: Extract<Target, { kind: 'stage' }>,
  name: string,
  payload: unknown,
): Promise<Outcome<unknown>> {
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const functionName = `${SERVICE}-${target.stage}-${name}`;
  const client = new LambdaClient({ region: target.region });
  try {
    const response = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : 'null';
    const body = JSON.parse(text) as { errorType?: string; errorMessage?: string } | null;
    if (response.FunctionError) {
      return {
        error: { name: body?.errorType ?? 'Error', message: body?.errorMessage ?? response.FunctionError },
      };
    }
    return { result: body };
  } catch (cause) {
    const { name, message } = cause as Error;
    const what = `could not invoke ${functionName} in ${target.region}`;
    throw new InfrastructureError(`${what}: ${name}: ${message}`, { cause });
  } finally {
    client.destroy();
  }
}

async function enrichCommand(sessionIds: readonly string[], options: Options, io: Io): Promise<number> {
  if (sessionIds.length === 0) throw new UsageError('enrich needs at least one session id', 'enrich');
  const { target } = options;
  const results: ({ sessionId: string } & Outcome<EnrichmentResult>)[] = [];
  const progress = progressBar(sessionIds.length, io.stderr);
  let stack: LocalStack | undefined;
  try {
    let enrichOne: LocalEnricher;
    if (target.kind === 'stage') {
      enrichOne = (sessionId) =>
        invoke(target, 'enrichCall', { sessionId }) as Promise<Outcome<EnrichmentResult>>;
    } else {
      stack = await openLocalStack(target.dataDir, io, true);
      enrichOne = await localEnricher(stack);
    }
    for (const sessionId of sessionIds) {
      results.push({ sessionId, ...(await enrichOne(sessionId)) });
      progress.advance(sessionId);
    }
  } finally {
    progress.end();
    await stack?.close();
  }

  const failed = results.filter((r) => 'error' in r).length;
  if (options.json) {
    printJson(io, { command: 'enrich', target, results, succeeded: results.length - failed, failed });
  } else {
    printRows(
      io,
      results.map(({ sessionId, ...outcome }) => rowOf(sessionId, outcome)),
    );
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

/** The table and bucket a command reads or changes: the local stack's, or a stage's. */
interface Archive {
  documents: ReturnType<typeof createDocumentClient>;
  s3: import('@aws-sdk/client-s3').S3Client;
  tableName: string;
  bucket: string;
  retention: import('../lib/config.ts').RetentionConfig | undefined;
}

/**
 * Runs `work` on the archive of `options.target`, then closes what was opened. A stage's table is
 * known by its name; its bucket (and retention) only from its enrichCall function, read when
 * `tableOnly` is not set.
 */
async function withArchive<T>(
  options: Options,
  io: Io,
  work: (archive: Archive) => Promise<T>,
  { tableOnly = false } = {},
): Promise<T> {
  const [{ S3Client }, { readRetentionConfig }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('../lib/config.ts'),
  ]);
  const { target } = options;
  let stack: LocalStack | undefined;
  let owned: { s3: InstanceType<typeof S3Client>; dynamodb: DynamoDBClient } | undefined;
  try {
    let archive: Archive;
    if (target.kind === 'stage') {
      const where = tableOnly
        ? { tableName: `${SERVICE}-${target.stage}-calls`, bucket: '', retentionDays: undefined }
        : await stageArchive(target);
      owned = {
        s3: new S3Client({ region: target.region }),
        dynamodb: new DynamoDBClient({ region: target.region }),
      };
      archive = {
        documents: createDocumentClient(owned.dynamodb),
        s3: owned.s3,
        tableName: where.tableName,
        bucket: where.bucket,
        retention: readRetentionConfig({ RETENTION_DAYS: where.retentionDays }),
      };
    } else {
      stack = await openLocalStack(target.dataDir, io, false);
      archive = {
        documents: createDocumentClient(stack.clients.dynamodb),
        s3: stack.clients.s3,
        tableName: stack.tableName,
        bucket: stack.bucket,
        retention: readRetentionConfig(io.env),
      };
    }
    return await work(archive);
  } finally {
    owned?.s3.destroy();
    owned?.dynamodb.destroy();
    await stack?.close();
  }
}

/** A failure reading or changing the archive, as exit 3 with what failed. */
function archiveFailure(what: string, cause: unknown): InfrastructureError {
  const { name, message } = cause as Error;
  return new InfrastructureError(`${what}: ${name}: ${message}`, { cause });
}

/** The one session id `command` takes, checked as enrichment checks it. */
async function oneSessionId(positionals: readonly string[], command: Command): Promise<string> {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one session id`, command);
  const { parseSessionId } = await import('../lib/calls/session-id.ts');
  try {
    return parseSessionId(positionals[0]);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

async function showCommand(
  command: 'show' | 'status',
  positionals: readonly string[],
  options: Options,
  io: Io,
): Promise<number> {
  const sessionId = await oneSessionId(positionals, command);
  const { createCallStore } = await import('../lib/store/call-store.ts');
  const { target } = options;
  const { stored, tableName } = await withArchive(
    options,
    io,
    async ({ documents, tableName }) => {
      try {
        return { stored: await createCallStore({ tableName, client: documents }).load(sessionId), tableName };
      } catch (cause) {
        throw archiveFailure(`could not read table ${tableName}`, cause);
      }
    },
    { tableOnly: true },
  );
  if (options.json) {
    // The call item is the whole call; the participant index is derived from it, so it is left out.
    printJson(io, { command, target, sessionId, found: stored !== undefined, call: stored?.call });
  } else if (!stored) {
    io.stdout.write(`No call ${sessionId} is stored in table ${tableName}.\n`);
  } else {
    printStoredCall(io, stored);
  }
  return stored ? EXIT.ok : EXIT.failed;
}

/** A time option (ISO-8601 or Unix seconds) as Unix seconds. */
async function timeOption(name: string, value: string | undefined, command: Command) {
  if (value === undefined) return undefined;
  const { parseTime } = await import('../lib/backfill/window.ts');
  try {
    return parseTime(name, value);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

async function listCommand(
  positionals: readonly string[],
  values: {
    user?: string;
    from?: string;
    to?: string;
    day?: string;
    'from-day'?: string;
    'to-day'?: string;
    held?: boolean;
    limit?: string;
    cursor?: string;
  },
  options: Options,
  io: Io,
): Promise<number> {
  if (positionals.length > 0) throw new UsageError('list takes no session ids', 'list');
  const byDay =
    values.day !== undefined || values['from-day'] !== undefined || values['to-day'] !== undefined;
  const chosen = [values.user !== undefined, byDay, values.held === true].filter(Boolean).length;
  if (chosen !== 1)
    throw new UsageError('list needs exactly one of --user, --day (or --from-day/--to-day), --held', 'list');
  if (!values.user && (values.from || values.to))
    throw new UsageError('--from and --to go with --user', 'list');
  if (values.day !== undefined && (values['from-day'] || values['to-day'])) {
    throw new UsageError('--day or --from-day/--to-day, not both', 'list');
  }
  if (byDay && values.day === undefined && (!values['from-day'] || !values['to-day'])) {
    throw new UsageError('a range of days needs both --from-day and --to-day', 'list');
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const from = await timeOption('from', values.from, 'list');
  const to = await timeOption('to', values.to, 'list');
  const [{ listByUser, listByDay }, { listHeld }] = await Promise.all([
    import('../lib/archive/find.ts'),
    import('../lib/archive/hold.ts'),
  ]);
  const page = await withArchive(
    options,
    io,
    async ({ documents, tableName }) => {
      const deps = { client: documents, tableName };
      const paging = { limit, cursor: values.cursor };
      try {
        if (values.held) {
          const calls = await listHeld(deps);
          return { calls, total: calls.length };
        }
        if (values.user !== undefined) return await listByUser(deps, { uid: values.user, from, to }, paging);
        const fromDay = values.day ?? (values['from-day'] as string);
        return await listByDay(deps, { fromDay, toDay: values.day ?? values['to-day'] }, paging);
      } catch (cause) {
        if (cause instanceof RangeError) throw new UsageError(cause.message, 'list');
        throw archiveFailure(`could not list calls in table ${tableName}`, cause);
      }
    },
    { tableOnly: true },
  );
  if (options.json) {
    printJson(io, { command: 'list', target: options.target, ...page });
    return EXIT.ok;
  }
  const time = (seconds: number | undefined) =>
    seconds === undefined ? '-' : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  io.stdout.write(
    `${renderTable(
      [
        'sessionId',
        'initiatedAt',
        'status',
        'type',
        'seconds',
        'people',
        'recordings',
        'transcripts',
        'held',
      ],
      page.calls.map((c) => [
        c.sessionId,
        time(c.initiatedAt),
        c.status ?? '-',
        c.type ?? '-',
        c.durationSeconds === undefined ? '-' : String(c.durationSeconds),
        String(c.participants),
        String(c.recordings),
        String(c.transcripts),
        c.held ? 'yes' : '',
      ]),
    )}\n\n${page.calls.length} of ${page.total} calls shown.\n`,
  );
  if ('next' in page && page.next) io.stdout.write(`Next page: --cursor ${page.next}\n`);
  return EXIT.ok;
}

async function downloadCommand(
  positionals: readonly string[],
  values: { to?: string },
  options: Options,
  io: Io,
): Promise<number> {
  const sessionId = await oneSessionId(positionals, 'download');
  const { resolve } = await import('node:path');
  const [{ getCall }, { downloadFile, filesOf }, { IntegrityError }] = await Promise.all([
    import('../lib/archive/find.ts'),
    import('../lib/archive/download.ts'),
    import('../lib/errors.ts'),
  ]);
  const dir = resolve(values.to ?? sessionId);
  type Done = Awaited<ReturnType<typeof downloadFile>>;
  const outcome = await withArchive(options, io, async ({ documents, s3, tableName, bucket }) => {
    let call: Awaited<ReturnType<typeof getCall>>;
    try {
      call = await getCall({ client: documents, tableName }, sessionId);
    } catch (cause) {
      throw archiveFailure(`could not read table ${tableName}`, cause);
    }
    if (!call) return { found: false as const, files: [] as Done[] };
    const files = filesOf(call, bucket);
    const progress = progressBar(files.length, io.stderr);
    const done: Done[] = [];
    try {
      for (const file of files) {
        done.push(await downloadFile(s3, file, dir));
        progress.advance(file.name);
      }
    } catch (error) {
      if (error instanceof IntegrityError)
        return { found: true as const, files: done, mismatch: error.message };
      throw archiveFailure(`could not download the files of ${sessionId}`, error);
    } finally {
      progress.end();
    }
    return { found: true as const, files: done };
  });
  const files = outcome.files.map(({ kind, name, path, bytes, sha256 }) => ({
    kind,
    name,
    path,
    bytes,
    sha256,
  }));
  const mismatch = 'mismatch' in outcome ? outcome.mismatch : undefined;
  if (options.json) {
    printJson(io, { command: 'download', target: options.target, sessionId, dir, ...outcome, files });
  } else if (!outcome.found) {
    io.stdout.write(`No call ${sessionId} is stored.\n`);
  } else {
    io.stdout.write(
      `${renderTable(
        ['file', 'kind', 'size', 'sha256'],
        files.map((f) => [f.name, f.kind, formatBytes(f.bytes), `${f.sha256.slice(0, 16)}…`]),
      )}\n\n${files.length} files in ${dir}, each matching its stored sha256.\n`,
    );
  }
  if (mismatch) io.stderr.write(`Error: IntegrityError: ${mismatch}\n`);
  return outcome.found && !mismatch ? EXIT.ok : EXIT.failed;
}

async function eraseCommand(
  positionals: readonly string[],
  values: { uid?: string; mode?: string; 'dry-run'?: boolean; 'include-held'?: boolean },
  options: Options,
  io: Io,
): Promise<number> {
  if (positionals.length > 0) throw new UsageError('erase takes no session ids; use --uid', 'erase');
  const { parseEraseInput } = await import('../lib/erase/erase.ts');
  const event = {
    uid: values.uid,
    mode: values.mode,
    dryRun: values['dry-run'] ?? false,
    includeHeld: values['include-held'] ?? false,
  };
  try {
    parseEraseInput(event);
  } catch (error) {
    throw new UsageError((error as Error).message, 'erase');
  }
  const { target } = options;
  let result: Record<string, unknown>;
  if (target.kind === 'stage') {
    const outcome = await invoke(target, 'erase', event);
    if ('error' in outcome) {
      if (options.json) printJson(io, { command: 'erase', target, error: outcome.error });
      else io.stderr.write(`erase failed: ${outcome.error.name}: ${outcome.error.message}\n`);
      return EXIT.failed;
    }
    result = outcome.result as Record<string, unknown>;
  } else {
    const [{ eraseUser }, { eraseDependenciesFromEnv }] = await Promise.all([
      import('../lib/erase/erase.ts'),
      import('../lib/erase/dependencies.ts'),
    ]);
    const stack = await openLocalStack(target.dataDir, io, false);
    try {
      const deps = eraseDependenciesFromEnv(stack.env, {
        dynamodb: createDocumentClient(stack.clients.dynamodb),
        s3: stack.clients.s3,
      });
      result = { ...(await eraseUser(event, deps)) };
    } catch (cause) {
      throw archiveFailure('could not erase', cause);
    } finally {
      await stack.close();
    }
  }
  if (options.json) {
    printJson(io, { command: 'erase', target, ...result });
    return EXIT.ok;
  }
  const { sessionIds = [], held = [], ...summary } = result as { sessionIds?: string[]; held?: string[] };
  io.stdout.write(`${renderTable(['field', 'value'], fieldsOf({ ...summary, held: held.length }))}\n`);
  const list = (title: string, ids: readonly string[]) =>
    ids.length > 0 &&
    io.stdout.write(
      `\n${title}\n${renderTable(
        ['sessionId'],
        ids.map((id) => [id]),
      )}\n`,
    );
  list(event.dryRun ? 'Would be erased (dry run: nothing changed)' : 'Erased', sessionIds);
  list('Held, left alone (--include-held to erase them too)', held);
  return EXIT.ok;
}

async function holdCommand(
  command: 'hold' | 'release',
  positionals: readonly string[],
  options: Options,
  io: Io,
): Promise<number> {
  const sessionId = await oneSessionId(positionals, command);
  const [{ setHold }, { createCallStore }] = await Promise.all([
    import('../lib/archive/hold.ts'),
    import('../lib/store/call-store.ts'),
  ]);
  const result = await withArchive(options, io, async ({ documents, s3, tableName, bucket, retention }) => {
    const store = createCallStore({ tableName, client: documents, retention });
    try {
      return await setHold({ store, s3, bucket }, sessionId, command === 'hold');
    } catch (cause) {
      throw archiveFailure(`could not ${command} ${sessionId}`, cause);
    }
  });
  if (options.json) {
    printJson(io, { command, target: options.target, sessionId, found: result !== undefined, ...result });
  } else if (!result) {
    io.stdout.write(`No call ${sessionId} is stored.\n`);
  } else {
    const expiry = result.expiresAt === undefined ? 'never' : new Date(result.expiresAt * 1000).toISOString();
    io.stdout.write(
      `${renderTable(['field', 'value'], fieldsOf({ ...result, missing: result.missing.length, expires: expiry }))}\n`,
    );
  }
  return result ? EXIT.ok : EXIT.failed;
}

function printStoredCall(io: Io, { call }: StoredCall): void {
  const { participants, recordings } = call;
  const show = (value: unknown) => (value === undefined ? '-' : String(value));
  const time = (seconds: number | undefined) =>
    seconds === undefined ? '-' : new Date(seconds * 1000).toISOString();
  const fields: [string, string][] = [
    ['sessionId', call.sessionId],
    ['type / mode', `${show(call.type)} / ${show(call.mode)}`],
    ['status', call.status],
    ['receiver', `${show(call.receiverType)} ${show(call.receiver)}`],
    ['initiator', show(call.initiator)],
    ['initiatedAt', time(call.initiatedAt)],
    ['startedAt', time(call.startedAt)],
    ['endedAt', time(call.endedAt)],
    ['duration', call.durationSeconds === undefined ? '-' : `${call.durationSeconds} s`],
    ['participants', String(participants.length)],
    ['recordings', String(recordings.length)],
    ['transcripts', String(call.transcripts.length)],
    ['enrichedAt', call.enrichedAt],
  ];
  io.stdout.write(`Call\n${renderTable(['field', 'value'], fields)}\n`);
  io.stdout.write(
    `\nParticipants\n${renderTable(
      ['uid', 'name', 'state', 'joined', 'joinedAt', 'leftAt', 'seconds'],
      participants.map((p) => [
        p.uid,
        show(p.name),
        show(p.state),
        show(p.isJoined),
        time(p.joinedAt),
        time(p.leftAt),
        show(p.durationSeconds),
      ]),
    )}\n`,
  );
  io.stdout.write(
    `\nRecordings\n${renderTable(
      ['rid', 'object', 'size', 'sha256', 'copiedAt'],
      recordings.map((r) => [
        r.rid,
        `s3://${r.bucket}/${r.key}`,
        formatBytes(r.bytes),
        `${r.sha256.slice(0, 16)}…`,
        show(r.copiedAt),
      ]),
    )}\n`,
  );
}

async function backfillCommand(
  positionals: readonly string[],
  values: { from?: string; to?: string; 'dry-run'?: boolean },
  options: Options,
  io: Io,
): Promise<number> {
  if (positionals.length > 0) {
    throw new UsageError('backfill takes no session ids; use --from and --to', 'backfill');
  }
  const { parseBackfillInput } = await import('../lib/backfill/window.ts');
  let input: BackfillInput;
  try {
    input = parseBackfillInput({ from: values.from, to: values.to, dryRun: values['dry-run'] ?? false });
  } catch (error) {
    throw new UsageError((error as Error).message, 'backfill');
  }
  const { target } = options;
  if (target.kind === 'local') return localBackfill(input, target, options, io);

  const outcome = await invoke(target, 'backfill', { from: input.from, to: input.to, dryRun: input.dryRun });
  if ('error' in outcome) {
    if (options.json) printJson(io, { command: 'backfill', target, error: outcome.error });
    else io.stderr.write(`backfill failed: ${outcome.error.name}: ${outcome.error.message}\n`);
    return EXIT.failed;
  }
  const { sessionIds, ...summary } = outcome.result as BackfillResult;
  if (options.json) printJson(io, { command: 'backfill', target, ...summary, sessionIds });
  else printBackfill(io, summary, { sessionIds });
  return EXIT.ok;
}

/** The run's summary, then what a dry run would enrich or (locally) how each enrichment went. */
function printBackfill(
  io: Io,
  summary: Record<string, unknown>,
  details: { sessionIds?: readonly string[]; rows?: readonly Row[]; checkpointHeld?: boolean },
): void {
  io.stdout.write(`${renderTable(['field', 'value'], fieldsOf(summary))}\n`);
  const { sessionIds, rows, checkpointHeld } = details;
  if (sessionIds) {
    const list = renderTable(
      ['sessionId'],
      sessionIds.map((id) => [id]),
    );
    io.stdout.write(
      `\n${list}\n\n${sessionIds.length} calls would be enriched (dry run: nothing changed).\n`,
    );
  } else if (rows && rows.length > 0) {
    io.stdout.write('\n');
    printRows(io, rows);
  } else if (rows) {
    io.stdout.write('\nNo calls needed enriching.\n');
  }
  if (checkpointHeld) io.stdout.write('The checkpoint did not move: the next run lists these calls again.\n');
}

/** Raised by the local "queue" after enriching everything it was handed, if anything failed. */
class LocalEnrichmentFailed extends Error {
  override readonly name = 'LocalEnrichmentFailed';
}

/**
 * The backfill use case on the local stack, with the real List Calls walk, request budget,
 * checkpoint and skip rules. It enqueues into a real local FIFO queue (fauxqs), which is then
 * drained right here, each message enriched before the checkpoint can move; if any call fails,
 * the checkpoint stays where it was (as an SQS message would stay for a retry), so the next run
 * lists those calls again.
 */
async function localBackfill(
  input: BackfillInput,
  target: Extract<Target, { kind: 'local' }>,
  options: Options,
  io: Io,
): Promise<number> {
  const stack = await openLocalStack(target.dataDir, io, true);
  const rows: Row[] = [];
  let summary: Record<string, unknown> = { dryRun: input.dryRun, checkpointAdvanced: false };
  let sessionIds: string[] | undefined;
  let checkpointHeld = false;
  const [{ backfill }, { backfillFromEnv }, { deliverBatch, startLocalQueues }, { SQSClient }] =
    await Promise.all([
      import('../lib/backfill/backfill.ts'),
      import('../lib/backfill/dependencies.ts'),
      import('./local-queue.ts'),
      import('@aws-sdk/client-sqs'),
    ]);
  const queue = 'local-backfill.fifo';
  const queues = await startLocalQueues({ queues: [queue] });
  const sqs = new SQSClient({
    endpoint: queues.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const tuning = Object.entries(io.env).filter(
      ([name]) => name.startsWith('BACKFILL_') || name === 'COMETCHAT_REQUESTS_PER_MINUTE',
    );
    const { deps, settings } = backfillFromEnv(
      {
        ...Object.fromEntries(tuning),
        ...stack.env,
        ENRICH_QUEUE_URL: queues.queueUrl(queue),
        BACKFILL_STATE_MACHINE_ARN: '',
      },
      { dynamodb: createDocumentClient(stack.clients.dynamodb), sqs },
    );
    const enrichOne = await localEnricher(stack);
    const enqueue: typeof deps.enqueue = async (messages, enqueueOptions) => {
      await deps.enqueue(messages, enqueueOptions);
      const progress = progressBar(messages.length, io.stderr);
      try {
        // Drain what was just sent; a failure is recorded, not retried (the checkpoint holds).
        const consume = async (event: SQSEvent) => {
          for (const record of event.Records) {
            const { sessionId } = JSON.parse(record.body) as { sessionId: string };
            rows.push(rowOf(sessionId, await enrichOne(sessionId)));
            progress.advance(sessionId);
          }
          return { batchItemFailures: [] };
        };
        while ((await deliverBatch(sqs, queues.queueUrl(queue), '', consume)) > 0);
      } finally {
        progress.end();
      }
      if (rows.some((r) => !r.ok)) throw new LocalEnrichmentFailed('some calls could not be enriched');
    };
    try {
      ({ sessionIds, ...summary } = await backfill(input, { ...deps, enqueue }, settings));
    } catch (error) {
      if (!(error instanceof LocalEnrichmentFailed)) throw error;
      checkpointHeld = true;
    }
  } finally {
    sqs.destroy();
    await queues.close();
    await stack.close();
  }

  const failed = rows.filter((r) => !r.ok).length;
  if (options.json) {
    printJson(io, { command: 'backfill', target, ...summary, sessionIds, calls: rows, failed });
  } else {
    printBackfill(io, summary, input.dryRun ? { sessionIds: sessionIds ?? [] } : { rows, checkpointHeld });
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

/** Where a stage keeps its calls: read from its enrichCall function's environment. */
async function stageArchive(
  target: Extract<Target, { kind: 'stage' }>,
): Promise<{ tableName: string; bucket: string; prefix: string; retentionDays?: string }> {
  const { GetFunctionConfigurationCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const functionName = `${SERVICE}-${target.stage}-enrichCall`;
  const client = new LambdaClient({ region: target.region });
  try {
    const { Environment } = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: functionName }),
    );
    const env = Environment?.Variables ?? {};
    const { CALLS_TABLE: tableName, RECORDINGS_BUCKET: bucket } = env;
    if (!tableName || !bucket) throw new Error('its environment names no CALLS_TABLE or RECORDINGS_BUCKET');
    return {
      tableName,
      bucket,
      prefix: env.RECORDINGS_PREFIX ?? 'recordings/',
      ...(env.RETENTION_DAYS && { retentionDays: env.RETENTION_DAYS }),
    };
  } catch (cause) {
    const { name, message } = cause as Error;
    throw new InfrastructureError(`could not read ${functionName}'s configuration: ${name}: ${message}`, {
      cause,
    });
  } finally {
    client.destroy();
  }
}

async function rebuildCommand(
  positionals: readonly string[],
  values: { 'from-s3'?: boolean },
  options: Options,
  io: Io,
): Promise<number> {
  if (positionals.length > 0) throw new UsageError('rebuild takes no session ids', 'rebuild');
  if (values['from-s3'] !== true) {
    throw new UsageError('rebuild needs --from-s3: the manifests in S3 are its only source', 'rebuild');
  }
  const [{ rebuildFromManifests }, { createManifestStore }, { createCallStore }, { S3Client }] =
    await Promise.all([
      import('../lib/manifest/rebuild.ts'),
      import('../lib/manifest/manifest-store.ts'),
      import('../lib/store/call-store.ts'),
      import('@aws-sdk/client-s3'),
    ]);
  const { target } = options;
  let stack: LocalStack | undefined;
  let owned: { s3: InstanceType<typeof S3Client>; dynamodb: DynamoDBClient } | undefined;
  let result: Awaited<ReturnType<typeof rebuildFromManifests>>;
  let where: { tableName: string; bucket: string; prefix: string };
  try {
    let clients: { s3: InstanceType<typeof S3Client>; dynamodb: DynamoDBClient };
    if (target.kind === 'stage') {
      where = await stageArchive(target);
      owned = {
        s3: new S3Client({ region: target.region }),
        dynamodb: new DynamoDBClient({ region: target.region }),
      };
      clients = owned;
    } else {
      stack = await openLocalStack(target.dataDir, io, false);
      where = { tableName: stack.tableName, bucket: stack.bucket, prefix: stack.env.RECORDINGS_PREFIX ?? '' };
      clients = stack.clients;
    }
    try {
      result = await rebuildFromManifests(
        {
          manifests: createManifestStore({ s3: clients.s3, bucket: where.bucket }),
          store: createCallStore({
            tableName: where.tableName,
            client: createDocumentClient(clients.dynamodb),
          }),
        },
        where.prefix,
      );
    } catch (cause) {
      const { name, message } = cause as Error;
      throw new InfrastructureError(
        `could not list the manifests in s3://${where.bucket}/${where.prefix}: ${name}: ${message}`,
        {
          cause,
        },
      );
    }
  } finally {
    owned?.s3.destroy();
    owned?.dynamodb.destroy();
    await stack?.close();
  }

  const { failed, ...counts } = result;
  if (options.json) {
    printJson(io, { command: 'rebuild', target, ...where, ...result });
  } else {
    io.stdout.write(
      `${renderTable(['field', 'value'], fieldsOf({ ...where, ...counts, failed: failed.length }))}\n`,
    );
    if (failed.length > 0) {
      io.stdout.write(
        `\n${renderTable(
          ['manifest', 'error'],
          failed.map((f) => [f.key, `${f.errorName}: ${f.errorMessage}`]),
        )}\n`,
      );
    }
  }
  return failed.length > 0 ? EXIT.failed : EXIT.ok;
}

const COMMON_OPTIONS = {
  stage: { type: 'string' },
  region: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const BACKFILL_OPTIONS = {
  ...COMMON_OPTIONS,
  from: { type: 'string' },
  to: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

const REBUILD_OPTIONS = { ...COMMON_OPTIONS, 'from-s3': { type: 'boolean' } } as const;

const LIST_OPTIONS = {
  ...COMMON_OPTIONS,
  user: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  day: { type: 'string' },
  'from-day': { type: 'string' },
  'to-day': { type: 'string' },
  held: { type: 'boolean' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
} as const;

const DOWNLOAD_OPTIONS = { ...COMMON_OPTIONS, to: { type: 'string' } } as const;

const ERASE_OPTIONS = {
  ...COMMON_OPTIONS,
  uid: { type: 'string' },
  mode: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'include-held': { type: 'boolean' },
} as const;

type AllOptions = typeof BACKFILL_OPTIONS &
  typeof REBUILD_OPTIONS &
  typeof LIST_OPTIONS &
  typeof ERASE_OPTIONS;

/** The options of `command`. */
function optionsOf(command: Command) {
  if (command === 'backfill') return BACKFILL_OPTIONS;
  if (command === 'rebuild') return REBUILD_OPTIONS;
  if (command === 'list') return LIST_OPTIONS;
  if (command === 'download') return DOWNLOAD_OPTIONS;
  if (command === 'erase') return ERASE_OPTIONS;
  return COMMON_OPTIONS;
}

/** Runs the tool with `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let command: Command | 'main' = 'main';
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      if (topic !== undefined && !COMMANDS.includes(topic as Command)) {
        throw new UsageError(`unknown command "${topic}"`);
      }
      if (first === undefined) throw new UsageError('a command is needed');
      io.stdout.write(`${HELP[(topic as Command | undefined) ?? 'main']}\n`);
      return EXIT.ok;
    }
    if (!COMMANDS.includes(first as Command)) throw new UsageError(`unknown command "${first}"`);
    command = first as Command;
    let parsed: ReturnType<typeof parseArgs<{ options: AllOptions; allowPositionals: true }>>;
    try {
      parsed = parseArgs({
        args: rest as string[],
        options: optionsOf(command) as AllOptions,
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError((error as Error).message, command);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout.write(`${HELP[command]}\n`);
      return EXIT.ok;
    }
    const options: Options = { target: resolveTarget(values, io.env), json: values.json ?? false };
    switch (command) {
      case 'enrich':
        return await enrichCommand(positionals, options, io);
      case 'status':
      case 'show':
        return await showCommand(command, positionals, options, io);
      case 'list':
        return await listCommand(positionals, values, options, io);
      case 'download':
        return await downloadCommand(positionals, values, options, io);
      case 'erase':
        return await eraseCommand(positionals, values, options, io);
      case 'hold':
      case 'release':
        return await holdCommand(command, positionals, options, io);
      case 'backfill':
        return await backfillCommand(positionals, values, options, io);
      case 'rebuild':
        return await rebuildCommand(positionals, values, options, io);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(
        `Error: ${error.message}\n\n${HELP[error.command === 'main' ? command : error.command]}\n`,
      );
      return EXIT.usage;
    }
    const { name, message } = error as Error;
    io.stderr.write(`Error: ${name}: ${message}\n`);
    return EXIT.infrastructure;
  }
  return EXIT.usage;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === realpathSync(import.meta.filename);
}

if (isEntryPoint()) {
  loadDotEnv();
  run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`Error: ${(error as Error).message}\n`);
      process.exitCode = EXIT.infrastructure;
    },
  );
}
