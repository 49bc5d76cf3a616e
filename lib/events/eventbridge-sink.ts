/**
 * The EventBridge sink: PutEvents to one bus. The SDK is imported on first use, so functions
 * deployed without a bus never load it. A request that fails, or any entry EventBridge does not
 * take, is a `StorageError` with EventBridge's own error as the cause.
 */
import type { EventBridgeClient, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { StorageError } from '../errors.ts';
import { type ArchiveEvent, EVENT_SOURCE, type EventSink, type PublishOptions } from './archive-events.ts';

/** What the sink needs of an EventBridge client (tests hand in their own). */
export type EventBridgeLike = Pick<EventBridgeClient, 'send'>;

/** PutEvents takes at most ten entries. */
const MAX_ENTRIES = 10;

let sharedClient: Promise<EventBridgeLike> | undefined;

function defaultClient(): Promise<EventBridgeLike> {
  sharedClient ??= import('@aws-sdk/client-eventbridge').then((sdk) => new sdk.EventBridgeClient({}));
  return sharedClient;
}

/** An EventBridge failure as an Error, so it can be a `cause` with EventBridge's code as its name. */
function entryError(code: string | undefined, message: string | undefined): Error {
  const error = new Error(message ?? code ?? 'entry not accepted');
  error.name = code ?? 'EventBridgeEntryError';
  return error;
}

/** A sink sending to `busName` (a name or ARN) through `client`, or a module-level client. */
export function createEventBridgeSink(options: { busName: string; client?: EventBridgeLike }): EventSink {
  return {
    async put(events: readonly ArchiveEvent[], { signal }: PublishOptions = {}) {
      const [{ PutEventsCommand }, client] = await Promise.all([
        import('@aws-sdk/client-eventbridge'),
        options.client ?? defaultClient(),
      ]);
      for (let start = 0; start < events.length; start += MAX_ENTRIES) {
        const batch = events.slice(start, start + MAX_ENTRIES);
        let response: PutEventsCommandOutput;
        try {
          response = await client.send(
            new PutEventsCommand({
              Entries: batch.map((event) => ({
                EventBusName: options.busName,
                Source: EVENT_SOURCE,
                DetailType: event.detailType,
                Detail: JSON.stringify(event.detail),
              })),
            }),
            { abortSignal: signal },
          );
        } catch (cause) {
          throw new StorageError('EventBridge did not take the events (PutEvents failed)', { cause });
        }
        const failed = response.FailedEntryCount ?? 0;
        if (failed > 0) {
          const first = response.Entries?.find((entry) => entry.ErrorCode !== undefined);
          throw new StorageError(`EventBridge did not take ${failed} of ${batch.length} events`, {
            cause: entryError(first?.ErrorCode, first?.ErrorMessage),
          });
        }
      }
    },
  };
}
