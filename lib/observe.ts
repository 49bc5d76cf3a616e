/** Turns the use case's observations into log lines (and, later, metrics). */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { EnrichObservation } from './enrich.ts';

/** An `observe` callback that logs each observation at the right level. */
export function observeWith(
  logger: Pick<Logger, 'info' | 'debug' | 'warn'>,
): (event: EnrichObservation) => void {
  return (event) => {
    switch (event.kind) {
      case 'fetched':
        logger.debug('call fetched', { ...event });
        return;
      case 'recording':
        logger.info(event.copied ? 'recording copied' : 'recording already stored', { ...event });
        return;
      case 'url-refreshed':
        logger.warn('recording URL refused; fetched the call again for a fresh one', { ...event });
        return;
      case 'saved':
        logger.info('call saved', { ...event });
        return;
    }
  };
}
