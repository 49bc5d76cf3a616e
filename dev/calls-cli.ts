/**
 * `npm run calls -- <command>`: the operator's tool, against the local stack (the same `.local/`
 * data `npm start` uses, and the CometChat simulator unless real credentials are set) or, with
 * `--stage`, a deployed stage. This entry parses and dispatches; each command group is a module
 * in dev/cli/.
 */
import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMMON_OPTIONS, type Command, withCommonHelp } from './cli/command.ts';
import { backfill, enrich } from './cli/enrich.ts';
import { erase } from './cli/erase.ts';
import { EXIT, UsageError } from './cli/exit.ts';
import { download, list, show, status } from './cli/find.ts';
import { hold, release } from './cli/hold.ts';
import type { Io } from './cli/output.ts';
import { rebuild } from './cli/rebuild.ts';
import { resolveTarget } from './cli/target.ts';
import { loadDotEnv } from './cli-support.ts';

export { EXIT } from './cli/exit.ts';
export type { Io } from './cli/output.ts';

const COMMANDS: Readonly<Record<string, Command>> = {
  enrich,
  backfill,
  status,
  show,
  list,
  download,
  hold,
  release,
  erase,
  rebuild,
};

const MAIN_HELP = withCommonHelp(`Usage: npm run calls -- <command> [options]

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
sample calls.`);

function helpOf(name: string | undefined): string {
  return (name !== undefined && COMMANDS[name]?.help) || MAIN_HELP;
}

/** Runs the tool with `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let name: string | undefined;
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      if (topic !== undefined && !Object.hasOwn(COMMANDS, topic)) {
        throw new UsageError(`unknown command "${topic}"`);
      }
      if (first === undefined) throw new UsageError('a command is needed');
      io.stdout.write(`${helpOf(topic)}\n`);
      return EXIT.ok;
    }
    const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (!command) throw new UsageError(`unknown command "${first}"`);
    name = first;
    let parsed: { positionals: string[]; values: Partial<Record<string, string | boolean>> };
    try {
      parsed = parseArgs({
        args: rest as string[],
        options: { ...COMMON_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError((error as Error).message, name);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout.write(`${command.help}\n`);
      return EXIT.ok;
    }
    const target = resolveTarget(values as { stage?: string; region?: string; 'data-dir'?: string }, io.env);
    return await command.run({ positionals, values }, { name, target, json: values.json === true, io });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`Error: ${error.message}\n\n${helpOf(error.command ?? name)}\n`);
      return EXIT.usage;
    }
    const { name: errorName, message } = error as Error;
    io.stderr.write(`Error: ${errorName}: ${message}\n`);
    return EXIT.infrastructure;
  }
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
