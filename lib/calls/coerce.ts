/**
 * Small, total coercers for untrusted JSON: each returns a usable value or `undefined` (absent),
 * and none of them throws, whatever it is given.
 */

/** A JSON object (not an array, not null) whose own enumerable properties we may read. */
export type JsonObject = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads an own enumerable property. Inherited ones (a polluted `Object.prototype`, an input built
 * with `Object.create`) and a JSON `"__proto__"` key never leak into a record through here.
 */
export function field(object: JsonObject, key: string): unknown {
  return Object.prototype.propertyIsEnumerable.call(object, key) ? object[key] : undefined;
}

/** Follows a path of own properties through nested objects; absent as soon as a step is not an object. */
export function path(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isObject(current)) return undefined;
    current = field(current, key);
  }
  return current;
}

/** Longest free-text attribute we keep; a name or mode longer than this is not CometChat's. */
const MAX_TEXT_LENGTH = 1024;

/**
 * A non-empty string that has something besides whitespace, cut to a sane length, with any
 * unpaired surrogate replaced (DynamoDB stores UTF-8 and rejects what cannot be encoded).
 */
export function toText(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value.slice(0, MAX_TEXT_LENGTH).toWellFormed();
}

/** True for a C0 control, DEL or a C1 control (U+0000–U+001F, U+007F–U+009F). */
function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/** Index of the first control character (U+0000–U+001F, U+007F–U+009F), or -1. */
export function indexOfControlCharacter(value: string): number {
  for (let i = 0; i < value.length; i++) {
    if (isControl(value.charCodeAt(i))) return i;
  }
  return -1;
}

/**
 * An identifier (uid, device id) as given: non-empty, not only whitespace, no control
 * characters, well-formed UTF-16. Not trimmed, and not limited in length here: the store
 * shortens long ids in keys and names any limit a call goes beyond.
 */
export function toIdentifier(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (indexOfControlCharacter(value) !== -1 || !value.isWellFormed()) return undefined;
  return value;
}

const NUMERIC_STRING = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Largest quantity (minutes, counts) we believe. It keeps every stored number well inside
 * DynamoDB's number range, which rejects the whole item otherwise.
 */
const MAX_QUANTITY = 1e12;
/** Smallest non-zero quantity we believe; DynamoDB cannot store much below 1e-130 at all. */
const MIN_POSITIVE_QUANTITY = 1e-9;

/**
 * A finite number from a number or a plain decimal string (`"21.433000"`, `"1696937627"`);
 * not from `""`, `"0x10"`, `"Infinity"` or `true`, which `Number()` would happily accept.
 */
export function toNumber(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (!NUMERIC_STRING.test(trimmed)) return undefined;
    n = Number(trimmed);
  } else {
    return undefined;
  }
  if (!Number.isFinite(n)) return undefined;
  // Normalises -0, which would otherwise survive into records and comparisons.
  return n === 0 ? 0 : n;
}

/** A non-negative quantity in a plausible range (fractions allowed); absent otherwise. */
export function toQuantity(value: unknown): number | undefined {
  const n = toNumber(value);
  if (n === undefined || n < 0 || n > MAX_QUANTITY) return undefined;
  if (n > 0 && n < MIN_POSITIVE_QUANTITY) return undefined;
  return n;
}

/** A non-negative whole number in a plausible range; absent for fractions. */
export function toCount(value: unknown): number | undefined {
  const n = toQuantity(value);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

/** Above this a timestamp cannot be seconds (year 5138), so it is taken as milliseconds. */
const MILLISECONDS_THRESHOLD = 1e11;

/**
 * Unix seconds from seconds or milliseconds (numbers or numeric strings). Milliseconds are
 * floored to whole seconds, which is what CometChat documents. Negative, non-finite or
 * too-large-even-for-milliseconds values are absent (they would also break `toISOString`).
 */
export function toUnixSeconds(value: unknown): number | undefined {
  const n = toNumber(value);
  if (n === undefined || n < 0) return undefined;
  const seconds = n > MILLISECONDS_THRESHOLD ? Math.floor(n / 1000) : n;
  return seconds > MILLISECONDS_THRESHOLD ? undefined : seconds;
}

/** `true`/`false`, `"true"`/`"false"` (any case) and `1`/`0`; anything else is absent. */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return undefined;
}

const CLOCK = /^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/;

/** Seconds from `"HH:MM:SS"` or `"MM:SS"` (fractional seconds allowed); absent otherwise. */
export function clockToSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = CLOCK.exec(value.trim());
  if (match === null) return undefined;
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  const total = Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  return Number.isFinite(total) && total <= MAX_QUANTITY ? total : undefined;
}

/** Whole seconds from a measured or reported length; absent when negative or implausible. */
export function toDurationSeconds(seconds: number | undefined): number | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_QUANTITY) {
    return undefined;
  }
  return Math.round(seconds);
}

/** `end - start` when both are known and in order. */
export function span(start: number | undefined, end: number | undefined): number | undefined {
  return start !== undefined && end !== undefined && end >= start ? end - start : undefined;
}

/** A copy of `record` without its `undefined`-valued properties: absent values are absent keys. */
export function dropAbsent<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

/** Besides controls, characters that could disguise a log line: line separators, bidi controls. */
function isUnprintable(code: number): boolean {
  return (
    isControl(code) ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * A quoted, escaped, shortened rendering of an untrusted string for an error message: control
 * characters become `\uXXXX` and only the first `max` characters are shown.
 */
export function quoteForMessage(value: string, max = 64): string {
  const shown = (value.length > max ? value.slice(0, max) : value).toWellFormed();
  let escaped = '';
  for (const char of shown) {
    const code = char.charCodeAt(0);
    if (char === '\\' || char === '"') escaped += `\\${char}`;
    else if (isUnprintable(code)) escaped += `\\u${code.toString(16).padStart(4, '0')}`;
    else escaped += char;
  }
  return `"${escaped}"${value.length > max ? '…' : ''}`;
}

/** A code-unit comparison: the same order everywhere, unlike `localeCompare`. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders possibly-absent numbers: known values first, ascending. */
export function compareOptionalNumbers(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  return a - b;
}

/** The record's own enumerable `[key, value]` pairs, in key order. */
export function sortedEntries(record: object): [string, unknown][] {
  return Object.entries(record).sort(([a], [b]) => compareStrings(a, b));
}

/** JSON with object keys sorted at every depth (arrays keep their order): equal data, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(sortedEntries(v)) : v,
  );
}
