/** `hold` and `release`: a call under legal hold, or off it. */
import { command, oneSessionId, withCommonHelp } from './command.ts';
import { EXIT, infrastructureFailure } from './exit.ts';
import { fieldTable, printJson } from './output.ts';
import { withArchive } from './target.ts';

function holdCommand(held: boolean, help: string) {
  return command({
    help: withCommonHelp(help),
    options: {},
    async run({ positionals }, { name, target, json, io }) {
      const sessionId = await oneSessionId(positionals, name);
      const [{ setHold }, { createCallStore }] = await Promise.all([
        import('../../lib/archive/hold.ts'),
        import('../../lib/store/call-store.ts'),
      ]);
      const result = await withArchive(
        target,
        io,
        async ({ documents, s3, tableName, bucket, retention }) => {
          const store = createCallStore({ tableName, client: documents, retention });
          try {
            return await setHold({ store, s3, bucket }, sessionId, held);
          } catch (cause) {
            throw infrastructureFailure(`could not ${name} ${sessionId}`, cause);
          }
        },
      );
      if (json) {
        printJson(io, { command: name, target, sessionId, found: result !== undefined, ...result });
      } else if (!result) {
        io.stdout.write(`No call ${sessionId} is stored.\n`);
      } else {
        const expires =
          result.expiresAt === undefined ? 'never' : new Date(result.expiresAt * 1000).toISOString();
        io.stdout.write(`${fieldTable({ ...result, missing: result.missing.length, expires })}\n`);
      }
      return result ? EXIT.ok : EXIT.failed;
    },
  });
}

export const hold = holdCommand(
  true,
  `Usage: npm run calls -- hold <sessionId> [options]

Puts a call under legal hold: its items lose their expiresAt (DynamoDB TTL leaves them) and every
file is tagged hold=true (the S3 lifecycle rule leaves it), whatever the retention.`,
);

export const release = holdCommand(
  false,
  `Usage: npm run calls -- release <sessionId> [options]

Takes a call off legal hold: its items get their expiresAt back (with retention) and every file is
tagged hold=false again, so the retention applies to it as to any other call.`,
);
