/** Turns the backfill's observations into log lines and, when given a metrics sink, metrics. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { count, type MetricsSink } from '../metrics.ts';
import type { BackfillObservation, BackfillResult } from './backfill.ts';

/** Metric names the backfill emits (namespace and service as in lib/metrics.ts). */
export const BACKFILL_METRIC = {
  /** List Calls pages read. */
  BackfillPages: 'BackfillPages',
  /** Distinct calls of the window listed. */
  BackfillListed: 'BackfillListed',
  /** Calls sent to the enrichment queue. */
  BackfillEnqueued: 'BackfillEnqueued',
  /** Archived calls handed to enrichment again for files List Calls shows and the archive lacks. */
  BackfillReconciled: 'BackfillReconciled',
  /** List Calls pages read by the late-transcript walk. */
  BackfillTranscriptPages: 'BackfillTranscriptPages',
  /** Calls that ended within the last day enqueued again for transcripts the archive may lack. */
  BackfillTranscriptRechecked: 'BackfillTranscriptRechecked',
  /** Calls written to a manifest for the state machine. */
  BackfillManifested: 'BackfillManifested',
  /** A run that could not cover its whole window (the checkpoint stayed). */
  BackfillIncomplete: 'BackfillIncomplete',
  /** A run that threw (the checkpoint stayed). */
  BackfillFailed: 'BackfillFailed',
} as const;

/** An `observe` callback for the backfill use case. */
export function observeBackfillWith(
  logger: Pick<Logger, 'info' | 'debug' | 'warn'>,
): (observation: BackfillObservation) => void {
  return (observation) => {
    switch (observation.kind) {
      case 'window':
        logger.info('backfill window', { ...observation });
        return;
      case 'page':
        logger.debug('List Calls page read', { ...observation });
        return;
      case 'rate-limited':
        logger.warn('List Calls still rate limited after the client retries; waiting', { ...observation });
        return;
      case 'repass':
        logger.warn('pages moved during the walk; reading them all again', { ...observation });
        return;
      case 'unusable-call':
        logger.warn('List Calls returned a call without a usable session id', { ...observation });
        return;
      case 'too-large':
        logger.warn('the window has more pages than the request budget allows in this invocation', {
          ...observation,
        });
        return;
      case 'incomplete':
        logger.warn(
          observation.walk === 'transcripts'
            ? 'the late-transcript walk did not read every page; the next run looks again'
            : 'the walk did not cover the whole window; the checkpoint stays',
          { ...observation },
        );
        return;
      case 'manifest':
        logger.info('backlog handed to the backfill state machine', { ...observation });
        return;
      case 'enqueued':
        logger.info('calls enqueued for enrichment', { ...observation });
        return;
      case 'checkpoint':
        logger.info(observation.advanced ? 'checkpoint advanced' : 'checkpoint already at or past the mark', {
          ...observation,
        });
        return;
    }
  };
}

/** Counts a run that threw. */
export function countBackfillFailure(sink?: MetricsSink): void {
  count(BACKFILL_METRIC.BackfillFailed, 1, sink);
}

/** Logs and counts how one run ended; passes the outcome on. */
export async function reportBackfill(
  work: Promise<BackfillResult>,
  logger: Pick<Logger, 'info' | 'error'>,
  metrics?: MetricsSink,
): Promise<BackfillResult> {
  try {
    const result = await work;
    countBackfill(result, metrics);
    const { sessionIds: _sample, ...summary } = result;
    logger.info('backfill finished', { ...summary });
    return result;
  } catch (error) {
    countBackfillFailure(metrics);
    logger.error('backfill failed', { error });
    throw error;
  }
}

/** Counts what a finished run did. */
export function countBackfill(result: BackfillResult, sink?: MetricsSink): void {
  count(BACKFILL_METRIC.BackfillPages, result.pages, sink);
  count(BACKFILL_METRIC.BackfillListed, result.listed, sink);
  count(BACKFILL_METRIC.BackfillEnqueued, result.enqueued, sink);
  count(BACKFILL_METRIC.BackfillReconciled, result.reconciled, sink);
  count(BACKFILL_METRIC.BackfillTranscriptPages, result.transcriptPages, sink);
  count(BACKFILL_METRIC.BackfillTranscriptRechecked, result.transcriptRechecked, sink);
  count(BACKFILL_METRIC.BackfillManifested, result.manifest?.count ?? 0, sink);
  count(BACKFILL_METRIC.BackfillIncomplete, result.complete ? 0 : 1, sink);
}
