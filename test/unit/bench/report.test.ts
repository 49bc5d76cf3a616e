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
  };
}

function copyResults(projectRss: number[]): CopyResults {
  return {
    memorySizeMiB: 512,
    nodeFlags: ['--max-semi-space-size=25', '--max-old-space-size=461'],
    compared: [16, 256, 1024].map((size) => ({
      floor: summary('floor', size, size * 10, [150, 160, 170]),
      project: summary('project', size, size * 10.5, projectRss),
    })),
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
  it('fails the memory target on the worst run, not the median', () => {
    // Arrange
    const copy = copyResults([110, 112, 131]);

    // Act
    const memory = targetChecks(results(copy)).find((c) => c.target.includes('peak RSS'));

    // Assert
    expect(memory?.met).toBe(false);
    expect(memory?.measured).toContain('131');
  });

  it('checks copy time at 256 MiB and 1 GiB only, as project over floor', () => {
    // Act
    const times = targetChecks(results(copyResults([110, 112, 115]))).filter((c) =>
      c.target.includes('time'),
    );

    // Assert
    expect(times.map((c) => c.target)).toEqual([
      'recording copy 256 MiB: time ≤ 1.1× floor',
      'recording copy 1 GiB: time ≤ 1.1× floor',
    ]);
    expect(times.every((c) => c.met === true && c.measured.startsWith('1.05×'))).toBe(true);
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
  it('draws one line per copy, every run, and the 128 MiB limit', () => {
    // Act
    const svg = memoryChart(copyResults([110, 112, 115]));

    // Assert
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(2 * 3 * (1 + 3));
    expect(svg).toContain('target ≤ 128 MiB');
  });
});
