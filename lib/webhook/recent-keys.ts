/**
 * A small, bounded memory of event keys this container has queued recently, so a redelivery to
 * the same container is answered without calling SQS again. Across containers, the FIFO queue's
 * own 5-minute deduplication covers it; this only saves the request.
 */

/** Recently seen keys; a key is forgotten after `ttlMs` or when `capacity` newer keys push it out. */
export interface RecentKeys {
  has(key: string): boolean;
  remember(key: string): void;
}

/** Options for {@link createRecentKeys}. */
export interface RecentKeysOptions {
  /** Default 1000. */
  capacity?: number;
  /** Default 5 minutes, SQS FIFO's deduplication window. */
  ttlMs?: number;
  now?: () => number;
}

/** A least-recently-remembered cache of keys with an expiry. */
export function createRecentKeys(options: RecentKeysOptions = {}): RecentKeys {
  const capacity = Math.max(1, options.capacity ?? 1000);
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: the first entry is always the oldest.
  const expiries = new Map<string, number>();
  return {
    has(key) {
      const expiry = expiries.get(key);
      if (expiry === undefined) return false;
      if (expiry <= now()) {
        expiries.delete(key);
        return false;
      }
      return true;
    },
    remember(key) {
      expiries.delete(key);
      expiries.set(key, now() + ttlMs);
      while (expiries.size > capacity) {
        const oldest = expiries.keys().next().value as string;
        expiries.delete(oldest);
      }
    },
  };
}
