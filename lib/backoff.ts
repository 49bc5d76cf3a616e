/**
 * The one backoff used for every retry this project makes itself (CometChat requests, SQS
 * batches, DynamoDB unprocessed keys, recording parts), and an abortable sleep to wait it out.
 */

/**
 * Full-jitter exponential backoff: `random() * min(maxDelayMs, baseDelayMs * 2^retry)`, where
 * `retry` counts from 0 for the first retry. Always within [0, that cap]; a `random()` outside
 * [0, 1] or NaN is clamped rather than trusted.
 */
export function backoffDelayMs(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const base = Number.isFinite(baseDelayMs) && baseDelayMs > 0 ? baseDelayMs : 0;
  const max = Number.isFinite(maxDelayMs) && maxDelayMs > 0 ? maxDelayMs : 0;
  const exponent = Number.isFinite(retry) && retry > 0 ? Math.floor(retry) : 0;
  // 2^64 keeps the product finite (0 * Infinity would be NaN) and is far past any real cap.
  const cap = Math.min(max, base * 2 ** Math.min(exponent, 64));
  const r = random();
  const fraction = Number.isNaN(r) ? 0 : Math.min(1, Math.max(0, r));
  return Math.floor(fraction * cap);
}

/** Waits `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
