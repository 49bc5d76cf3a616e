import { describe, expect, it } from 'vitest';
import { renderRows, rowOf } from '../../../dev/enrich-locally.ts';

const recording = (copied: boolean) => ({
  rid: 'r',
  bucket: 'b',
  key: 'k',
  bytes: 3 * 1024 * 1024,
  sha256: '0'.repeat(64),
  copied,
});

describe('rowOf', () => {
  it('counts recordings copied and their size, and transcripts copied', () => {
    const row = rowOf('s1', {
      result: {
        sessionId: 's1',
        status: 'ended',
        participants: 3,
        recordings: [recording(true), recording(false)],
        transcripts: [
          { tid: 't1', bucket: 'b', key: 'k1', bytes: 10, sha256: '1'.repeat(64), copied: true },
          { tid: 't2', bucket: 'b', key: 'k2', bytes: 10, sha256: '2'.repeat(64), copied: false },
          { tid: 't3', bucket: 'b', key: 'k3', bytes: 10, sha256: '3'.repeat(64), copied: true },
        ],
      },
    });

    expect(row).toEqual({
      sessionId: 's1',
      ok: true,
      status: 'ended',
      participants: 3,
      recordings: '2 (1 copied, 6.0 MiB)',
      transcripts: '3 (2 copied)',
      result: 'ok',
    });
  });

  it('shows 0 for a call without recordings', () => {
    const row = rowOf('s1', {
      result: { sessionId: 's1', status: 'ended', participants: 2, recordings: [], transcripts: [] },
    });

    expect(row.recordings).toBe('0');
  });

  it('names the error of a failed call', () => {
    const row = rowOf('s1', { error: { name: 'CallNotFoundError', message: 'no call s1' } });

    expect(row).toEqual({ sessionId: 's1', ok: false, result: 'CallNotFoundError: no call s1' });
  });
});

describe('renderRows', () => {
  it('prints the table, then how many calls were enriched and how many failed', () => {
    const text = renderRows([
      rowOf('s1', {
        result: { sessionId: 's1', status: 'ended', participants: 2, recordings: [], transcripts: [] },
      }),
      rowOf('s2', { error: { name: 'CallNotFoundError', message: 'no call s2' } }),
    ]);

    expect(text.split('\n')).toEqual([
      'sessionId  status  participants  recordings  transcripts  result',
      `---------  ------  ------------  ----------  -----------  ${'-'.repeat('CallNotFoundError: no call s2'.length)}`,
      's1         ended   2             0           0            ok',
      's2         -       -             -           -            CallNotFoundError: no call s2',
      '',
      '1 of 2 calls enriched, 1 failed.',
    ]);
  });
});
