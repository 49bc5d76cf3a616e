/** `list`, `show` (`status`) and `download`: reading the archive. */
import type { StoredCall } from '../../lib/store/call-store.ts';
import { formatBytes, renderTable } from '../cli-support.ts';
import { command, noSessionIds, oneSessionId, withCommonHelp } from './command.ts';
import { asUsage, EXIT, infrastructureFailure, UsageError } from './exit.ts';
import { type Io, isoTime, printJson, progressBar } from './output.ts';
import { withArchive } from './target.ts';

export const show = command({
  help: withCommonHelp(`Usage: npm run calls -- show <sessionId> [options]

Prints what is stored for one call: the call item, its participants, recordings and transcripts.`),
  options: {},
  async run({ positionals }, { name, target, json, io }) {
    const sessionId = await oneSessionId(positionals, name);
    const { createCallStore } = await import('../../lib/store/call-store.ts');
    const { stored, tableName } = await withArchive(
      target,
      io,
      async ({ documents, tableName }) => {
        try {
          return {
            stored: await createCallStore({ tableName, client: documents }).load(sessionId),
            tableName,
          };
        } catch (cause) {
          throw infrastructureFailure(`could not read table ${tableName}`, cause);
        }
      },
      { tableOnly: true },
    );
    if (json) {
      // The call item is the whole call; the participant index is derived from it, so it is left out.
      printJson(io, { command: name, target, sessionId, found: stored !== undefined, call: stored?.call });
    } else if (!stored) {
      io.stdout.write(`No call ${sessionId} is stored in table ${tableName}.\n`);
    } else {
      printStoredCall(io, stored);
    }
    return stored ? EXIT.ok : EXIT.failed;
  },
});

export const status = {
  ...show,
  help: withCommonHelp(`Usage: npm run calls -- status <sessionId> [options]

The same as "show".`),
};

function printStoredCall(io: Io, { call }: StoredCall): void {
  const { participants, recordings } = call;
  const show = (value: unknown) => (value === undefined ? '-' : String(value));
  const fields: [string, string][] = [
    ['sessionId', call.sessionId],
    ['type / mode', `${show(call.type)} / ${show(call.mode)}`],
    ['status', call.status],
    ['receiver', `${show(call.receiverType)} ${show(call.receiver)}`],
    ['initiator', show(call.initiator)],
    ['initiatedAt', isoTime(call.initiatedAt)],
    ['startedAt', isoTime(call.startedAt)],
    ['endedAt', isoTime(call.endedAt)],
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
        isoTime(p.joinedAt),
        isoTime(p.leftAt),
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

/** A time option (ISO-8601 or Unix seconds) as Unix seconds. */
async function timeOption(name: string, value: string | undefined): Promise<number | undefined> {
  if (value === undefined) return undefined;
  const { parseTime } = await import('../../lib/backfill/window.ts');
  return asUsage('list', () => parseTime(name, value));
}

export const list = command({
  help: withCommonHelp(`Usage: npm run calls -- list (--user <uid> [--from T] [--to T] | --day <YYYY-MM-DD>
       | --from-day <YYYY-MM-DD> --to-day <YYYY-MM-DD> | --held) [--limit N] [--cursor C] [options]

Lists calls newest first, a page at a time, with the total the query matches. A user's calls come
from the byUser index (times ISO-8601 or Unix seconds, on when the call was initiated); a day's
or a range of days' (UTC, at most 366) from the byDay index. --held scans the table for calls
under legal hold (a full read of the table: an operator command, not for automation).

  --limit <n>         calls per page (default 50)
  --cursor <c>        the page after the one that printed this cursor`),
  options: {
    user: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    day: { type: 'string' },
    'from-day': { type: 'string' },
    'to-day': { type: 'string' },
    held: { type: 'boolean' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
  },
  async run({ positionals, values }, { target, json, io }) {
    noSessionIds(positionals, 'list');
    const byDay =
      values.day !== undefined || values['from-day'] !== undefined || values['to-day'] !== undefined;
    const chosen = [values.user !== undefined, byDay, values.held === true].filter(Boolean).length;
    if (chosen !== 1)
      throw new UsageError(
        'list needs exactly one of --user, --day (or --from-day/--to-day), --held',
        'list',
      );
    if (!values.user && (values.from || values.to))
      throw new UsageError('--from and --to go with --user', 'list');
    if (values.day !== undefined && (values['from-day'] || values['to-day'])) {
      throw new UsageError('--day or --from-day/--to-day, not both', 'list');
    }
    if (byDay && values.day === undefined && (!values['from-day'] || !values['to-day'])) {
      throw new UsageError('a range of days needs both --from-day and --to-day', 'list');
    }
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    const from = await timeOption('from', values.from);
    const to = await timeOption('to', values.to);
    const [{ listByUser, listByDay }, { listHeld }] = await Promise.all([
      import('../../lib/archive/find.ts'),
      import('../../lib/archive/hold.ts'),
    ]);
    const page = await withArchive(
      target,
      io,
      async ({ documents, tableName }) => {
        const deps = { client: documents, tableName };
        const paging = { limit, cursor: values.cursor };
        try {
          if (values.held) {
            const calls = await listHeld(deps);
            return { calls, total: calls.length };
          }
          if (values.user !== undefined)
            return await listByUser(deps, { uid: values.user, from, to }, paging);
          const fromDay = values.day ?? (values['from-day'] as string);
          return await listByDay(deps, { fromDay, toDay: values.day ?? values['to-day'] }, paging);
        } catch (cause) {
          if (cause instanceof RangeError) throw new UsageError(cause.message, 'list');
          throw infrastructureFailure(`could not list calls in table ${tableName}`, cause);
        }
      },
      { tableOnly: true },
    );
    if (json) {
      printJson(io, { command: 'list', target, ...page });
      return EXIT.ok;
    }
    const time = (seconds: number | undefined) => isoTime(seconds).replace('.000Z', 'Z');
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
  },
});

export const download = command({
  help: withCommonHelp(`Usage: npm run calls -- download <sessionId> [--to DIR] [options]

Downloads every recording, transcript and the manifest (call.json) of a call into DIR (default:
./<sessionId>), streaming each through a sha256 and keeping it only when the digest matches the
one the archive stored. A mismatch is an error naming the file (exit 1).`),
  options: { to: { type: 'string' } },
  async run({ positionals, values }, { target, json, io }) {
    const sessionId = await oneSessionId(positionals, 'download');
    const { resolve } = await import('node:path');
    const [{ getCall }, { downloadFile, filesOf }, { IntegrityError }] = await Promise.all([
      import('../../lib/archive/find.ts'),
      import('../../lib/archive/download.ts'),
      import('../../lib/errors.ts'),
    ]);
    const dir = resolve(values.to ?? sessionId);
    type Done = Awaited<ReturnType<typeof downloadFile>>;
    const outcome = await withArchive(target, io, async ({ documents, s3, tableName, bucket }) => {
      let call: Awaited<ReturnType<typeof getCall>>;
      try {
        call = await getCall({ client: documents, tableName }, sessionId);
      } catch (cause) {
        throw infrastructureFailure(`could not read table ${tableName}`, cause);
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
        throw infrastructureFailure(`could not download the files of ${sessionId}`, error);
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
    if (json) {
      printJson(io, { command: 'download', target, sessionId, dir, ...outcome, files });
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
  },
});
