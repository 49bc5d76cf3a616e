/**
 * All of a call's transcripts, through the real client against the CometChat simulator over HTTP:
 * Get Call's 5 newest, and the transcriptions endpoint paged through when there may be more.
 */
import { describe, expect, it } from 'vitest';
import { normaliseCall } from '../../../lib/calls/normalise.ts';
import { createCometChatClient } from '../../../lib/cometchat/client.ts';
import { allTranscripts, mayHaveMoreTranscripts } from '../../../lib/enrich/transcripts.ts';
import { start } from '../dev/simulator/started.ts';

const SESSION = 'v1.us.transcripts-unit.1709200800';
const T0 = 1_709_200_800;

function call(transcripts: { tid?: string; startTime?: number; availableFrom?: number }[]) {
  return {
    raw: { sessionId: SESSION, status: 'ended', initiatedAt: T0, participants: [] },
    transcripts,
  };
}

async function fetchAll(
  sim: Awaited<ReturnType<typeof start>>,
  perPage?: number,
): Promise<{ tids: string[]; getCall: string[] }> {
  const client = createCometChatClient({ baseUrl: sim.baseUrl, apiKey: sim.apiKey });
  const fetched = normaliseCall(await client.getCall(SESSION), SESSION);
  const all = await allTranscripts(fetched, client, {}, perPage);
  return { tids: all.map((t) => t.tid), getCall: fetched.transcripts.map((t) => t.tid) };
}

describe('allTranscripts', () => {
  it('pages through the endpoint when Get Call lists 5: 7 transcripts in pages of 3', async () => {
    const sim = await start({
      calls: [call(Array.from({ length: 7 }, (_, i) => ({ tid: `t${i}`, startTime: T0 + i })))],
    });

    const { tids, getCall } = await fetchAll(sim, 3);

    expect(getCall).toEqual(['t2', 't3', 't4', 't5', 't6']);
    expect(tids).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
    expect(sim.requests.filter((r) => r.kind === 'list-transcriptions')).toHaveLength(3);
  });

  it('sends no extra request when Get Call lists fewer than 5', async () => {
    const sim = await start({ calls: [call([{ tid: 'a' }, { tid: 'b' }])] });

    const { tids } = await fetchAll(sim);

    expect(tids).toEqual(['a', 'b']);
    expect(sim.requests.map((r) => r.kind)).toEqual(['get-call']);
  });

  it('finds a transcript only once it has appeared, and asks the endpoint when only the flag says so', async () => {
    let now = T0 * 1000;
    const sim = await start({
      clock: () => now,
      calls: [call([{ tid: 'late', availableFrom: (T0 + 3600) * 1000 }])],
    });

    const before = await fetchAll(sim);
    now = (T0 + 3600) * 1000;
    const after = await fetchAll(sim);

    expect(before.tids).toEqual([]);
    expect(after.tids).toEqual(['late']);
    expect(
      mayHaveMoreTranscripts(
        normaliseCall({ sessionId: SESSION, status: 'ended', hasTranscription: true, transcriptions: [] }),
      ),
    ).toBe(true);
  });
});
