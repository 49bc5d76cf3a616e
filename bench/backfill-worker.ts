/**
 * The client side of the backfill benchmark, in its own process (bundled like a Lambda): the
 * real adapters from lib/backfill/dependencies.ts against the parent's simulator, dynalite and
 * local queue. Each List Calls request is timestamped as it goes out, which is the rate the
 * budget is about. Input: one JSON argument (the backfill event); output: one JSON line.
 */

import { backfill } from '../lib/backfill/backfill.ts';
import { backfillFromEnv } from '../lib/backfill/dependencies.ts';

/** What the worker reports. */
export interface BackfillOutcome {
  /** ms since the run started, one per List Calls request sent. */
  requestTimes: number[];
  wallMs: number;
  listed: number;
  enqueued: number;
  pages: number;
  complete: boolean;
  /** Peak RSS of the worker, KiB. */
  maxRssKiB: number;
}

async function main(): Promise<void> {
  const event = JSON.parse(process.argv[2] ?? '{}') as unknown;
  const { deps, settings } = backfillFromEnv();
  // The page size is a constant in production; the bench varies it to change the request count.
  const perPage = Number(process.env.BENCH_PER_PAGE) || settings.perPage;
  const requestTimes: number[] = [];
  let started = 0;
  const listCalls = deps.cometChat.listCalls.bind(deps.cometChat);
  const timed = {
    ...deps,
    cometChat: {
      listCalls: (...args: Parameters<typeof listCalls>) => {
        requestTimes.push(performance.now() - started);
        return listCalls(...args);
      },
    },
  };
  started = performance.now();
  const result = await backfill(
    event,
    timed,
    { ...settings, perPage },
    { deadline: Date.now() + 10 * 60_000 },
  );
  const outcome: BackfillOutcome = {
    requestTimes,
    wallMs: performance.now() - started,
    listed: result.listed,
    enqueued: result.enqueued,
    pages: result.pages,
    complete: result.complete,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  // Keep-alive sockets of the SDK clients would hold the process open.
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
