/**
 * The Glue table `calls` as infra/analytics.yml declares it, and where a written analytics record
 * does not fit it (names and types, nested structs too). Shared by the record's unit test and the
 * integration test that reads records back from S3.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

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

/** The table's input, as the template declares it. */
export const table = glueTable();
/** Column name -> parsed type. */
export const columns = new Map(table.StorageDescriptor.Columns.map((c) => [c.Name, parseGlueType(c.Type)]));

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

/** Where `record` does not fit the table's columns; an empty list when it does. */
export function recordMismatches(record: object): string[] {
  return Object.entries(record).flatMap(([key, value]) => {
    const type = columns.get(key);
    return type ? mismatches(value, type, key) : [`${key}: no such column`];
  });
}

/** Every struct field name a record's nested lists use, as `column.field`. */
export function nestedFieldsWritten(record: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  for (const [key, value] of Object.entries(record)) {
    if (!Array.isArray(value)) continue;
    for (const item of value) for (const field of Object.keys(item as object)) names.add(`${key}.${field}`);
  }
  return names;
}

/** Every struct field name the table declares in its nested lists, as `column.field`. */
export function nestedFieldsDeclared(): Set<string> {
  const names = new Set<string>();
  for (const [column, type] of columns) {
    if (type.kind === 'array' && type.of.kind === 'struct') {
      for (const field of type.of.fields.keys()) names.add(`${column}.${field}`);
    }
  }
  return names;
}
