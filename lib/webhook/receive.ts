/**
 * The webhook's flow: check CometChat's Basic auth, decide what the envelope asks for, and for
 * the triggers we archive put `{sessionId, trigger, eventKey}` on the enrichment queue, answering
 * 200 only once SQS has it. Every failure becomes its HTTP answer in lib/webhook/http-errors.ts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { count, countRejection, METRIC } from '../metrics.ts';
import type { EnrichmentMessage } from '../queue/message.ts';
import type { TimeBudget } from '../time-budget.ts';
import { decideWebhook } from './envelope.ts';
import { MethodNotAllowedError } from './errors.ts';
import { errorResponse, httpStatusOf, jsonResponse } from './http-errors.ts';
import type { RecentKeys } from './recent-keys.ts';
import { header, readBody } from './request.ts';

/** The webhook's collaborators. */
export interface WebhookDependencies {
  /** Only envelopes for this CometChat app are accepted. */
  appId: string;
  /** Resolves for the expected credentials; throws `WebhookAuthError` otherwise. */
  checkAuth(authorization: string | undefined): Promise<void>;
  /** Resolves once the queue has the message; throws `StorageError` otherwise. */
  enqueue(message: EnrichmentMessage, budget: TimeBudget): Promise<void>;
  /** Event keys this container queued lately: a redelivery is answered without queueing again. */
  recentlyQueued: RecentKeys;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'appendKeys'>;
  metrics: Pick<Metrics, 'addMetric' | 'addDimension'>;
}

/** The webhook's request handler: an HTTP API (payload v2) event in, its answer out. */
export function createWebhookReceiver(
  deps: WebhookDependencies,
): (event: APIGatewayProxyEventV2, budget: TimeBudget) => Promise<APIGatewayProxyStructuredResultV2> {
  const { logger, metrics } = deps;
  return async (event, budget) => {
    try {
      if (event.requestContext?.http?.method !== 'POST') {
        throw new MethodNotAllowedError('only POST is allowed');
      }
      // Credentials first: an unauthenticated caller learns nothing about what the body should be.
      await deps.checkAuth(header(event.headers, 'authorization'));
      const decision = decideWebhook(readBody(event), { appId: deps.appId });
      if (decision.kind === 'ignore') {
        logger.info('webhook ignored', { trigger: decision.trigger, reason: decision.reason });
        count(METRIC.WebhookIgnored, 1, metrics);
        return jsonResponse(200, { accepted: false, reason: decision.reason });
      }
      const { message } = decision;
      logger.appendKeys({ sessionId: message.sessionId, trigger: message.trigger });
      if (deps.recentlyQueued.has(message.eventKey)) {
        logger.info('webhook redelivered; already queued', { eventKey: message.eventKey });
        count(METRIC.WebhookDuplicate, 1, metrics);
        return jsonResponse(200, { accepted: true, duplicate: true });
      }
      await deps.enqueue(message, budget);
      // Only now: a delivery whose send failed must be sent again when CometChat retries it.
      deps.recentlyQueued.remember(message.eventKey);
      logger.info('webhook queued', { eventKey: message.eventKey });
      count(METRIC.WebhookAccepted, 1, metrics);
      return jsonResponse(200, { accepted: true });
    } catch (error) {
      const status = httpStatusOf(error);
      if (status >= 500) logger.error('webhook failed', { status, error });
      else logger.warn('webhook rejected', { status, reason: (error as Error).message });
      countRejection(status, metrics);
      return errorResponse(error);
    }
  };
}
