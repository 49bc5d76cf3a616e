import { describe, expect, it } from 'vitest';
import type { BackfillResult } from '../../../lib/backfill/backfill.ts';
import { reportBackfill } from '../../../lib/backfill/observe.ts';
import type { MetricsSink } from '../../../lib/metrics.ts';
import { rejectionOf } from '../../support/errors.ts';

function recorder() {
  const metrics: [string, number][] = [];
  const lines: [string, string, Record<string, unknown>][] = [];
  const sink = {
    addMetric: (name: string, _unit: string, value: number) => void metrics.push([name, value]),
  } as unknown as MetricsSink;
  const logger = {
    info: (message: string, extra: Record<string, unknown>) => void lines.push(['info', message, extra]),
    error: (message: string, extra: Record<string, unknown>) => void lines.push(['error', message, extra]),
  };
  return { sink, logger, metrics, lines };
}

const RESULT: BackfillResult = {
  from: '2024-05-01T00:00:00.000Z',
  to: '2024-05-02T00:00:00.000Z',
  pages: 3,
  listed: 250,
  enqueued: 40,
  checkpoint: '2024-05-02T00:00:00.000Z',
  checkpointAdvanced: true,
  skipped: 210,
  reconciled: 4,
  eligible: 40,
  transcriptFrom: '2024-05-01T00:00:00.000Z',
  transcriptPages: 2,
  transcriptListed: 120,
  transcriptRechecked: 6,
  transcriptComplete: true,
  dryRun: false,
  complete: true,
  sessionIds: ['v1.a'],
};

describe('reportBackfill', () => {
  it('counts what a finished run did and logs its summary without the sample of ids', async () => {
    const r = recorder();

    const result = await reportBackfill(Promise.resolve(RESULT), r.logger, r.sink);

    expect(result).toBe(RESULT);
    expect(r.metrics).toEqual([
      ['BackfillPages', 3],
      ['BackfillListed', 250],
      ['BackfillEnqueued', 40],
      ['BackfillReconciled', 4],
      ['BackfillTranscriptPages', 2],
      ['BackfillTranscriptRechecked', 6],
      ['BackfillManifested', 0],
      ['BackfillIncomplete', 0],
    ]);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]?.[1]).toBe('backfill finished');
    expect(r.lines[0]?.[2]).not.toHaveProperty('sessionIds');
  });

  it('counts and logs a run that threw, and throws it on', async () => {
    const r = recorder();
    const failure = new Error('SQS is down');

    const error = await rejectionOf(reportBackfill(Promise.reject(failure), r.logger, r.sink));

    expect(error).toBe(failure);
    expect(r.metrics).toEqual([['BackfillFailed', 1]]);
    expect(r.lines).toEqual([['error', 'backfill failed', { error: failure }]]);
  });
});
