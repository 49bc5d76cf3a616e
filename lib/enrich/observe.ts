/** Turns the use case's observations and outcome into log lines and, given a metrics sink, metrics. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { count, countBytes, countFailure, METRIC, type MetricsSink } from '../metrics.ts';
import type { EnrichmentResult, EnrichObservation } from './enrich.ts';

/** Logs how one enrichment ended and counts a failure by its error's name; passes the outcome on. */
export async function reportEnrichment(
  work: Promise<EnrichmentResult>,
  logger: Pick<Logger, 'info' | 'error'>,
  metrics: MetricsSink,
): Promise<EnrichmentResult> {
  try {
    const result = await work;
    logger.info('call enriched', {
      status: result.status,
      recordings: result.recordings.length,
      transcripts: result.transcripts.length,
    });
    return result;
  } catch (error) {
    logger.error('enrichment failed', { error });
    countFailure(error, metrics);
    throw error;
  }
}

/** An `observe` callback that logs each observation at the right level and counts what matters. */
export function observeWith(
  logger: Pick<Logger, 'info' | 'debug' | 'warn'>,
  metrics?: MetricsSink,
): (event: EnrichObservation) => void {
  return (event) => {
    switch (event.kind) {
      case 'fetched':
        logger.debug('call fetched', { ...event });
        return;
      case 'recording':
        logger.info(event.copied ? 'recording copied' : 'recording already stored', { ...event });
        if (metrics && event.copied) {
          count(METRIC.RecordingsCopied, 1, metrics);
          countBytes(METRIC.RecordingBytes, event.bytes, metrics);
        }
        return;
      case 'transcript':
        logger.info(event.copied ? 'transcript copied' : 'transcript already stored', { ...event });
        return;
      case 'url-refreshed':
        logger.warn('file URL refused; fetched the call again for a fresh one', { ...event });
        return;
      case 'published':
        logger.info('manifest written (and event sent, with a bus)', { ...event });
        return;
      case 'erased':
        logger.info(
          event.action === 'skip'
            ? 'call not taken in: an erasure deleted it'
            : 'erased participants redacted',
          {
            ...event,
          },
        );
        return;
      case 'saved':
        logger.info('call saved', { ...event });
        if (metrics) count(METRIC.CallsEnriched, 1, metrics);
        return;
    }
  };
}
