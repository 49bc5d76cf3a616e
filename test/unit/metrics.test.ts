import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureOutput } from '../support/log-capture.ts';

let metricsModule: typeof import('../../lib/metrics.ts');

beforeAll(async () => {
  // As serverless.yml sets it; the module must take it from there, not from a constant of its own.
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'ArchiveTestNamespace');
  vi.resetModules();
  metricsModule = await import('../../lib/metrics.ts');
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('metrics', () => {
  it('takes its namespace from POWERTOOLS_METRICS_NAMESPACE', () => {
    expect((metricsModule.metrics as unknown as { namespace: string }).namespace).toBe(
      'ArchiveTestNamespace',
    );
  });

  it('emits a failure at once as its own EMF line with the errorName dimension', () => {
    const { countFailure } = metricsModule;
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
      Namespace: 'ArchiveTestNamespace',
      Dimensions: [expect.arrayContaining(['service', 'errorName'])],
    });
  });

  it('counts a rejection with its status as the invocation dimension', () => {
    const { countRejection } = metricsModule;
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
    const { errorNameOf } = metricsModule;
    expect(errorNameOf(new TypeError('x'))).toBe('TypeError');
    expect(errorNameOf('a string')).toBe('Error');
    expect(errorNameOf(Object.assign(new Error('x'), { name: 'bad name with spaces' }))).toBe('Error');
  });
});
