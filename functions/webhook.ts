/**
 * `webhook`: HTTP API `POST /webhooks/cometchat`. The flow is lib/webhook/receive.ts; this file
 * wires it. Kept light for cold starts: SQS client, node:crypto and Powertools only.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { readQueueConfig, readWebhookConfig } from '../lib/config.ts';
import { SecretError } from '../lib/errors.ts';
import { lambdaHandler } from '../lib/lambda-handler.ts';
import { logger } from '../lib/logger.ts';
import { metrics } from '../lib/metrics.ts';
import { enqueueEnrichment } from '../lib/queue/enqueue.ts';
import { secretProvider } from '../lib/secrets.ts';
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

/** The Lambda entry point. The event itself is never logged: it carries the Authorization header. */
export const handler = lambdaHandler((event: APIGatewayProxyEventV2, budget) => receive(event, budget), {
  logEvent: false,
});
