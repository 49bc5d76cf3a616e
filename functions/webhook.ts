/**
 * `webhook`: HTTP API `POST /webhooks/cometchat`. The flow is lib/webhook/receive.ts; this file
 * wires it. Kept light for cold starts: SQS client, node:crypto and Powertools only.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { readQueueConfig, readWebhookConfig } from '../lib/config.ts';
import { SecretError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';
import { enqueueEnrichment } from '../lib/queue/enqueue.ts';
import { secretProvider } from '../lib/secrets.ts';
import { MIDDY_OPTIONS, timeBudgetOf } from '../lib/time-budget.ts';
import { basicAuthCheck } from '../lib/webhook/basic-auth.ts';
import { createWebhookReceiver } from '../lib/webhook/receive.ts';
import { createRecentKeys } from '../lib/webhook/recent-keys.ts';

const config = readWebhookConfig();
const { queueUrl } = readQueueConfig();
// CometChat gives up after 2 s: better a quick 503 (it retries) than an answer it never sees.
// A request SQS took but we timed out on is harmless: the retry carries the same deduplication id.
const sqs = new SQSClient({
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 400, requestTimeout: 700 },
});
const receive = createWebhookReceiver({
  appId: config.appId,
  // Without its credentials the webhook cannot tell anyone apart: a server-side failure (500).
  checkAuth: basicAuthCheck(
    secretProvider(config.basicAuth, 'webhook Basic-auth credentials', (message) => new SecretError(message)),
  ),
  enqueue: (message, budget) => enqueueEnrichment(sqs, queueUrl, message, budget),
  recentlyQueued: createRecentKeys(),
  logger,
  metrics,
});

function webhookHandler(
  event: APIGatewayProxyEventV2,
  context: Context,
  { signal }: { signal: AbortSignal },
): Promise<APIGatewayProxyStructuredResultV2> {
  return receive(event, timeBudgetOf(context, signal));
}

/** The Lambda entry point. The event itself is never logged: it carries the Authorization header. */
export const handler = middy(webhookHandler, MIDDY_OPTIONS)
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(logMetrics(metrics));
