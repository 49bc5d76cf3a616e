/**
 * Turns the benchmarks' results into the targets table (stdout), the generated part of
 * docs/benchmarks.md (between markers, so the hand-written analysis below survives a re-run)
 * and an SVG chart of peak memory against recording size (hand-written SVG, no dependency).
 */
import type { BackfillResults } from './backfill.ts';
import type { ColdStartResults, ColdStartRow } from './cold-start.ts';
import type { EnrichPhase, EnrichResults } from './enrichment.ts';
import type { CopyResults, CopySummary } from './recording-copy.ts';
import { fixed, mib, ratio } from './support/stats.ts';

/** Everything one `npm run bench` found. */
export interface BenchResults {
  startedAt: string;
  durationMs: number;
  machine: { cpus: number; model: string; node: string; load: number[] };
  serviceSource: 'serverless.yml' | 'fallback';
  functions: { name: string; memorySize: number; timeout: number }[];
  copy?: CopyResults;
  cold?: ColdStartResults;
  enrich?: EnrichResults;
  backfill?: BackfillResults;
  /** Benchmarks that did not run, and why. */
  skipped: { name: string; reason: string }[];
}

/** One line of the targets table. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

export const GENERATED_START =
  '<!-- bench:generated:start (npm run bench rewrites everything up to the end marker) -->';
export const GENERATED_END =
  '<!-- bench:generated:end (hand-written from here on: npm run bench keeps it) -->';
/** The chart's file name, next to docs/benchmarks.md. */
export const CHART_FILE = 'benchmarks-copy-memory.svg';

const MiB = 1024 * 1024;

function sizeLabel(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`;
}

function coldRow(results: BenchResults, name: string): ColdStartRow | undefined {
  return results.cold?.rows.find((row) => row.name === name);
}

/** Each target of the issue, measured or not. */
export function targetChecks(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const copy = results.copy;
  if (copy) {
    const { floor, ranged, unranged } = copy.timed;
    const pace = `${fixed(copy.bytesPerSecond / MiB)} MiB/s per connection, ${sizeLabel(floor.bytes)}`;
    const timeCheck = (label: string, run: CopySummary, limit: number) => {
      const r = run.ms / floor.ms;
      checks.push({
        target: `recording copy ${label}: time ≤ ${limit}× a single-stream Upload (${pace})`,
        measured: `${ratio(r)} (${fixed(run.ms)} ms vs ${fixed(floor.ms)} ms)`,
        met: r <= limit,
      });
    };
    timeCheck(`with ranges (K = ${copy.concurrency})`, ranged, 0.33);
    timeCheck('without ranges', unranged, 1.05);
    const smallest = copy.compared[0];
    const largest = copy.compared[copy.compared.length - 1];
    if (smallest && largest) {
      const spread = largest.project.maxRssMiB / smallest.project.maxRssMiB - 1;
      checks.push({
        target: `recording copy: peak RSS at ${sizeLabel(largest.project.bytes)} within 10% of ${sizeLabel(smallest.project.bytes)}`,
        measured: `${fixed(largest.project.maxRssMiB)} MiB vs ${fixed(smallest.project.maxRssMiB)} MiB (${spread >= 0 ? '+' : ''}${fixed(spread * 100, 1)}%)`,
        met: Math.abs(spread) <= 0.1,
      });
    }
    checks.push({
      target: "recording copy: peak RSS below the floor's at every size",
      measured: copy.compared
        .map(
          (c) =>
            `${sizeLabel(c.project.bytes)}: ${fixed(c.project.maxRssMiB)} vs ${fixed(c.floor.maxRssMiB)} MiB`,
        )
        .join('; '),
      met: copy.compared.every((c) => c.project.maxRssMiB < c.floor.maxRssMiB),
    });
    const share = copy.resume.rerun.servedBytes / copy.resume.bytes;
    checks.push({
      target: `recording copy resumed after a crash at ~60% of ${sizeLabel(copy.resume.bytes)}: rerun downloads ≤ 45%`,
      measured: `${fixed(share * 100, 1)}% (killed after ${fixed((copy.resume.killedAfterBytes / copy.resume.bytes) * 100)}% served)`,
      met: share <= 0.45,
    });
  }
  const coldTarget = (name: string, label: string) => {
    const row = coldRow(results, name);
    if (!row || row.target === undefined) {
      checks.push({ target: label, measured: 'not measured (no handler)', met: undefined });
      return;
    }
    const split =
      row.split && Number.isFinite(row.split.ratio)
        ? `; with esbuild splitting: ${ratio(row.split.ratio)} (${fixed(row.split.importMs, 1)} ms vs ${fixed(row.split.floorImportMs, 1)} ms)`
        : '';
    checks.push({
      target: label,
      measured: row.error
        ? `failed: ${row.error}`
        : `${ratio(row.ratio)} (${fixed(row.importMs, 1)} ms vs ${fixed(row.floorImportMs, 1)} ms)${split}`,
      met: row.error ? false : row.ratio <= row.target,
    });
  };
  if (results.cold) {
    coldTarget('enrichCall', 'enrichCall cold import ≤ 0.85× its floor');
    coldTarget('webhook', 'webhook cold import ≤ 1.0× an SQS-only floor');
  }
  const enrich = results.enrich;
  if (enrich) {
    const rerun = enrich.rerun;
    const recording = enrich.recording.rerun;
    const writes = rerun.writesPerCall + recording.writesPerCall;
    const bytes = rerun.bytesDownloaded + recording.bytesDownloaded + recording.recordingDownloads;
    checks.push({
      target: 're-enriching an unchanged call: 0 item writes, 0 bytes downloaded',
      measured: `${fixed(rerun.writesPerCall, 2)} writes/call (50 participants), ${recording.writesPerCall} writes and ${recording.recordingDownloads} downloads (${recording.bytesDownloaded} bytes) for a call with a ${mib(enrich.recording.bytes)} MiB recording`,
      met: writes === 0 && bytes === 0,
    });
  }
  const backfill = results.backfill;
  if (backfill) {
    checks.push({
      target: 'backfill: ≥ 95% of the request budget, no 429 in steady state',
      measured: `${fixed(backfill.ratio * 100, 1)}% (${fixed(backfill.steadyPerMinute)}/min of ${backfill.budgetPerMinute}/min), ${backfill.tooManyRequests} × 429`,
      met: backfill.ratio >= 0.95 && backfill.tooManyRequests === 0,
    });
  } else {
    checks.push({
      target: 'backfill: ≥ 95% of the request budget',
      measured: 'not measured',
      met: undefined,
    });
  }
  return checks;
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? 'n/a' : met ? 'met' : 'NOT met';
}

/** The targets as a plain-text table for the terminal. */
export function textTable(results: BenchResults): string {
  const rows = targetChecks(results).map((c) => [c.target, c.measured, verdict(c.met)]);
  const header = ['target', 'measured', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function table(header: string[], rows: (string | number)[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function copySection(copy: CopyResults): string {
  const line = (label: string, s: CopySummary, floor: CopySummary) => [
    sizeLabel(s.bytes),
    label,
    fixed(s.ms),
    ratio(s.ms / floor.ms),
    fixed(s.cpuMs),
    fixed(s.maxRssMiB),
    fixed(s.startRssMiB),
    mib(s.servedBytes),
  ];
  const header = [
    'size',
    'copy',
    'wall ms',
    'time ratio',
    'CPU ms',
    'peak RSS MiB',
    'RSS before copy MiB',
    'MiB served',
  ];
  const { floor, ranged, unranged } = copy.timed;
  const timed = [
    line('floor: lib-storage Upload of one stream, defaults', floor, floor),
    line(`project, host with ranges (K = ${copy.concurrency})`, ranged, floor),
    line('project, host without ranges', unranged, floor),
  ];
  const memory = copy.compared.flatMap((c) => [
    line('floor: lib-storage Upload', c.floor, c.floor),
    line('project, host with ranges', c.project, c.floor),
  ]);
  const { resume } = copy;
  return [
    '## Recording copy',
    '',
    "A recording served by the simulator's recording host (`serveFile`) into s3rver, each copy in a fresh " +
      `child process (\`node ${copy.nodeFlags.join(' ')}\`: the heap limits the Lambda bootstrap sets for ` +
      `${copy.memorySizeMiB} MiB, and the functions' NODE_OPTIONS). One run of each; time ratio = copy / floor.`,
    '',
    `Time, the host paced at ${fixed(copy.bytesPerSecond / MiB)} MiB/s per connection (one CDN flow each):`,
    '',
    table(header, timed),
    '',
    'Memory, unpaced (the pace changes how long a copy takes, not what it holds):',
    '',
    table(header, memory),
    '',
    `![Peak RSS against recording size](${CHART_FILE})`,
    '',
    `Resume: a paced copy of ${sizeLabel(resume.bytes)} killed (SIGKILL) after ${mib(resume.killedAfterBytes)} MiB ` +
      `had been served, then run again: the rerun was served ${mib(resume.rerun.servedBytes)} MiB ` +
      `(${fixed((resume.rerun.servedBytes / resume.bytes) * 100, 1)}% of the file) in ${fixed(resume.rerun.ms)} ms.`,
    '',
  ].join('\n');
}

function coldSection(cold: ColdStartResults): string {
  const rows = cold.rows.map((r) => [
    r.name,
    r.builtBy,
    `${fixed(r.bundleBytes / 1024)} KiB${r.zipBytes ? ` (zip ${fixed(r.zipBytes / 1024)} KiB)` : ''}`,
    r.error ? `failed: ${r.error}` : fixed(r.importMs, 1),
    fixed(r.rssMiB),
    r.floorLabel,
    `${fixed(r.floorBytes / 1024)} KiB`,
    fixed(r.floorImportMs, 1),
    ratio(r.ratio),
    r.target === undefined ? '—' : `≤ ${r.target.toFixed(2)}×`,
    r.split
      ? `${fixed(r.split.importMs, 1)} / ${fixed(r.split.floorImportMs, 1)} = ${ratio(r.split.ratio)}`
      : '—',
  ]);
  const eager = cold.rows
    .filter((r) => r.eagerBytes !== undefined)
    .map((r) => [
      r.name,
      `${fixed((r.eagerBytes ?? 0) / 1024)} KiB`,
      `${fixed((r.lazyBytes ?? 0) / 1024)} KiB`,
      (r.topEagerPackages ?? []).map((p) => `${p.name} ${fixed(p.bytes / 1024)}`).join(', '),
    ]);
  return [
    '## Cold start',
    '',
    `Import time of each handler's bundle in a fresh \`node ${cold.nodeFlags.join(' ')}\` process ` +
      `(median of ${cold.runs}, floor and project alternating), with the environment its configuration ` +
      'check needs. Floors are built with the same esbuild options and create their clients at module scope. ' +
      'The last column builds both with `splitting: true` added (esbuild then puts what is only reached through ' +
      '`import()` into files of its own).',
    '',
    table(
      [
        'function',
        'built by',
        'bundle',
        'import ms',
        'RSS MiB',
        'floor',
        'floor bundle',
        'floor ms',
        'ratio',
        'target',
        'splitting: ms / floor ms',
      ],
      rows,
    ),
    '',
    ...(cold.missing.length > 0 ? [`Not measured (no handler file): ${cold.missing.join(', ')}.`, ''] : []),
    ...(cold.packageError
      ? [`\`osls package\` failed, so every bundle was built with esbuild: ${cold.packageError}`, '']
      : []),
    "What a bundle evaluates at import and what only `import()` reaches (from esbuild's metafile, KiB of minified output):",
    '',
    table(
      ['function', 'evaluated at import', 'behind import()', 'largest packages evaluated at import (KiB)'],
      eager,
    ),
    '',
  ].join('\n');
}

function phaseRow(label: string, phase: EnrichPhase, floor: EnrichPhase): (string | number)[] {
  const ops = Object.entries(phase.dynamodbPerCall)
    .map(([op, n]) => `${op} ${fixed(n, n % 1 === 0 ? 0 : 2)}`)
    .join(', ');
  const s3 = Object.entries(phase.s3PerCall)
    .map(([op, n]) => `${op} ${fixed(n, n % 1 === 0 ? 0 : 2)}`)
    .join(', ');
  return [
    label,
    phase.calls,
    fixed(phase.callsPerSecond, 1),
    ratio(phase.callsPerSecond / floor.callsPerSecond),
    fixed(phase.cpuMsPerCall, 2),
    ratio(phase.cpuMsPerCall / floor.cpuMsPerCall),
    ops || '—',
    fixed(phase.writesPerCall, 2),
    s3 || '—',
    phase.bytesDownloaded,
    fixed(phase.maxRssMiB),
  ];
}

function enrichSection(enrich: EnrichResults): string {
  return [
    '## Enrichment',
    '',
    `Calls of ${enrich.participants} participants through the use case on the local stack (dynalite, s3rver, ` +
      `the CometChat simulator), one after another, in a child process whose CPU time is counted (\`node ${enrich.nodeFlags.join(' ')}\`). ` +
      'The floor is one Get Call and one Query per call against the same servers. Ratios are against the floor ' +
      '(throughput: higher is better; CPU: lower is better).',
    '',
    table(
      [
        'run',
        'calls',
        'calls/s',
        'vs floor',
        'CPU ms/call',
        'vs floor',
        'DynamoDB requests/call',
        'item writes/call',
        'S3 requests/call',
        'bytes downloaded',
        'worker peak RSS MiB',
      ],
      [
        phaseRow('floor: Get Call + Query', enrich.floor, enrich.floor),
        phaseRow('first run (fresh ids)', enrich.first, enrich.floor),
        phaseRow('re-run (unchanged)', enrich.rerun, enrich.floor),
        phaseRow(
          `with a ${mib(enrich.recording.bytes)} MiB recording, first`,
          enrich.recording.first,
          enrich.floor,
        ),
        phaseRow('with the recording, re-run', enrich.recording.rerun, enrich.floor),
      ],
    ),
    '',
  ].join('\n');
}

function backfillSection(backfill: BackfillResults | undefined, skipped: BenchResults['skipped']): string {
  if (!backfill) {
    const why = skipped.find((s) => s.name === 'backfill')?.reason ?? 'not run';
    return ['## Backfill', '', `Not measured: ${why}.`, ''].join('\n');
  }
  return [
    '## Backfill',
    '',
    `List Calls over ${backfill.calls.toLocaleString('en')} simulated calls, ${backfill.perPage} per page, ` +
      `through the real backfill adapters (pacer, DynamoDB summaries, local SQS) in a child process ` +
      `(\`node ${backfill.nodeFlags.join(' ')}\`); ` +
      `the simulator answers 429 beyond ${backfill.simulatorLimitPerMinute} requests per clock minute. ` +
      'The steady rate is 60 000 / the median gap between requests past the first fifth of the run; ' +
      '"after the burst" counts the requests of that stretch (the pacer spaces every request by 60 s / budget).',
    '',
    table(
      [
        'budget /min',
        'requests',
        'steady /min',
        'of budget',
        'after the burst /min',
        'whole run /min',
        'median gap ms',
        '429s',
        'listed',
        'enqueued',
        'complete',
        'wall s',
        'worker peak RSS MiB',
      ],
      [
        [
          backfill.budgetPerMinute,
          backfill.requests,
          fixed(backfill.steadyPerMinute),
          `${fixed(backfill.ratio * 100, 1)}%`,
          fixed(backfill.windowPerMinute),
          fixed(backfill.overallPerMinute),
          fixed(backfill.medianGapMs, 2),
          backfill.tooManyRequests,
          backfill.listed,
          backfill.enqueued,
          String(backfill.complete),
          fixed(backfill.wallMs / 1000, 1),
          fixed(backfill.maxRssMiB),
        ],
      ],
    ),
    '',
  ].join('\n');
}

/** The generated part of docs/benchmarks.md, markers included. */
export function generatedSection(results: BenchResults): string {
  const checks = targetChecks(results);
  const { machine } = results;
  return [
    GENERATED_START,
    '',
    `Generated by \`npm run bench\` on ${results.startedAt.slice(0, 10)} in ${fixed(results.durationMs / 1000)} s: ` +
      `${machine.cpus} × ${machine.model}, Node ${machine.node}, load average at the start ${machine.load.map((l) => l.toFixed(2)).join(' / ')}. ` +
      'Every figure that is compared is a ratio against a floor measured in the same run, because the machine is shared and noisy.',
    '',
    '## Targets',
    '',
    table(
      ['target', 'measured', 'result'],
      checks.map((c) => [c.target, c.measured, verdict(c.met)]),
    ),
    '',
    ...(results.skipped.length > 0
      ? [`Skipped: ${results.skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}.`, '']
      : []),
    'Lambda settings in serverless.yml when this ran:',
    '',
    table(
      ['function', 'memorySize MiB', 'timeout s'],
      results.functions.map((f) => [f.name, f.memorySize, f.timeout]),
    ),
    '',
    ...(results.copy ? [copySection(results.copy)] : []),
    ...(results.cold ? [coldSection(results.cold)] : []),
    ...(results.enrich ? [enrichSection(results.enrich)] : []),
    backfillSection(results.backfill, results.skipped),
    GENERATED_END,
  ].join('\n');
}

/** `existing` with its generated part replaced (or a new document when there is none). */
export function updateDocument(existing: string | undefined, generated: string): string {
  if (existing) {
    const start = existing.indexOf(GENERATED_START);
    const end = existing.indexOf(GENERATED_END);
    if (start !== -1 && end > start) {
      return existing.slice(0, start) + generated + existing.slice(end + GENERATED_END.length);
    }
  }
  return [
    '# Benchmarks',
    '',
    'Run with `npm run bench` (about 5 minutes on two cores). The part between the markers is generated;',
    'the analysis after it is written by hand and kept when the benchmarks run again.',
    '',
    generated,
    '',
    '## Analysis',
    '',
    '(Not written yet.)',
    '',
  ].join('\n');
}

/** Peak RSS against recording size, floor and project: an SVG document. */
export function memoryChart(copy: CopyResults): string {
  const width = 640;
  const height = 360;
  const pad = { left: 64, right: 170, top: 36, bottom: 52 };
  const sizes = copy.compared.map((c) => c.floor.bytes / MiB);
  const series = [
    { name: 'floor: lib-storage Upload', colour: '#c0392b', points: copy.compared.map((c) => c.floor) },
    { name: 'project: copier', colour: '#2471a3', points: copy.compared.map((c) => c.project) },
    ...(copy.compared.every((c) => c.before)
      ? [
          {
            name: `project before`,
            colour: '#7f8c8d',
            points: copy.compared.map((c) => c.before as CopySummary),
          },
        ]
      : []),
  ];
  const yMax = Math.max(
    200,
    Math.ceil(Math.max(...series.flatMap((s) => s.points.map((p) => Math.max(...p.allMaxRssMiB)))) / 50) * 50,
  );
  const logMin = Math.log2(Math.min(...sizes));
  const logMax = Math.log2(Math.max(...sizes));
  const x = (sizeMiB: number) =>
    pad.left +
    ((Math.log2(sizeMiB) - logMin) / Math.max(1, logMax - logMin)) * (width - pad.left - pad.right);
  const y = (rss: number) => height - pad.bottom - (rss / yMax) * (height - pad.top - pad.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    '<title>Peak RSS of one recording copy against recording size</title>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${pad.left}" y="20" font-size="14" font-weight="bold">Peak RSS of one copy (MiB) against recording size</text>`,
  ];
  for (let v = 0; v <= yMax; v += 50) {
    parts.push(
      `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${pad.left - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  for (const size of sizes) {
    parts.push(
      `<line x1="${x(size)}" x2="${x(size)}" y1="${height - pad.bottom}" y2="${height - pad.bottom + 5}" stroke="#333"/>`,
      `<text x="${x(size)}" y="${height - pad.bottom + 18}" text-anchor="middle">${sizeLabel(size * MiB)}</text>`,
    );
  }
  parts.push(
    `<line x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="#333"/>`,
    `<line x1="${pad.left}" x2="${width - pad.right}" y1="${height - pad.bottom}" y2="${height - pad.bottom}" stroke="#333"/>`,
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 12}" text-anchor="middle">recording size (log scale)</text>`,
  );
  series.forEach((s, index) => {
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.bytes / MiB)},${y(p.maxRssMiB)}`);
    parts.push(`<path d="${path.join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    for (const p of s.points) {
      parts.push(`<circle cx="${x(p.bytes / MiB)}" cy="${y(p.maxRssMiB)}" r="3.5" fill="${s.colour}"/>`);
      // Every run's peak, faintly: the spread is part of the picture.
      for (const run of p.allMaxRssMiB) {
        parts.push(
          `<circle cx="${x(p.bytes / MiB)}" cy="${y(run)}" r="2" fill="${s.colour}" fill-opacity="0.3"/>`,
        );
      }
    }
    const ly = pad.top + 20 + index * 20;
    parts.push(
      `<line x1="${width - pad.right + 6}" x2="${width - pad.right + 26}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2"/>`,
      `<text x="${width - pad.right + 32}" y="${ly + 4}">${s.name}</text>`,
    );
  });
  parts.push(
    `<text x="${pad.left + 6}" y="${pad.top + 4}" fill="#555">median (dot) and each run (faint) of ${Math.max(...copy.compared.map((c) => c.project.runs))} per size</text>`,
    '</svg>',
    '',
  );
  return parts.join('\n');
}
