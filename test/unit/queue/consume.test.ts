import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { EnrichmentResult } from '../../../lib/enrich/enrich.ts';
import {
  CallNotFoundError,
  CometChatUnavailableError,
  OutOfTimeError,
  StorageError,
} from '../../../lib/errors.ts';
import type { MetricsSink } from '../../../lib/metrics.ts';
import { createQueueConsumer, type QueueConsumerDependencies } from '../../../lib/queue/consume.ts';
import type { ReceivedMessage } from '../../../lib/queue/message.ts';
import type { TimeBudget } from '../../../lib/time-budget.ts';

function record(id: string, body: string, group = id, receiveCount = 1): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `r-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '1',
      MessageGroupId: group,
      MessageDeduplicationId: `d-${id}`,
      SequenceNumber: '1',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:enrich.fifo',
    awsRegion: 'us-east-1',
  };
}

const body = (sessionId: string) => JSON.stringify({ sessionId, trigger: 'call_ended', eventKey: 'k' });
const result = (sessionId: string): EnrichmentResult =>
  ({ sessionId, status: 'ended', participants: 2, recordings: [] }) as unknown as EnrichmentResult;

/** Collaborators that record what they were asked, on a clock the test moves. */
function harness(enrich: (message: ReceivedMessage) => Promise<EnrichmentResult>) {
  const clock = { now: 1_000_000 };
  const enriched: string[] = [];
  const deadLettered: [string, string][] = [];
  const announced: [string, string][] = [];
  const metrics: [string, number, Record<string, string>][] = [];
  const sink = {
    addMetric: (name: string, _unit: string, value: number) => void metrics.push([name, value, {}]),
    singleMetric: () => {
      const dimensions: Record<string, string> = {};
      return {
        addDimension: (name: string, value: string) => {
          dimensions[name] = value;
        },
        addMetric: (name: string, _unit: string, value: number) =>
          void metrics.push([name, value, dimensions]),
      };
    },
  } as unknown as MetricsSink;
  const deps: QueueConsumerDependencies = {
    enrich: async (message) => {
      enriched.push(message.sessionId);
      return enrich(message);
    },
    deadLetter: async (sqsRecord, error) => {
      deadLettered.push([sqsRecord.messageId, (error as Error).name]);
    },
    maxReceiveCount: 5,
    announceDeadLettered: async (sqsRecord, error) => {
      announced.push([sqsRecord.messageId, (error as Error).name]);
    },
    logger: { info: () => {}, warn: () => {}, error: () => {}, appendKeys: () => {}, removeKeys: () => {} },
    metrics: sink,
    now: () => clock.now,
  };
  const budget = (msLeft: number, signal = new AbortController().signal): TimeBudget => ({
    signal,
    deadline: clock.now + msLeft,
  });
  return { deps, clock, enriched, deadLettered, announced, metrics, budget };
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

describe('createQueueConsumer', () => {
  it('enriches every message within the budget and acknowledges them', async () => {
    const h = harness(async (message) => result(message.sessionId));
    const consume = createQueueConsumer(h.deps);

    const response = await consume(
      event(record('m1', body('s1')), record('m2', body('s2'))),
      h.budget(60_000),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.enriched).toEqual(['s1', 's2']);
    expect(h.metrics).toContainEqual(['MessagesReceived', 2, {}]);
  });

  it('hands the invocation budget itself to the use case', async () => {
    const h = harness(async (message) => result(message.sessionId));
    const seen: TimeBudget[] = [];
    const consume = createQueueConsumer({
      ...h.deps,
      enrich: async (message, budget) => {
        seen.push(budget);
        return result(message.sessionId);
      },
    });
    const budget = h.budget(60_000);

    await consume(event(record('m1', body('s1'))), budget);

    expect(seen).toEqual([budget]);
  });

  it('sends a permanent failure to the dead-letter queue with its reason, and acknowledges it', async () => {
    const h = harness(async () => {
      throw new CallNotFoundError('no such call');
    });
    const consume = createQueueConsumer(h.deps);

    const response = await consume(event(record('m1', body('gone'))), h.budget(60_000));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.deadLettered).toEqual([['m1', 'CallNotFoundError']]);
    expect(h.metrics).toContainEqual(['EnrichmentFailures', 1, { errorName: 'CallNotFoundError' }]);
    expect(h.metrics).toContainEqual(['DeadLettered', 1, { errorName: 'CallNotFoundError' }]);
  });

  it('dead-letters a body that is not JSON as InvalidInputError without enriching', async () => {
    const h = harness(async (message) => result(message.sessionId));
    const consume = createQueueConsumer(h.deps);

    await consume(event(record('m1', 'not json')), h.budget(60_000));

    expect(h.enriched).toEqual([]);
    expect(h.deadLettered).toEqual([['m1', 'InvalidInputError']]);
  });

  it('reports a retryable failure in batchItemFailures, holds back its group, and lets others through', async () => {
    const h = harness(async (message) => {
      if (message.sessionId === 'failing') throw new CometChatUnavailableError('503');
      return result(message.sessionId);
    });
    const consume = createQueueConsumer(h.deps);

    const response = await consume(
      event(
        record('m1', body('failing'), 'g1'),
        record('m2', body('failing'), 'g1'),
        record('m3', body('passing'), 'g2'),
      ),
      h.budget(60_000),
    );

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['m1', 'm2']);
    expect(h.enriched).toEqual(['failing', 'passing']);
    expect(h.deadLettered).toEqual([]);
  });

  it('announces a retryable failure on the last receive, which SQS dead-letters, and leaves it failed', async () => {
    const h = harness(async () => {
      throw new CometChatUnavailableError('503');
    });
    const consume = createQueueConsumer(h.deps);

    const response = await consume(
      event(record('m1', body('s1'), 'g1', 4), record('m2', body('s2'), 'g2', 5)),
      h.budget(60_000),
    );

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['m1', 'm2']);
    expect(h.announced).toEqual([['m2', 'CometChatUnavailableError']]);
    expect(h.deadLettered).toEqual([]);
    expect(h.metrics).toContainEqual(['DeadLettered', 1, { errorName: 'CometChatUnavailableError' }]);
  });

  it('leaves the last receive failed when the announcement is not taken', async () => {
    const h = harness(async () => {
      throw new StorageError('throttled');
    });
    const consume = createQueueConsumer({
      ...h.deps,
      announceDeadLettered: async () => {
        throw new StorageError('PutEvents failed');
      },
    });

    const response = await consume(event(record('m1', body('s1'), 'g1', 7)), h.budget(60_000));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(h.metrics.filter(([name]) => name === 'DeadLettered')).toEqual([]);
  });

  it('announces nothing when it is not told the queue’s maxReceiveCount', async () => {
    const h = harness(async () => {
      throw new CometChatUnavailableError('503');
    });
    const consume = createQueueConsumer({ ...h.deps, maxReceiveCount: undefined });

    await consume(event(record('m1', body('s1'), 'g1', 99)), h.budget(60_000));

    expect(h.announced).toEqual([]);
  });

  it('keeps a permanent failure for retry when the dead-letter queue refuses it', async () => {
    const h = harness(async () => {
      throw new CallNotFoundError('no such call');
    });
    const consume = createQueueConsumer({
      ...h.deps,
      deadLetter: async () => {
        throw new StorageError('AccessDenied');
      },
    });

    const response = await consume(event(record('m1', body('gone'))), h.budget(60_000));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('does not start a message with less than a quarter of the batch time left', async () => {
    const h = harness(async (message) => {
      // The first call takes most of the invocation.
      h.clock.now += 50_000;
      return result(message.sessionId);
    });
    const consume = createQueueConsumer(h.deps);

    const response = await consume(
      event(record('m1', body('s1'), 'g1'), record('m2', body('s2'), 'g2')),
      h.budget(60_000),
    );

    expect(h.enriched).toEqual(['s1']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(h.metrics).toContainEqual(['EnrichmentFailures', 1, { errorName: OutOfTimeError.name }]);
  });

  it('starts nothing once the budget is spent or its signal has aborted', async () => {
    const h = harness(async (message) => result(message.sessionId));
    const consume = createQueueConsumer(h.deps);
    const aborted = new AbortController();
    aborted.abort();

    const spent = await consume(event(record('m1', body('s1'))), h.budget(0));
    const cancelled = await consume(event(record('m2', body('s2'))), h.budget(60_000, aborted.signal));

    expect(h.enriched).toEqual([]);
    expect(spent).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(cancelled).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
  });
});
