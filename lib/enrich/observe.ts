/** Turns the use case's observations into log lines and, when given a metrics sink, metrics. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { count, countBytes, METRIC, type MetricsSink } from '../metrics.ts';
import type { EnrichObservation } from './enrich.ts';

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
      case 'url-refreshed':
        logger.warn('recording URL refused; fetched the call again for a fresh one', { ...event });
        return;
      case 'saved':
        logger.info('call saved', { ...event });
        if (metrics) count(METRIC.CallsEnriched, 1, metrics);
        return;
    }
  };
}
