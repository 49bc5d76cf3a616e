/**
 * CloudWatch metrics as Embedded Metric Format log lines (Powertools Metrics), flushed by the
 * `logMetrics` middleware at the end of each invocation. Powertools reads its namespace and
 * service (POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME) from serverless.yml's
 * environment. Metrics with a dimension of their own (`errorName`, `status`) go out as single
 * metrics, so they never stamp it on the others.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** Metric names (dashboards and alarms depend on them). */
export const METRIC = {
  /** A call was fetched and stored. */
  CallsEnriched: 'CallsEnriched',
  /** A recording was downloaded and written to S3 (not counted when it was already there). */
  RecordingsCopied: 'RecordingsCopied',
  /** Bytes of recordings copied. */
  RecordingBytes: 'RecordingBytes',
  /** An enrichment failed; dimension `errorName`. */
  EnrichmentFailures: 'EnrichmentFailures',
  /** A message was sent to the dead-letter queue; dimension `errorName`. */
  DeadLettered: 'DeadLettered',
  /** Messages the queue consumer received. */
  MessagesReceived: 'MessagesReceived',
  /** The webhook queued a session. */
  WebhookAccepted: 'WebhookAccepted',
  /** The webhook answered 200 for a trigger it does not archive. */
  WebhookIgnored: 'WebhookIgnored',
  /** The webhook recognised a redelivery and did not queue it again. */
  WebhookDuplicate: 'WebhookDuplicate',
  /** The webhook answered 4xx/5xx; dimension `status`. */
  WebhookRejected: 'WebhookRejected',
} as const;

/** The shared metrics instance. */
export const metrics = new Metrics();

/** The subset of Metrics the helpers below use (tests hand in their own). */
export type MetricsSink = Pick<Metrics, 'addMetric' | 'singleMetric'>;

/** Adds a count to this invocation's metrics. */
export function count(name: string, value = 1, sink: Pick<Metrics, 'addMetric'> = metrics): void {
  sink.addMetric(name, MetricUnit.Count, value);
}

/** Adds a byte count to this invocation's metrics. */
export function countBytes(name: string, bytes: number, sink: Pick<Metrics, 'addMetric'> = metrics): void {
  sink.addMetric(name, MetricUnit.Bytes, bytes);
}

/** Emits `name` at once with its own extra dimension (so it never lands on the other metrics). */
export function countWith(name: string, dimension: string, value: string, sink: MetricsSink = metrics): void {
  const single = sink.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** Counts a failed enrichment by the error's name. */
export function countFailure(error: unknown, sink: MetricsSink = metrics): void {
  countWith(METRIC.EnrichmentFailures, 'errorName', errorNameOf(error), sink);
}

/** The error's `name`, kept to a dimension-safe form; `Error` for non-errors. */
export function errorNameOf(error: unknown): string {
  const name = error instanceof Error ? error.name : 'Error';
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'Error';
}

/**
 * Counts a webhook rejection by HTTP status. It is the rejected invocation's only metric, so the
 * dimension goes on the invocation's own set (one EMF line, no "no metrics" warning).
 */
export function countRejection(
  status: number,
  sink: Pick<Metrics, 'addMetric' | 'addDimension'> = metrics,
): void {
  sink.addDimension('status', String(status));
  sink.addMetric(METRIC.WebhookRejected, MetricUnit.Count, 1);
}
