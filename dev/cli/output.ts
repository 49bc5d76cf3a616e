/** How every command writes: tables for people, `--json` for scripts, a progress bar on a terminal. */
import { renderTable } from '../cli-support.ts';

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

/** `value` as indented JSON on stdout (the `--json` output). */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A flat record as a field/value table; nested values as JSON. */
export function fieldTable(record: Record<string, unknown>): string {
  return renderTable(
    ['field', 'value'],
    Object.entries(record).map(([k, v]) => [
      k,
      typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v),
    ]),
  );
}

/** Session ids as a one-column table. */
export function sessionIdTable(sessionIds: readonly string[]): string {
  return renderTable(
    ['sessionId'],
    sessionIds.map((id) => [id]),
  );
}

/** Unix seconds as an ISO-8601 time, `-` when unknown. */
export function isoTime(seconds: number | undefined): string {
  return seconds === undefined ? '-' : new Date(seconds * 1000).toISOString();
}
