/**
 * The analytics record against the Glue table that reads it: every column the template declares
 * is what the function writes (name and type, nested structs too), for every field.
 */
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
import { columns, nestedFieldsDeclared, nestedFieldsWritten, recordMismatches, table } from './glue-table.ts';

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
