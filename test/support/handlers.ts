/**
 * Loading a Lambda handler the way a cold start does. The handlers read their configuration
 * when first imported, so apply the environment before calling {@link importHandler}.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { vi } from 'vitest';
import type { BackfillResult } from '../../lib/backfill/backfill.ts';
import type { EnrichmentResult } from '../../lib/enrich/enrich.ts';

/** functions/enrich-call.ts's handler, as a test calls it. */
export type EnrichCallHandler = (event: unknown, context: Context) => Promise<EnrichmentResult>;
/** functions/queue-consumer.ts's handler (the `enrich` function). */
export type QueueConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
/** functions/webhook.ts's handler. */
export type WebhookHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;
/** functions/backfill.ts's handler. */
export type BackfillHandler = (event: unknown, context: Context) => Promise<BackfillResult>;

/** Options for {@link importHandler}. */
export interface ImportHandlerOptions {
  /**
   * Start from a fresh module registry (`vi.resetModules()`), so the handler and everything it
   * imports read the current environment. Default true; false to load a second handler into the
   * registry of the one just imported, sharing its modules.
   */
  fresh?: boolean;
}

/** The `handler` export of `path` (relative to the repository root, e.g. `functions/webhook.ts`). */
export async function importHandler<T>(path: string, options: ImportHandlerOptions = {}): Promise<T> {
  if (options.fresh ?? true) vi.resetModules();
  const module = (await import(new URL(`../../${path}`, import.meta.url).href)) as { handler: unknown };
  return module.handler as T;
}
