/**
 * What the two local tools share (`npm start`, dev/start.ts, and `npm run calls`, dev/calls-cli.ts):
 * the repository's `.env`, the choice between real CometChat and the simulator, the day the sample
 * calls are anchored to, and plain-text output. The enrichment itself is dev/enrich-locally.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (where `.env` and the default `.local/` data folder live). */
export const ROOT = join(import.meta.dirname, '..');

/** Loads `.env` at the repository root into `process.env`, when there is one. */
export function loadDotEnv(): void {
  const file = join(ROOT, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

/** The credentials that select the real CometChat API; without all three, the tools use the simulator. */
export const COMETCHAT_CREDENTIALS = ['COMETCHAT_APP_ID', 'COMETCHAT_REGION', 'COMETCHAT_API_KEY'] as const;

/** Every CometChat setting a tool hands on to the local stack. */
const COMETCHAT_SETTINGS = [
  ...COMETCHAT_CREDENTIALS,
  'COMETCHAT_BASE_URL',
  'RECORDING_ALLOWED_HOSTS',
] as const;

/** True when every CometChat credential is set (and not empty) in `env`. */
export function hasCometChatCredentials(env: NodeJS.ProcessEnv): boolean {
  return COMETCHAT_CREDENTIALS.every((name) => env[name]);
}

/** The CometChat settings `env` sets (empty ones left out), for the local stack's `cometChatEnv`. */
export function pickCometChatEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(COMETCHAT_SETTINGS.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}

/**
 * Sample calls are anchored to the UTC day, so a second run on the same day, by either tool, finds
 * the same calls already stored (and shows nothing re-downloaded), while a new day brings new ones.
 */
export function startOfUtcDay(now = Date.now()): number {
  return now - (now % 86_400_000);
}

/** A byte count for people: `512 B`, `1.5 KiB`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** `text` cut to `max` characters, the last one an ellipsis when anything was cut. */
export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A plain-text table: a header, a rule, then the rows, columns padded to fit. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
