/**
 * Fault scripts: one-shot misbehaviours a test queues for the next matching requests, used in
 * order, so a test says exactly which request fails and how.
 */

/** A one-shot misbehaviour of the API (Get Call / List Calls). */
export type Fault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'hang' };

/** A one-shot misbehaviour of the recording host. */
export type RecordingFault =
  | { kind: 'status'; status: number }
  /** The response's full length is promised, `afterBytes` of its body sent, then the connection cut. */
  | { kind: 'truncate'; afterBytes: number }
  /** `afterBytes` of the body sent, then nothing: the transfer hangs until the client gives up. */
  | { kind: 'stall'; afterBytes: number }
  | { kind: 'redirect'; location: string }
  /** Every URL issued so far for this recording stops working, this request first (403). */
  | { kind: 'expire' }
  /** Served normally: lets a script reach a later request (`pass, pass, expire`). */
  | { kind: 'pass' };

/** Which requests a queued API fault applies to. */
export interface FaultMatch {
  /** A session id: that Get Call; `'*'`: any Get Call. */
  sessionId?: string;
  /** List Calls. With neither field set, the fault applies to the next API request of any kind. */
  list?: boolean;
}

/** Queued faults by key; each is taken once. */
class FaultQueue<F> {
  private readonly queues = new Map<string, F[]>();

  push(key: string, faults: readonly F[]): void {
    this.queues.set(key, [...(this.queues.get(key) ?? []), ...faults]);
  }

  /** The next fault under the first key (in `keys` order) that has one. */
  take(...keys: string[]): F | undefined {
    for (const key of keys) {
      const queue = this.queues.get(key);
      const fault = queue?.shift();
      if (queue?.length === 0) this.queues.delete(key);
      if (fault) return fault;
    }
    return undefined;
  }
}

/** The API's fault script: per session, any Get Call, List Calls, or any request. */
export class ApiFaults {
  private readonly queue = new FaultQueue<Fault>();

  add(match: FaultMatch, faults: readonly Fault[]): void {
    if (match.list && match.sessionId !== undefined) throw new Error('match either list or a session id');
    const key = match.list ? 'list' : match.sessionId === undefined ? 'any' : `get:${match.sessionId}`;
    this.queue.push(key, faults);
  }

  /** The fault for this request, most specific match first. */
  take(request: { list: true } | { list: false; sessionId: string }): Fault | undefined {
    return request.list
      ? this.queue.take('list', 'any')
      : this.queue.take(`get:${request.sessionId}`, 'get:*', 'any');
  }
}

/** The recording host's fault script, per rid. */
export class RecordingFaults {
  private readonly queue = new FaultQueue<RecordingFault>();

  add(rid: string, faults: readonly RecordingFault[]): void {
    this.queue.push(rid, faults);
  }

  take(rid: string): RecordingFault | undefined {
    return this.queue.take(rid);
  }
}
