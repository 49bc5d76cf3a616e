import { describe, expect, it } from 'vitest';
import type { CometChatSimulator, ListCallsRequest } from '../../../../dev/simulator/index.ts';
import { generateCalls, sessionIdOf } from '../../../support/generated-calls.ts';
import { start } from './started.ts';

type Json = Record<string, unknown>;

const NEWEST = 1_714_550_000;

async function list(sim: CometChatSimulator, query: string): Promise<{ ids: string[]; pagination: Json }> {
  const response = await fetch(`${sim.baseUrl}/calls?${query}`, { headers: { apikey: sim.apiKey } });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { data: Json[]; meta: { pagination: Json } };
  return { ids: body.data.map((c) => String(c.sessionId)), pagination: body.meta.pagination };
}

describe('startCometChatSimulator: List Calls window bounds and hook', () => {
  it('reads the configured parameters as inclusive bounds on initiatedAt', async () => {
    const calls = generateCalls({ count: 10, newest: NEWEST });
    const sim = await start({ calls, listWindowParams: { from: 'initiatedAfter', to: 'initiatedBefore' } });

    const { ids, pagination } = await list(
      sim,
      `initiatedAfter=${NEWEST - 240}&initiatedBefore=${NEWEST - 60}`,
    );

    expect(ids).toEqual(calls.slice(1, 5).map(sessionIdOf));
    expect(pagination).toMatchObject({ total: 4, total_pages: 1 });
  });

  it('ignores bound parameters it was not configured with, and keeps exact filters', async () => {
    const calls = generateCalls({ count: 10, newest: NEWEST });
    const sim = await start({ calls });

    const unbounded = await list(sim, `initiatedAfter=${NEWEST}`);
    const exact = await list(sim, `status=busy`);

    expect(unbounded.ids).toHaveLength(10);
    expect(exact.ids).toEqual(calls.filter((c) => c.raw.status === 'busy').map(sessionIdOf));
  });

  it('lets a hook change the calls between two pages, as new calls do', async () => {
    const calls = generateCalls({ count: 6, newest: NEWEST });
    const sim = await start({ calls });
    const seen: ListCallsRequest[] = [];
    sim.onListCalls((request) => {
      seen.push(request);
      if (request.answered === 1) {
        for (const call of generateCalls({ count: 2, newest: NEWEST + 600, label: 'new' })) sim.addCall(call);
      }
    });

    const first = await list(sim, 'page=1&perPage=3');
    const second = await list(sim, 'page=2&perPage=3');
    sim.onListCalls(undefined);
    await list(sim, 'page=1&perPage=3');

    expect(first.ids).toEqual(calls.slice(0, 3).map(sessionIdOf));
    // Two calls arrived at the front, so page 2 starts with page 1's last two.
    expect(second.ids).toEqual(calls.slice(1, 4).map(sessionIdOf));
    expect(second.pagination).toMatchObject({ total: 8, total_pages: 3 });
    expect(seen.map(({ page, perPage, answered }) => ({ page, perPage, answered }))).toEqual([
      { page: 1, perPage: 3, answered: 0 },
      { page: 2, perPage: 3, answered: 1 },
    ]);
    expect(seen[0]?.query).toEqual({ page: '1', perPage: '3' });
  });
});
