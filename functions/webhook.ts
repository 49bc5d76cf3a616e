/**
 * `webhook`: HTTP API `POST /webhooks/cometchat`. Checks CometChat's Basic auth, reads the
 * envelope, and for `call_ended` / `meeting_ended` / `recording_generated` puts
 * `{sessionId, trigger, eventKey}` on the enrichment queue, answering 200 only once SQS has it.
 * Kept light for cold starts: SQS client, node:crypto and Powertools only (no DynamoDB, no S3).
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { readQueueConfig, readWebhookConfig } from '../lib/config.ts';
import { ConfigError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { count, countRejection, METRIC, metrics } from '../lib/metrics.ts';
import { enqueueEnrichment } from '../lib/queue/enqueue.ts';
import { secretProvider } from '../lib/secrets.ts';
import { basicAuthCheck } from '../lib/webhook/basic-auth.ts';
import { decideWebhook } from '../lib/webhook/envelope.ts';
import { MethodNotAllowedError } from '../lib/webhook/errors.ts';
import { errorResponse, httpStatusOf, jsonResponse } from '../lib/webhook/http-errors.ts';
import { createRecentKeys } from '../lib/webhook/recent-keys.ts';
import { header, readBody } from '../lib/webhook/request.ts';

const config = readWebhookConfig();
const { queueUrl } = readQueueConfig();
// CometChat gives up after 2 s: better a quick 503 (it retries) than an answer it never sees.
// A request SQS took but we timed out on is harmless: the retry carries the same deduplication id.
const sqs = new SQSClient({
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 400, requestTimeout: 700 },
});
const checkAuth = basicAuthCheck(
  // Without its credentials the webhook cannot tell anyone apart: a server-side failure (500).
  secretProvider(config.basicAuth, 'webhook Basic-auth credentials', (message) => new ConfigError(message)),
);
const recentlyQueued = createRecentKeys();

async function webhookHandler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    if (event.requestContext?.http?.method !== 'POST')
      throw new MethodNotAllowedError('only POST is allowed');
    // Credentials first: an unauthenticated caller learns nothing about what the body should be.
    await checkAuth(header(event.headers, 'authorization'));
    const decision = decideWebhook(readBody(event), { appId: config.appId });
    if (decision.kind === 'ignore') {
      logger.info('webhook ignored', { trigger: decision.trigger, reason: decision.reason });
      count(METRIC.WebhookIgnored);
      return jsonResponse(200, { accepted: false, reason: decision.reason });
    }
    const { message } = decision;
    logger.appendKeys({ sessionId: message.sessionId, trigger: message.trigger });
    if (recentlyQueued.has(message.eventKey)) {
      logger.info('webhook redelivered; already queued', { eventKey: message.eventKey });
      count(METRIC.WebhookDuplicate);
      return jsonResponse(200, { accepted: true, duplicate: true });
    }
    await enqueueEnrichment(sqs, queueUrl, message);
    // Only now: a delivery whose send failed must be sent again when CometChat retries it.
    recentlyQueued.remember(message.eventKey);
    logger.info('webhook queued', { eventKey: message.eventKey });
    count(METRIC.WebhookAccepted);
    return jsonResponse(200, { accepted: true });
  } catch (error) {
    const status = httpStatusOf(error);
    if (status >= 500) logger.error('webhook failed', { status, error });
    else logger.warn('webhook rejected', { status, reason: (error as Error).message });
    countRejection(status);
    return errorResponse(error);
  }
}

/** The Lambda entry point. The event itself is never logged: it carries the Authorization header. */
export const handler = middy(webhookHandler)
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(logMetrics(metrics));
