import { describe, expect, it } from 'vitest';
import { countFailure, countRejection, errorNameOf, METRICS_NAMESPACE, metrics } from '../../lib/metrics.ts';
import { captureOutput } from '../support/log-capture.ts';

describe('metrics', () => {
  it('uses the project namespace', () => {
    expect(METRICS_NAMESPACE).toBe('CometChatCallArchive');
    expect((metrics as unknown as { namespace: string }).namespace).toBe('CometChatCallArchive');
  });

  it('emits a failure at once as its own EMF line with the errorName dimension', () => {
    const output = captureOutput();
    try {
      countFailure(Object.assign(new Error('x'), { name: 'CallNotFoundError' }));
    } finally {
      output.stop();
    }

    const lines = output.lines().filter((line) => line.includes('"_aws"'));
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0] as string);
    expect(emf).toMatchObject({ errorName: 'CallNotFoundError', EnrichmentFailures: 1 });
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'CometChatCallArchive',
      Dimensions: [expect.arrayContaining(['service', 'errorName'])],
    });
  });

  it('counts a rejection with its status as the invocation dimension', () => {
    const calls: unknown[][] = [];
    const sink = {
      addDimension: (...args: unknown[]) => void calls.push(['dimension', ...args]),
      addMetric: (...args: unknown[]) => void calls.push(['metric', ...args]),
    };

    countRejection(401, sink as never);

    expect(calls).toEqual([
      ['dimension', 'status', '401'],
      ['metric', 'WebhookRejected', 'Count', 1],
    ]);
  });

  it('keeps error names dimension-safe', () => {
    expect(errorNameOf(new TypeError('x'))).toBe('TypeError');
    expect(errorNameOf('a string')).toBe('Error');
    expect(errorNameOf(Object.assign(new Error('x'), { name: 'bad name with spaces' }))).toBe('Error');
  });
});
