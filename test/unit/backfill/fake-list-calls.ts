/**
 * An in-memory List Calls: pages sliced off an array the test may change between requests. Of
 * the filters it knows only `hasTranscription` (an exact match, as the simulator does).
 */
import type { ListCallsParams, ListCallsResult, RawCall } from '../../../lib/cometchat/client.ts';

/** A call as List Calls returns it, reduced to what the backfill reads. */
export function rawCall(sessionId: string, initiatedAt: number, status = 'ended'): RawCall {
  return { sessionId, initiatedAt, status, type: 'audio', mode: 'call' };
}

/** `count` calls `v1.us.test.<prefix><i>`, newest first, `spacing` seconds apart back from `newest`. */
export function rawCalls(
  count: number,
  newest: number,
  prefix = 'c',
  status = 'ended',
  spacing = 60,
): RawCall[] {
  return Array.from({ length: count }, (_, i) =>
    rawCall(`v1.us.test.${prefix}${String(i).padStart(4, '0')}`, newest - i * spacing, status),
  );
}

/** What the fake answers, and how. */
export interface FakeListCalls {
  /** The listing, in the order pages are cut from it; change it freely. */
  calls: RawCall[];
  /** Every request, in order. */
  readonly requests: ListCallsParams[];
  /** Runs before the page for request number `n` (1-based) is cut. */
  before(n: number, change: (calls: RawCall[]) => void): void;
  /** Leave `meta.pagination` out of the answers. */
  withoutPagination: boolean;
  /** Answer this page number whatever was asked (a server ignoring the page parameter). */
  pinnedPage?: number;
  listCalls(params?: ListCallsParams): Promise<ListCallsResult>;
}

/** A fake List Calls over `calls`. */
export function fakeListCalls(calls: RawCall[]): FakeListCalls {
  const changes = new Map<number, (calls: RawCall[]) => void>();
  const fake: FakeListCalls = {
    calls,
    requests: [],
    withoutPagination: false,
    before(n, change) {
      changes.set(n, change);
    },
    async listCalls(params = {}) {
      fake.requests.push(structuredClone(params));
      changes.get(fake.requests.length)?.(fake.calls);
      const perPage = params.perPage ?? 100;
      const page = fake.pinnedPage ?? params.page ?? 1;
      const wanted = params.filters?.hasTranscription;
      const matching =
        wanted === undefined
          ? fake.calls
          : fake.calls.filter((c) => String(hasTranscripts(c)) === String(wanted));
      const slice = matching.slice((page - 1) * perPage, page * perPage);
      const total = matching.length;
      return {
        calls: structuredClone(slice),
        pagination: fake.withoutPagination
          ? {}
          : {
              total,
              count: slice.length,
              perPage,
              currentPage: page,
              totalPages: Math.ceil(total / perPage),
            },
      };
    },
  };
  return fake;
}

function hasTranscripts(call: RawCall): boolean {
  return (
    call.hasTranscription === true || (Array.isArray(call.transcriptions) && call.transcriptions.length > 0)
  );
}
