import { describe, expect, it } from 'vitest';
import { observeWith } from '../../../lib/enrich/observe.ts';
import { METRIC, type MetricsSink } from '../../../lib/metrics.ts';

function recordingSink() {
  const added: [string, string, number][] = [];
  const single: { dimensions: Record<string, string>; metrics: [string, number][] }[] = [];
  const sink = {
    addMetric: (name: string, unit: string, value: number) => {
      added.push([name, unit, value]);
    },
    singleMetric: () => {
      const entry = { dimensions: {} as Record<string, string>, metrics: [] as [string, number][] };
      single.push(entry);
      return {
        addDimension: (name: string, value: string) => {
          entry.dimensions[name] = value;
        },
        addMetric: (name: string, _unit: string, value: number) => {
          entry.metrics.push([name, value]);
        },
      };
    },
  } as unknown as MetricsSink;
  return { sink, added, single };
}

const quietLogger = { info: () => {}, debug: () => {}, warn: () => {} };

describe('observeWith', () => {
  it('counts a copied recording and its bytes, and a saved call', () => {
    const { sink, added } = recordingSink();
    const observe = observeWith(quietLogger, sink);

    observe({ kind: 'recording', sessionId: 's', rid: 'r', copied: true, bytes: 1234 });
    observe({ kind: 'recording', sessionId: 's', rid: 'r2', copied: false, bytes: 0 });
    observe({ kind: 'saved', sessionId: 's', outcome: 'written' as never });

    expect(added).toEqual([
      [METRIC.RecordingsCopied, 'Count', 1],
      [METRIC.RecordingBytes, 'Bytes', 1234],
      [METRIC.CallsEnriched, 'Count', 1],
    ]);
  });

  it('still only logs when given no metrics sink', () => {
    const lines: string[] = [];
    const observe = observeWith({ ...quietLogger, info: (message: string) => void lines.push(message) });

    observe({ kind: 'saved', sessionId: 's', outcome: 'written' as never });

    expect(lines).toEqual(['call saved']);
  });
});
