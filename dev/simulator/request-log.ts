/**
 * What the simulator answered, in order: tests assert on requests at the wire, never on counters
 * inside the code under test. Paths carry no query string, so signed URLs leave no secret here.
 */

/** One line of the request log. `status` 0 means no HTTP answer (reset, hang). */
export interface SimulatorRequest {
  method: string;
  /** The path without its query string. */
  path: string;
  status: number;
  kind: 'get-call' | 'list-calls' | 'list-transcriptions' | 'recording' | 'transcript' | 'other';
  /** Recordings: which one. */
  rid?: string;
  /** Recordings: the `Range` header as sent, when there was one. */
  range?: string;
  /** Recordings: body bytes handed to the connection so far (it grows while the body streams). */
  bytes?: number;
}

/** The log, with waiters for tests that need "after N requests". */
export class RequestLog {
  readonly entries: SimulatorRequest[] = [];
  private readonly waiters = new Set<{ count: number; resolve: () => void; reject: (e: Error) => void }>();
  private readonly byteWaiters = new Set<{
    bytes: number;
    rid: string | undefined;
    resolve: () => void;
    reject: (e: Error) => void;
  }>();
  private closed = false;
  private bodies = 0;
  private mostBodies = 0;

  /** Appends `entry` and returns it, so a streaming body can keep its byte count current. */
  add(entry: SimulatorRequest): SimulatorRequest {
    this.entries.push(entry);
    for (const waiter of this.waiters) {
      if (this.entries.length >= waiter.count) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
    return entry;
  }

  /** Adds to a recording entry's byte count as its body streams. */
  addBytes(entry: SimulatorRequest, bytes: number): void {
    entry.bytes = (entry.bytes ?? 0) + bytes;
    for (const waiter of this.byteWaiters) {
      if (this.bytesServed(waiter.rid) >= waiter.bytes) {
        this.byteWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** A recording body started streaming. */
  bodyStarted(): void {
    this.bodies += 1;
    this.mostBodies = Math.max(this.mostBodies, this.bodies);
  }

  bodyEnded(): void {
    this.bodies -= 1;
  }

  /** The most recording bodies streaming at once since the last reset (parts in flight, at the wire). */
  mostBodiesAtOnce(): number {
    return this.mostBodies;
  }

  reset(): void {
    this.entries.length = 0;
    this.mostBodies = this.bodies;
  }

  /** Body bytes served for recording `rid`, or for every recording, since the last reset. */
  bytesServed(rid?: string): number {
    let total = 0;
    for (const entry of this.entries) {
      if (entry.kind === 'recording' && (rid === undefined || entry.rid === rid)) total += entry.bytes ?? 0;
    }
    return total;
  }

  waitFor(count: number): Promise<void> {
    if (this.entries.length >= count) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the simulator is closed'));
    return new Promise((resolve, reject) => this.waiters.add({ count, resolve, reject }));
  }

  /** Resolves once `bytesServed(rid)` reaches `bytes`: "kill the copy at 60%" without polling. */
  waitForBytes(bytes: number, rid?: string): Promise<void> {
    if (this.bytesServed(rid) >= bytes) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the simulator is closed'));
    return new Promise((resolve, reject) => this.byteWaiters.add({ bytes, rid, resolve, reject }));
  }

  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiters, ...this.byteWaiters])
      waiter.reject(new Error('the simulator closed'));
    this.waiters.clear();
    this.byteWaiters.clear();
  }
}
