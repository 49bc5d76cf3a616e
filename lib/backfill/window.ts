/**
 * The backfill's input and time window: parses `{from?, to?, dryRun?}` (times as ISO-8601 or
 * Unix seconds, numeric strings included), treats an EventBridge Scheduled Event as `{}`, and
 * resolves the window from the stored checkpoint when `from`/`to` are not given. Pure: no I/O.
 */
import { BackfillInputError } from '../errors.ts';

/** What the caller asked for, validated; times in Unix seconds. */
export interface BackfillInput {
  from?: number;
  to?: number;
  dryRun: boolean;
}

/** The window a run covers, inclusive at both ends, in Unix seconds. */
export interface TimeWindow {
  from: number;
  to: number;
}

/** How the defaults are chosen. */
export interface WindowDefaults {
  /** Epoch milliseconds. */
  now: number;
  /** The stored high-water mark (Unix seconds), if any. */
  checkpoint: number | undefined;
  /** Taken off the checkpoint, so calls listed late are still seen. */
  overlapSeconds: number;
  /** How far back a run goes when there is no checkpoint. */
  lookbackSeconds: number;
}

/** The resolved window, and how it was arrived at. */
export interface ResolvedWindow extends TimeWindow {
  /** `to` was in the future and was brought back to now. */
  clamped: boolean;
  /** `from` came from the checkpoint or the look-back, not from the input. */
  defaultFrom: boolean;
}

/** 9999-12-31T23:59:59Z: past it, `toISOString` breaks. */
const MAX_SECONDS = 253_402_300_799;
const DECIMAL = /^\d{1,15}(\.\d{1,9})?$/;
/** A calendar date, optionally with a time that then needs a zone (`Z` or `±HH:MM`). */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/;
const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : String(value);
}

function seconds(name: string, value: number): number {
  if (value > MAX_SECONDS && value <= MAX_SECONDS * 1000) {
    throw new BackfillInputError(
      `${name} looks like milliseconds; give Unix seconds, got ${describe(value)}`,
    );
  }
  if (!Number.isFinite(value) || value < 0 || value > MAX_SECONDS) {
    throw new BackfillInputError(`${name} must be a time between 1970 and 9999, got ${describe(value)}`);
  }
  return Math.floor(value);
}

/** Whether the fields of an ISO date (and time) name a real instant; `Date.parse` rolls 02-30 over. */
function validCalendar(match: RegExpExecArray): boolean {
  const [, y, mo, d, h = '0', mi = '0', s = '0'] = match;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  return (
    date.getUTCFullYear() === Number(y) &&
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 60
  );
}

/**
 * Unix seconds from a number of seconds, a numeric string, or an ISO-8601 date (`2024-05-01`,
 * taken as UTC midnight) or date-time with a zone. Fractions are floored. Anything else, a
 * negative time, a date-time without a zone, or a value that looks like milliseconds is an
 * `BackfillInputError` naming the field.
 */
export function parseTime(name: string, value: unknown): number {
  if (typeof value === 'number') return seconds(name, value);
  if (typeof value !== 'string') {
    throw new BackfillInputError(`${name} must be an ISO-8601 time or Unix seconds, got ${describe(value)}`);
  }
  const text = value.trim();
  if (DECIMAL.test(text)) return seconds(name, Number(text));
  const match = ISO_DATE_TIME.exec(text) ?? ISO_DATE.exec(text);
  if (match && validCalendar(match)) {
    const ms = Date.parse(text.replace(' ', 'T').toUpperCase());
    if (Number.isFinite(ms)) return seconds(name, ms / 1000);
  }
  if (ISO_WITHOUT_ZONE.test(text)) {
    throw new BackfillInputError(`${name} needs a time zone (Z or ±HH:MM), got ${describe(value)}`);
  }
  throw new BackfillInputError(`${name} must be an ISO-8601 time or Unix seconds, got ${describe(value)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** EventBridge's `{"source":"aws.events","detail-type":"Scheduled Event",…}`. */
export function isScheduledEvent(event: unknown): boolean {
  return isObject(event) && event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event';
}

function parseDryRun(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new BackfillInputError(`dryRun must be a boolean, got ${describe(value)}`);
}

/**
 * Validates a backfill event. `undefined`, `null` and a Scheduled Event mean `{}`; other fields
 * are ignored. Throws `BackfillInputError` for a bad `from`, `to` or `dryRun`, or `from` > `to`.
 */
export function parseBackfillInput(event: unknown): BackfillInput {
  if (event === undefined || event === null || isScheduledEvent(event)) return { dryRun: false };
  if (!isObject(event)) throw new BackfillInputError(`the event must be an object, got ${describe(event)}`);
  const input: BackfillInput = { dryRun: parseDryRun(event.dryRun) };
  if (event.from !== undefined && event.from !== null) input.from = parseTime('from', event.from);
  if (event.to !== undefined && event.to !== null) input.to = parseTime('to', event.to);
  if (input.from !== undefined && input.to !== undefined && input.from > input.to) {
    throw new BackfillInputError(`from (${isoOf(input.from)}) is after to (${isoOf(input.to)})`);
  }
  return input;
}

/**
 * The window a run covers: `to` defaults to now and is clamped to it; `from` defaults to the
 * checkpoint less the overlap, or to `lookbackSeconds` before `to`'s default when there is no
 * checkpoint. Throws `BackfillInputError` when the result is empty (`from` > `to`).
 */
export function resolveWindow(input: BackfillInput, defaults: WindowDefaults): ResolvedWindow {
  const nowSeconds = Math.floor(defaults.now / 1000);
  const clamped = input.to !== undefined && input.to > nowSeconds;
  const to = input.to === undefined || clamped ? nowSeconds : input.to;
  const defaultFrom = input.from === undefined;
  const from =
    input.from ??
    Math.max(
      0,
      defaults.checkpoint === undefined
        ? nowSeconds - defaults.lookbackSeconds
        : defaults.checkpoint - defaults.overlapSeconds,
    );
  if (from > to) {
    const source = defaultFrom ? ' (from the checkpoint less the overlap)' : '';
    throw new BackfillInputError(`from (${isoOf(from)})${source} is after to (${isoOf(to)})`);
  }
  return { from, to, clamped, defaultFrom };
}

/** Unix seconds as an ISO-8601 string (`2024-05-01T12:00:00.000Z`). */
export function isoOf(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}
