/**
 * What a command is (its help, its options, what it runs), the options and help every command
 * shares, and the argument checks several commands make.
 */
import type { ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { asUsage, UsageError } from './exit.ts';
import type { Io } from './output.ts';
import type { Target } from './target.ts';

/** The options every command takes. */
export const COMMON_OPTIONS = {
  stage: { type: 'string' },
  region: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

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

/** A help text, followed by the options every command takes and the exit codes. */
export function withCommonHelp(text: string): string {
  return `${text}\n\n${COMMON_HELP}\n\n${EXIT_HELP}`;
}

/** What every command is run with, besides its own arguments. */
export interface Context {
  /** The command's name as typed (`show` or `status`, `hold` or `release`). */
  name: string;
  target: Target;
  json: boolean;
  io: Io;
}

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O & typeof COMMON_OPTIONS; allowPositionals: true; strict: true }>
>;

/** One command: its help, its own options (besides COMMON_OPTIONS), and what it runs. */
export interface Command {
  readonly help: string;
  readonly options: ParseArgsOptionsConfig;
  run(parsed: { positionals: string[]; values: object }, context: Context): Promise<number>;
}

/** A command whose `run` sees its options' values typed. */
export function command<const O extends ParseArgsOptionsConfig>(spec: {
  help: string;
  options: O;
  run(parsed: Parsed<O>, context: Context): Promise<number>;
}): Command {
  // The entry parses with exactly `spec.options` (plus the common ones), so the values fit.
  return spec as unknown as Command;
}

/** The one session id `name` takes, checked as enrichment checks it. */
export async function oneSessionId(positionals: readonly string[], name: string): Promise<string> {
  if (positionals.length !== 1) throw new UsageError(`${name} takes exactly one session id`, name);
  const { parseSessionId } = await import('../../lib/calls/session-id.ts');
  return asUsage(name, () => parseSessionId(positionals[0]));
}

/** Refuses session ids for a command that takes none. */
export function noSessionIds(positionals: readonly string[], name: string, hint = ''): void {
  if (positionals.length > 0) throw new UsageError(`${name} takes no session ids${hint}`, name);
}
