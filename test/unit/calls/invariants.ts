/**
 * Checks shared by the unit and property tests of lib/calls: what every normalised call must
 * satisfy, whatever CometChat sent.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { CALL_STATUSES, type NormalisedCall } from '../../../lib/calls/types.ts';

/** The raw `data` object of a Get Call fixture, unwrapped from its object-or-array envelope. */
export function loadCallFixture(name: string): unknown {
  const url = new URL(`../../fixtures/cometchat/${name}`, import.meta.url);
  const body = JSON.parse(readFileSync(url, 'utf8')) as { data: unknown };
  return Array.isArray(body.data) ? body.data[0] : body.data;
}

/** Paths of every `undefined`, `null` or `''` value (or non-finite number) anywhere in `value`. */
export function absentValueViolations(value: unknown, at = '$'): string[] {
  if (value === undefined || value === null || value === '') return [at];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => absentValueViolations(v, `${at}[${i}]`));
  if (typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => absentValueViolations(v, `${at}.${k}`));
  }
  return [];
}

/** Asserts the invariants of a normalised call (keys, statuses, counts, absent values). */
export function expectValidNormalisedCall(result: NormalisedCall): void {
  const { call, recordings } = result;
  expect(absentValueViolations(result)).toEqual([]);
  expect(call.pk).toBe(`CALL#${call.sessionId}`);
  expect(call.sk).toBe('CALL');
  expect(call.entity).toBe('call');
  expect(CALL_STATUSES).toContain(call.status);
  expect(typeof call.hasRecording).toBe('boolean');
  expect(call.recordings).toEqual([]);
  expect(call.transcripts).toEqual([]);
  if (recordings.length > 0) expect(call.hasRecording).toBe(true);
  // byDay: initiatedAt, else startedAt (sometimes sent in its place); neither, no day.
  const at = call.initiatedAt ?? call.startedAt;
  expect(call.gsi2pk === undefined).toBe(at === undefined);
  if (at !== undefined) {
    const iso = new Date(at * 1000).toISOString();
    expect(call.gsi2pk).toBe(`DAY#${iso.slice(0, 10)}`);
    expect(call.gsi2sk).toBe(`${iso}#${call.sessionId}`);
  }
  for (const key of ['initiatedAt', 'startedAt', 'endedAt', 'durationSeconds'] as const) {
    const n = call[key];
    if (n !== undefined) expect(n).toBeGreaterThanOrEqual(0);
  }
  if (call.durationSeconds !== undefined) expect(Number.isInteger(call.durationSeconds)).toBe(true);

  for (const p of call.participants) {
    expect(p.uid.trim()).not.toBe('');
    if (p.durationSeconds !== undefined) expect(Number.isInteger(p.durationSeconds)).toBe(true);
  }

  const rids = recordings.map((r) => r.rid);
  expect(new Set(rids).size).toBe(rids.length);
  expect(rids).toEqual([...rids].sort());
  for (const r of recordings) {
    expect(r.rid.trim()).not.toBe('');
    expect(r.rid.isWellFormed()).toBe(true);
    const url = new URL(r.url);
    const source = new URL(r.sourceUrl);
    expect(source.search).toBe('');
    expect(source.hash).toBe('');
    expect(source.username).toBe('');
    expect(source.password).toBe('');
    expect(source.origin).toBe(url.origin);
    expect(source.pathname).toBe(url.pathname);
  }
}
