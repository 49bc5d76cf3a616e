/**
 * The analytics record against the Glue table that reads it: every column the template declares
 * is what the function writes (name and type, nested structs too), for every field.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANALYTICS_CALLS_PREFIX,
  analyticsCallBody,
  analyticsCallKey,
  analyticsCallRecord,
  analyticsDay,
} from '../../../lib/analytics/call-record.ts';
import type { CallItem, Participant } from '../../../lib/calls/types.ts';
import { CALL_STATUSES } from '../../../lib/calls/types.ts';
import { fullCallItem, SIGNED_URL } from '../../support/call-items.ts';

// serverless.yml's own YAML reader (CloudFormation tags included), so the test reads what osls reads.
const ROOT = join(import.meta.dirname, '..', '..', '..');
const require = createRequire(join(ROOT, 'node_modules', 'osls', 'package.json'));
const yaml = require('js-yaml') as { load(text: string, options: { schema: unknown }): unknown };
const cfSchema = require('./lib/utils/serverless-utils/cloudformation-schema.js') as unknown;

type GlueType =
  | { kind: 'string' | 'bigint' | 'int' | 'double' | 'boolean' }
  | { kind: 'array'; of: GlueType }
  | { kind: 'struct'; fields: Map<string, GlueType> };

/** Parses a Hive/Glue type such as `array<struct<uid:string,joined_at:bigint>>`. */
function parseGlueType(text: string): GlueType {
  let at = 0;
  const expect_ = (s: string) => {
    if (!text.startsWith(s, at)) throw new Error(`expected "${s}" at ${at} in ${text}`);
    at += s.length;
  };
  const name = () => {
    const m = /^[a-z_][a-z0-9_]*/.exec(text.slice(at));
    if (!m) throw new Error(`expected a name at ${at} in ${text}`);
    at += m[0].length;
    return m[0];
  };
  const type = (): GlueType => {
    const word = name();
    if (word === 'array') {
      expect_('<');
      const of = type();
      expect_('>');
      return { kind: 'array', of };
    }
    if (word === 'struct') {
      expect_('<');
      const fields = new Map<string, GlueType>();
      do {
        if (text[at] === ',') at++;
        const field = name();
        expect_(':');
        fields.set(field, type());
      } while (text[at] === ',');
      expect_('>');
      return { kind: 'struct', fields };
    }
    if (['string', 'bigint', 'int', 'double', 'boolean'].includes(word)) {
      return { kind: word as 'string' };
    }
    throw new Error(`unsupported Glue type ${word} in ${text}`);
  };
  const parsed = type();
  if (at !== text.length) throw new Error(`trailing text in ${text}`);
  return parsed;
}

type Table = {
  Parameters: Record<string, unknown>;
  PartitionKeys: { Name: string; Type: string }[];
  StorageDescriptor: {
    Columns: { Name: string; Type: string }[];
    SerdeInfo: { SerializationLibrary: string };
  };
};

function glueTable(): Table {
  const text = readFileSync(join(ROOT, 'infra', 'analytics.yml'), 'utf8');
  const doc = yaml.load(text, { schema: cfSchema }) as {
    Resources: { AnalyticsCallsTable: { Properties: { TableInput: Table } } };
  };
  return doc.Resources.AnalyticsCallsTable.Properties.TableInput;
}

const table = glueTable();
const columns = new Map(table.StorageDescriptor.Columns.map((c) => [c.Name, parseGlueType(c.Type)]));

/** Where `value` does not fit `type`; an empty list when it does. Absent (undefined) reads as NULL. */
function mismatches(value: unknown, type: GlueType, path: string): string[] {
  if (value === undefined) return [];
  switch (type.kind) {
    case 'string':
      return typeof value === 'string' ? [] : [`${path}: ${JSON.stringify(value)} is not a string`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: ${JSON.stringify(value)} is not a boolean`];
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? [] : [`${path}: not a double`];
    case 'bigint':
    case 'int': {
      const limit = type.kind === 'int' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
      return Number.isInteger(value) && Math.abs(value as number) <= limit
        ? []
        : [`${path}: ${JSON.stringify(value)} is not an ${type.kind}`];
    }
    case 'array':
      return Array.isArray(value)
        ? value.flatMap((item, i) => mismatches(item, type.of, `${path}[${i}]`))
        : [`${path}: not an array`];
    case 'struct': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${path}: not a struct`];
      return Object.entries(value).flatMap(([key, v]) => {
        const field = type.fields.get(key);
        return field ? mismatches(v, field, `${path}.${key}`) : [`${path}.${key}: no such struct field`];
      });
    }
  }
}

function recordMismatches(record: object): string[] {
  return Object.entries(record).flatMap(([key, value]) => {
    const type = columns.get(key);
    return type ? mismatches(value, type, key) : [`${key}: no such column`];
  });
}

/** Every struct field name a record's nested lists use, as `column.field`. */
function nestedFieldsWritten(record: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  for (const [key, value] of Object.entries(record)) {
    if (!Array.isArray(value)) continue;
    for (const item of value) for (const field of Object.keys(item as object)) names.add(`${key}.${field}`);
  }
  return names;
}

function nestedFieldsDeclared(): Set<string> {
  const names = new Set<string>();
  for (const [column, type] of columns) {
    if (type.kind === 'array' && type.of.kind === 'struct') {
      for (const field of type.of.fields.keys()) names.add(`${column}.${field}`);
    }
  }
  return names;
}

describe('the Glue table `calls`', () => {
  it('reads JSON with the OpenX SerDe, partitioned by a projected day under analytics/calls/', () => {
    expect(table.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(table.PartitionKeys).toEqual([{ Name: 'day', Type: 'string' }]);
    expect(table.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.day.type': 'date',
      'projection.day.format': 'yyyy-MM-dd',
    });
    expect(JSON.stringify(table.Parameters['storage.location.template'])).toContain(
      `"/${ANALYTICS_CALLS_PREFIX}day=$","{day}/"`,
    );
  });

  it('declares exactly the columns a fully populated call writes, with the types written', () => {
    const record = analyticsCallRecord(fullCallItem());

    expect(Object.keys(record).sort()).toEqual([...columns.keys()].sort());
    expect(recordMismatches(record)).toEqual([]);
  });

  it('declares exactly the nested fields a fully populated call writes', () => {
    const record = analyticsCallRecord(fullCallItem()) as unknown as Record<string, unknown>;

    expect([...nestedFieldsWritten(record)].sort()).toEqual([...nestedFieldsDeclared()].sort());
  });

  it('never writes a value its column cannot read, whatever the call holds (property)', () => {
    const optionalNumber = fc.option(fc.double({ min: -1e12, max: 1e12, noNaN: true }), { nil: undefined });
    const optionalText = fc.option(fc.string(), { nil: undefined });
    const participant = fc.record<Participant>(
      {
        uid: fc.string({ minLength: 1 }),
        name: optionalText,
        avatar: optionalText,
        deviceId: optionalText,
        state: optionalText,
        isJoined: fc.option(fc.boolean(), { nil: undefined }),
        joinedAt: optionalNumber,
        leftAt: optionalNumber,
        durationSeconds: optionalNumber,
        totalAudioMinutes: optionalNumber,
        totalVideoMinutes: optionalNumber,
      },
      { requiredKeys: ['uid'] },
    );
    const base = fullCallItem();
    const recording = base.recordings[0];
    if (!recording) throw new Error('the fixture has a recording');
    const call = fc.record({
      status: fc.constantFrom(...CALL_STATUSES),
      type: optionalText,
      initiatedAt: optionalNumber,
      startedAt: optionalNumber,
      durationSeconds: optionalNumber,
      totalParticipants: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
      participants: fc.array(participant, { maxLength: 4 }),
      recordingBytes: fc.array(fc.nat(), { maxLength: 3 }),
    });

    fc.assert(
      fc.property(call, ({ recordingBytes, ...fields }) => {
        const item: CallItem = {
          ...base,
          ...fields,
          recordings: recordingBytes.map((bytes, i) => ({ ...recording, rid: `r${i}`, bytes })),
        };
        expect(recordMismatches(analyticsCallRecord(item))).toEqual([]);
      }),
    );
  });
});

describe('analyticsCallRecord', () => {
  it('counts files and bytes, and leaves out avatars, source URLs and digests', () => {
    const call = fullCallItem();
    const record = analyticsCallRecord(call);

    expect(call.participants[0]?.avatar).toBe(SIGNED_URL);
    expect(record).toMatchObject({
      recording_count: 1,
      recording_bytes: 10_485_760,
      transcript_count: 1,
      transcript_bytes: 2048,
    });
    expect(JSON.stringify(record)).not.toMatch(/X-Amz|https?:|avatar|sha256|a{64}/);
  });

  it('writes whole seconds into bigint columns even if a time has a fraction', () => {
    const record = analyticsCallRecord(fullCallItem({ initiatedAt: 1_764_500_000.75 }));

    expect(record.initiated_at).toBe(1_764_500_000);
  });

  it('leaves absent values out (NULL in Athena), never null or empty strings', () => {
    const { type: _t, receiver: _r, initiatedAt: _i, ...call } = fullCallItem({ mode: '' });

    const record = analyticsCallRecord(call);

    for (const key of ['type', 'receiver', 'initiated_at', 'mode']) expect(record).not.toHaveProperty(key);
    expect(JSON.stringify(record)).not.toMatch(/null|""/);
  });

  it('carries what a redacted call holds, so erasure reaches analytics too', () => {
    const hashed = 'h:8f14e45fceea167a';
    const call = fullCallItem();
    const redacted = {
      ...call,
      initiator: hashed,
      participants: call.participants.map((p) => (p.uid === 'alice' ? { uid: hashed, name: hashed } : p)),
    };

    expect(JSON.stringify(analyticsCallRecord(redacted))).not.toMatch(/alice|Alice/);
  });
});

describe('analyticsCallKey', () => {
  it('puts the record under the UTC day the call was initiated, the session id as one segment', () => {
    const call = fullCallItem({
      sessionId: 'v1.us.app/../x y',
      initiatedAt: Date.UTC(2025, 11, 31, 23, 59) / 1000,
    });

    expect(analyticsCallKey(call)).toBe('analytics/calls/day=2025-12-31/v1.us.app%2F..%2Fx%20y.json');
  });

  it('falls back to when the call started or ended, and gives no key for a call with no time at all', () => {
    const { initiatedAt: _i, ...started } = fullCallItem({ startedAt: Date.UTC(2025, 0, 2) / 1000 });
    const { initiatedAt: _a, startedAt: _b, endedAt: _c, ...timeless } = fullCallItem();

    expect(analyticsDay(started)).toBe('2025-01-02');
    expect(analyticsCallKey(timeless)).toBeUndefined();
    expect(analyticsDay({ initiatedAt: 1e15 })).toBeUndefined();
  });

  it('keeps keys within S3 limits for a very long session id', () => {
    const key = analyticsCallKey(fullCallItem({ sessionId: 'x'.repeat(5000) }));

    expect(Buffer.byteLength(key ?? '')).toBeLessThan(300);
  });
});

describe('analyticsCallBody', () => {
  it('is one line of JSON: the SerDe reads one record per line', () => {
    const body = analyticsCallBody(analyticsCallRecord(fullCallItem()));

    expect(body.endsWith('\n')).toBe(true);
    expect(body.trimEnd()).not.toContain('\n');
    expect(JSON.parse(body)).toMatchObject({ session_id: fullCallItem().sessionId });
  });
});
