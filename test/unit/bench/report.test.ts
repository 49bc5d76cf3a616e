import { describe, expect, it } from 'vitest';
import type { CopyResults, CopySummary } from '../../../bench/recording-copy.ts';
import {
  type BenchResults,
  GENERATED_END,
  GENERATED_START,
  generatedSection,
  memoryChart,
  targetChecks,
  updateDocument,
} from '../../../bench/report.ts';

const MiB = 1024 * 1024;

function summary(mode: CopySummary['mode'], sizeMiB: number, ms: number, rss: number[]): CopySummary {
  return {
    mode,
    bytes: sizeMiB * MiB,
    runs: rss.length,
    ms,
    cpuMs: ms / 2,
    maxRssMiB: [...rss].sort((a, b) => a - b)[Math.floor(rss.length / 2)] as number,
    startRssMiB: 80,
    arrayBuffersMiB: 30,
    heapUsedMiB: 20,
    allMaxRssMiB: rss,
    servedBytes: sizeMiB * MiB,
  };
}

function copyResults(
  projectRss: number[],
  timed: { ranged: number; unranged: number } = { ranged: 0.3, unranged: 1.02 },
  rerunMiB = 400,
): CopyResults {
  const floor = summary('floor', 64, 16_000, [150]);
  return {
    memorySizeMiB: 512,
    nodeFlags: ['--max-semi-space-size=25', '--max-old-space-size=461'],
    bytesPerSecond: 4 * MiB,
    concurrency: 4,
    timed: {
      floor,
      ranged: summary('project', 64, 16_000 * timed.ranged, [90]),
      unranged: summary('project', 64, 16_000 * timed.unranged, [90]),
    },
    compared: [256, 1024].map((size, i) => ({
      floor: summary('floor', size, size * 10, [150, 160, 170]),
      project: summary('project', size, size * 10.5, [projectRss[i] ?? 100]),
    })),
    resume: {
      bytes: 1024 * MiB,
      killedAfterBytes: 620 * MiB,
      rerun: { ...floor, servedBytes: rerunMiB * MiB },
    },
    breakdown: [],
  };
}

function results(copy: CopyResults): BenchResults {
  return {
    startedAt: '2026-01-02T03:04:05.000Z',
    durationMs: 123_000,
    machine: { cpus: 2, model: 'Test CPU', node: '24.0.0', load: [1, 1, 1] },
    serviceSource: 'serverless.yml',
    functions: [{ name: 'enrichCall', memorySize: 512, timeout: 300 }],
    copy,
    skipped: [{ name: 'backfill', reason: 'not selected (--only)' }],
  };
}

describe('updateDocument', () => {
  it('replaces only the generated part and keeps the hand-written analysis', () => {
    // Arrange
    const existing = `# Benchmarks\n\nIntro.\n\n${GENERATED_START}\nold figures\n${GENERATED_END}\n\n## Analysis\n\nKept by hand.\n`;

    // Act
    const updated = updateDocument(existing, `${GENERATED_START}\nnew figures\n${GENERATED_END}`);

    // Assert
    expect(updated).toContain('new figures');
    expect(updated).not.toContain('old figures');
    expect(updated.startsWith('# Benchmarks\n\nIntro.\n\n')).toBe(true);
    expect(updated.endsWith('## Analysis\n\nKept by hand.\n')).toBe(true);
  });

  it('starts a document with both markers when there is none yet', () => {
    // Act
    const created = updateDocument(undefined, `${GENERATED_START}\nfigures\n${GENERATED_END}`);

    // Assert
    expect(created.indexOf(GENERATED_START)).toBeLessThan(created.indexOf(GENERATED_END));
    expect(created).toContain('## Analysis');
  });
});

describe('targetChecks', () => {
  it('judges copy time with and without ranges against the floor of the same run', () => {
    // Act
    const times = targetChecks(results(copyResults([100, 105], { ranged: 0.34, unranged: 1.04 }))).filter(
      (c) => c.target.includes('time'),
    );

    // Assert
    expect(times.map((c) => [c.target, c.met])).toEqual([
      [
        'recording copy with ranges (K = 4): time ≤ 0.33× a single-stream Upload (4 MiB/s per connection, 64 MiB)',
        false,
      ],
      [
        'recording copy without ranges: time ≤ 1.05× a single-stream Upload (4 MiB/s per connection, 64 MiB)',
        true,
      ],
    ]);
  });

  it('wants peak RSS the same at both sizes within 10%, and below the floor', () => {
    const spread = (rss: number[]) =>
      targetChecks(results(copyResults(rss))).find((c) => c.target.includes('within 10%'))?.met;
    const below = (rss: number[]) =>
      targetChecks(results(copyResults(rss))).find((c) => c.target.includes('below the floor'))?.met;

    expect(spread([100, 109])).toBe(true);
    expect(spread([100, 111])).toBe(false);
    expect(below([100, 149])).toBe(true);
    expect(below([100, 170])).toBe(false);
  });

  it('wants a resumed copy to download at most 45% of the file again', () => {
    const resume = (rerunMiB: number) =>
      targetChecks(results(copyResults([100, 100], undefined, rerunMiB))).find((c) =>
        c.target.includes('resumed'),
      )?.met;

    expect(resume(460)).toBe(true);
    expect(resume(461)).toBe(false);
  });

  it('says the backfill was not measured when it did not run', () => {
    // Act
    const backfill = targetChecks(results(copyResults([110, 112, 115]))).find((c) =>
      c.target.startsWith('backfill'),
    );

    // Assert
    expect(backfill).toMatchObject({ met: undefined, measured: 'not measured' });
  });
});

describe('generatedSection', () => {
  it('is wrapped in the markers and says why a benchmark was skipped', () => {
    // Act
    const section = generatedSection(results(copyResults([110, 112, 115])));

    // Assert
    expect(section.startsWith(GENERATED_START)).toBe(true);
    expect(section.endsWith(GENERATED_END)).toBe(true);
    expect(section).toContain('backfill (not selected (--only))');
  });
});

describe('memoryChart', () => {
  it('draws one line per copy and every run', () => {
    // Act
    const svg = memoryChart(copyResults([110, 112, 115]));

    // Assert
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    // Two sizes: the floor's dot and 3 runs each, the project's dot and 1 run each.
    expect(svg.match(/<circle /g)).toHaveLength(2 * (1 + 3) + 2 * (1 + 1));
  });
});
