/** `enrich` and `backfill`: calls from CometChat into the archive, in-process or by a stage's functions. */
import type { SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../../lib/aws/dynamodb.ts';
import type { BackfillResult } from '../../lib/backfill/backfill.ts';
import type { BackfillInput } from '../../lib/backfill/window.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';
import {
  type LocalEnricher,
  localEnricher,
  type Outcome,
  type Row,
  renderRows,
  rowOf,
} from '../enrich-locally.ts';
import type { LocalStack } from '../local-stack.ts';
import { type Context, command, noSessionIds, withCommonHelp } from './command.ts';
import { asUsage, EXIT, UsageError } from './exit.ts';
import { fieldTable, type Io, printJson, progressBar, sessionIdTable } from './output.ts';
import { invoke, openLocalStack } from './target.ts';

export const enrich = command({
  help: withCommonHelp(`Usage: npm run calls -- enrich <sessionId…> [options]

Fetches each call from CometChat and stores it, its participants, recordings and transcripts.
Locally this runs the enrichment in-process; with --stage it invokes the stage's enrichCall
function. A call CometChat does not know fails with CallNotFoundError (exit 1).`),
  options: {},
  async run({ positionals: sessionIds }, { target, json, io }) {
    if (sessionIds.length === 0) throw new UsageError('enrich needs at least one session id', 'enrich');
    const results: ({ sessionId: string } & Outcome<EnrichmentResult>)[] = [];
    const progress = progressBar(sessionIds.length, io.stderr);
    let stack: LocalStack | undefined;
    try {
      let enrichOne: LocalEnricher;
      if (target.kind === 'stage') {
        enrichOne = (sessionId) =>
          invoke(target, 'enrichCall', { sessionId }) as Promise<Outcome<EnrichmentResult>>;
      } else {
        stack = await openLocalStack(target.dataDir, io, true);
        enrichOne = await localEnricher(stack);
      }
      for (const sessionId of sessionIds) {
        results.push({ sessionId, ...(await enrichOne(sessionId)) });
        progress.advance(sessionId);
      }
    } finally {
      progress.end();
      await stack?.close();
    }

    const failed = results.filter((r) => 'error' in r).length;
    if (json) {
      printJson(io, { command: 'enrich', target, results, succeeded: results.length - failed, failed });
    } else {
      io.stdout.write(
        `${renderRows(results.map(({ sessionId, ...outcome }) => rowOf(sessionId, outcome)))}\n`,
      );
    }
    return failed > 0 ? EXIT.failed : EXIT.ok;
  },
});

export const backfill = command({
  help: withCommonHelp(`Usage: npm run calls -- backfill [--from T] [--to T] [--dry-run] [options]

Lists the calls CometChat has for a time window and enriches each one. Times are ISO-8601
(2024-05-01, 2024-05-01T12:00:00Z) or Unix seconds; by default the window runs from the stored
checkpoint (less an overlap) to now. Locally the calls are enriched in-process; with --stage the
stage's backfill function is invoked and queues them.

  --from <time>       start of the window
  --to <time>         end of the window (default: now)
  --dry-run           list only: enrich nothing, move no checkpoint`),
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  async run({ positionals, values }, context) {
    noSessionIds(positionals, 'backfill', '; use --from and --to');
    const { parseBackfillInput } = await import('../../lib/backfill/window.ts');
    const input = await asUsage('backfill', () =>
      parseBackfillInput({ from: values.from, to: values.to, dryRun: values['dry-run'] ?? false }),
    );
    const { target, json, io } = context;
    if (target.kind === 'local') return localBackfill(input, target.dataDir, context);

    const outcome = await invoke(target, 'backfill', {
      from: input.from,
      to: input.to,
      dryRun: input.dryRun,
    });
    if ('error' in outcome) {
      if (json) printJson(io, { command: 'backfill', target, error: outcome.error });
      else io.stderr.write(`backfill failed: ${outcome.error.name}: ${outcome.error.message}\n`);
      return EXIT.failed;
    }
    const { sessionIds, ...summary } = outcome.result as BackfillResult;
    if (json) printJson(io, { command: 'backfill', target, ...summary, sessionIds });
    else printBackfill(io, summary, { sessionIds });
    return EXIT.ok;
  },
});

/** The run's summary, then what a dry run would enrich or (locally) how each enrichment went. */
function printBackfill(
  io: Io,
  summary: Record<string, unknown>,
  details: { sessionIds?: readonly string[]; rows?: readonly Row[]; checkpointHeld?: boolean },
): void {
  io.stdout.write(`${fieldTable(summary)}\n`);
  const { sessionIds, rows, checkpointHeld } = details;
  if (sessionIds) {
    io.stdout.write(
      `\n${sessionIdTable(sessionIds)}\n\n${sessionIds.length} calls would be enriched (dry run: nothing changed).\n`,
    );
  } else if (rows && rows.length > 0) {
    io.stdout.write(`\n${renderRows(rows)}\n`);
  } else if (rows) {
    io.stdout.write('\nNo calls needed enriching.\n');
  }
  if (checkpointHeld) io.stdout.write('The checkpoint did not move: the next run lists these calls again.\n');
}

/** Raised by the local "queue" after enriching everything it was handed, if anything failed. */
class LocalEnrichmentFailed extends Error {
  override readonly name = 'LocalEnrichmentFailed';
}

/**
 * The backfill use case on the local stack (the real List Calls walk, budget, checkpoint and skip
 * rules), enqueueing into a local FIFO queue (fauxqs) that is drained right here before the
 * checkpoint can move. If any call fails the checkpoint stays, as an SQS message would stay for a
 * retry, so the next run lists those calls again.
 */
async function localBackfill(
  input: BackfillInput,
  dataDir: string,
  { target, json, io }: Context,
): Promise<number> {
  const stack = await openLocalStack(dataDir, io, true);
  const rows: Row[] = [];
  let summary: Record<string, unknown> = { dryRun: input.dryRun, checkpointAdvanced: false };
  let sessionIds: string[] | undefined;
  let checkpointHeld = false;
  const [{ backfill }, { backfillFromEnv }, { deliverBatch, startLocalQueues }] = await Promise.all([
    import('../../lib/backfill/backfill.ts'),
    import('../../lib/backfill/dependencies.ts'),
    import('../local-queue.ts'),
  ]);
  const queue = 'local-backfill.fifo';
  const queues = await startLocalQueues({ queues: [queue] });
  const { sqs } = queues;
  try {
    const tuning = Object.entries(io.env).filter(
      ([name]) => name.startsWith('BACKFILL_') || name === 'COMETCHAT_REQUESTS_PER_MINUTE',
    );
    const { deps, settings } = backfillFromEnv(
      {
        ...Object.fromEntries(tuning),
        ...stack.env,
        ENRICH_QUEUE_URL: queues.queueUrl(queue),
        BACKFILL_STATE_MACHINE_ARN: '',
      },
      { dynamodb: createDocumentClient(stack.clients.dynamodb), sqs },
    );
    const enrichOne = await localEnricher(stack);
    const enqueue: typeof deps.enqueue = async (messages, enqueueOptions) => {
      await deps.enqueue(messages, enqueueOptions);
      const progress = progressBar(messages.length, io.stderr);
      try {
        // Drain what was just sent; a failure is recorded, not retried (the checkpoint holds).
        const consume = async (event: SQSEvent) => {
          for (const record of event.Records) {
            const { sessionId } = JSON.parse(record.body) as { sessionId: string };
            rows.push(rowOf(sessionId, await enrichOne(sessionId)));
            progress.advance(sessionId);
          }
          return { batchItemFailures: [] };
        };
        while ((await deliverBatch(sqs, queues.queueUrl(queue), '', consume)) > 0);
      } finally {
        progress.end();
      }
      if (rows.some((r) => !r.ok)) throw new LocalEnrichmentFailed('some calls could not be enriched');
    };
    try {
      ({ sessionIds, ...summary } = await backfill(input, { ...deps, enqueue }, settings));
    } catch (error) {
      if (!(error instanceof LocalEnrichmentFailed)) throw error;
      checkpointHeld = true;
    }
  } finally {
    await queues.close();
    await stack.close();
  }

  const failed = rows.filter((r) => !r.ok).length;
  if (json) {
    printJson(io, { command: 'backfill', target, ...summary, sessionIds, calls: rows, failed });
  } else {
    printBackfill(io, summary, input.dryRun ? { sessionIds: sessionIds ?? [] } : { rows, checkpointHeld });
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}
