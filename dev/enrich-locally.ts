/**
 * Enrichment on the local stack, shared by `npm start` (dev/start.ts) and `npm run calls -- enrich`
 * (dev/calls-cli.ts) so both run the same code on the same clients and print the same table.
 */
import { createDocumentClient } from '../lib/aws/dynamodb.ts';
import type { EnrichmentResult } from '../lib/enrich/enrich.ts';
import type { EventSink } from '../lib/events/archive-events.ts';
import { formatBytes, renderTable, shorten } from './cli-support.ts';
import type { LocalStack } from './local-stack.ts';

/** How long one call may take locally: the Lambda function's own timeout. */
const ENRICH_BUDGET_MS = 120_000;

/** What one item came to: a result, or the name and message of the error it failed with. */
export type Outcome<T> = { result: T } | { error: { name: string; message: string } };

/** Enriches one call; never throws for a failed call (its error becomes the outcome). */
export type LocalEnricher = (sessionId: string) => Promise<Outcome<EnrichmentResult>>;

/** The enrichment use case in-process, on the local stack's own clients; `events` stands in for a bus. */
export async function localEnricher(
  stack: LocalStack,
  options: { events?: EventSink } = {},
): Promise<LocalEnricher> {
  // Loaded on first use, so help and usage errors answer without loading the SDK.
  const [{ enrichDependenciesFromEnv }, { enrichCall }] = await Promise.all([
    import('../lib/enrich/dependencies.ts'),
    import('../lib/enrich/enrich.ts'),
  ]);
  const deps = enrichDependenciesFromEnv(stack.env, {
    dynamodb: createDocumentClient(stack.clients.dynamodb),
    s3: async () => stack.clients.s3,
    ...(options.events && { events: options.events }),
  });
  return async (sessionId) => {
    try {
      return { result: await enrichCall({ sessionId }, deps, { deadline: Date.now() + ENRICH_BUDGET_MS }) };
    } catch (error) {
      const { name, message } = error as Error;
      return { error: { name, message } };
    }
  };
}

/** One line of a summary. */
export interface Row {
  sessionId: string;
  ok: boolean;
  status?: string;
  participants?: number;
  recordings?: string;
  transcripts?: string;
  result: string;
}

/** The summary line of an outcome. */
export function rowOf(sessionId: string, outcome: Outcome<EnrichmentResult>): Row {
  if ('error' in outcome) {
    return { sessionId, ok: false, result: `${outcome.error.name}: ${outcome.error.message}` };
  }
  const { result } = outcome;
  const copied = result.recordings.filter((r) => r.copied).length;
  const bytes = result.recordings.reduce((total, r) => total + r.bytes, 0);
  // A stage deployed before transcripts answers without them.
  const transcripts = result.transcripts ?? [];
  const transcriptsCopied = transcripts.filter((t) => t.copied).length;
  return {
    sessionId,
    ok: true,
    status: result.status,
    participants: result.participants,
    recordings:
      result.recordings.length === 0
        ? '0'
        : `${result.recordings.length} (${copied} copied, ${formatBytes(bytes)})`,
    transcripts: transcripts.length === 0 ? '0' : `${transcripts.length} (${transcriptsCopied} copied)`,
    result: 'ok',
  };
}

/** The rows as a table, then `N of M calls enriched, K failed.` */
export function renderRows(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.sessionId,
    r.status ?? '-',
    r.participants === undefined ? '-' : String(r.participants),
    r.recordings ?? '-',
    r.transcripts ?? '-',
    shorten(r.result, 80),
  ]);
  const table = renderTable(
    ['sessionId', 'status', 'participants', 'recordings', 'transcripts', 'result'],
    cells,
  );
  const failed = rows.filter((r) => !r.ok).length;
  return `${table}\n\n${rows.length - failed} of ${rows.length} calls enriched, ${failed} failed.`;
}
