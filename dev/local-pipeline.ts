/**
 * The webhook → queue → enrich pipeline, locally: the dev webhook server calls the real
 * `webhook` handler, whose real SQS client sends to a real FIFO queue (fauxqs, through
 * AWS_ENDPOINT_URL_SQS), and a poller playing Lambda's event source mapping hands its batches
 * to the real `enrich` handler. Nothing in the handlers knows.
 *
 * The handlers read their configuration when first imported, so start one pipeline per process
 * (tests: call `vi.resetModules()` first).
 */
import { randomBytes } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';
import { type LocalQueues, startLocalQueues } from './local-queue.ts';
import type { LocalStack } from './local-stack.ts';
import { startWebhookServer } from './webhook-server.ts';

/** The local enrichment queue and its dead-letter queue. */
export const LOCAL_QUEUE = 'cometchat-enrich.fifo';
export const LOCAL_DEAD_LETTER_QUEUE = 'cometchat-enrich-dlq.fifo';

/** Options for {@link startLocalPipeline}. */
export interface LocalPipelineOptions {
  /** The webhook server's port; default 0 (ephemeral). */
  port?: number;
  /** `user:password`; default WEBHOOK_BASIC_AUTH from the environment, else a random pair. */
  basicAuth?: string;
  /** Wait before a failed message is retried. Default 2000 ms. */
  retryDelayMs?: number;
  /** Receives before the queue's redrive moves a message to its dead-letter queue. Default 3. */
  maxReceiveCount?: number;
  /** Emit EMF metric lines to stdout as in Lambda. Default false (they drown the logs locally). */
  metrics?: boolean;
}

/** A running local pipeline. */
export interface LocalPipeline {
  /** Where to POST CometChat webhooks. */
  readonly webhookUrl: string;
  /** The Basic-auth `user:password` the webhook expects. */
  readonly basicAuth: string;
  readonly queues: LocalQueues;
  /** Resolves once every queued message has been handled (or dead-lettered). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the local queues and the webhook server on top of `stack`, wired to the real handlers. */
export async function startLocalPipeline(
  stack: LocalStack,
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> {
  const basicAuth =
    options.basicAuth ?? process.env.WEBHOOK_BASIC_AUTH ?? `local:${randomBytes(16).toString('hex')}`;
  const queues = await startLocalQueues({
    queues: [LOCAL_QUEUE, LOCAL_DEAD_LETTER_QUEUE],
    retryDelayMs: options.retryDelayMs,
    maxReceiveCount: options.maxReceiveCount,
  });
  try {
    stack.applyEnv();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: queues.endpoint,
      ENRICH_QUEUE_URL: queues.queueUrl(LOCAL_QUEUE),
      ENRICH_DLQ_URL: queues.queueUrl(LOCAL_DEAD_LETTER_QUEUE),
      WEBHOOK_BASIC_AUTH: basicAuth,
      POWERTOOLS_METRICS_DISABLED: options.metrics ? 'false' : 'true',
    });
    const [webhook, enrich] = await Promise.all([
      import('../functions/webhook.ts'),
      import('../functions/queue-consumer.ts'),
    ]);
    const webhookHandler = webhook.handler as unknown as (
      event: APIGatewayProxyEventV2,
      context: Context,
    ) => Promise<APIGatewayProxyResultV2>;
    const enrichHandler = enrich.handler as unknown as (
      event: SQSEvent,
      context: Context,
    ) => Promise<SQSBatchResponse>;
    await queues.consume(
      LOCAL_QUEUE,
      (event) => enrichHandler(event, lambdaContext('enrich', 300_000)),
      LOCAL_DEAD_LETTER_QUEUE,
    );
    const server = await startWebhookServer(
      (event) => webhookHandler(event, lambdaContext('webhook', 10_000)),
      {
        port: options.port,
      },
    );
    return {
      webhookUrl: server.url,
      basicAuth,
      queues,
      drained: () => queues.drained(),
      close: async () => {
        await server.close();
        await queues.close();
      },
    };
  } catch (error) {
    await queues.close();
    throw error;
  }
}
