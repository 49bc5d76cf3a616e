/**
 * `erase`: direct invoke. Takes `{uid, mode: "delete" | "redact", dryRun?, includeHeld?}`, returns
 * lib/erase/erase.ts `EraseResult`, or throws an error whose `name` says what failed. The uid is
 * never logged: the event is not logged, and only the result (its salted hash) is.
 */
import { eraseDependenciesFromEnv } from '../lib/erase/dependencies.ts';
import { eraseUser } from '../lib/erase/erase.ts';
import { lambdaHandler } from '../lib/lambda-handler.ts';
import { logger } from '../lib/logger.ts';

const deps = eraseDependenciesFromEnv();

/** The Lambda entry point. */
export const handler = lambdaHandler(
  async (event: unknown, budget) => {
    const { sessionIds, ...result } = await eraseUser(event, deps, budget);
    logger.info('erasure done', { ...result });
    return { ...result, sessionIds };
  },
  { logEvent: false },
);
