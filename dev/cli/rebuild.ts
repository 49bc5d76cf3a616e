/** `rebuild --from-s3`: the table's calls put back from the manifests in the bucket. */
import { renderTable } from '../cli-support.ts';
import { command, noSessionIds, withCommonHelp } from './command.ts';
import { EXIT, infrastructureFailure, UsageError } from './exit.ts';
import { fieldTable, printJson } from './output.ts';
import { withArchive } from './target.ts';

export const rebuild = command({
  help: withCommonHelp(`Usage: npm run calls -- rebuild --from-s3 [options]

Rebuilds the calls table from the manifests (call.json) in S3 alone: each call item and its
participant index items are put back, unless the table holds a later revision of that call.
Locally it reads the local bucket into the local table; with --stage, the stage's bucket and
table (as the stage's enrichCall function is configured).

  --from-s3           required: the manifests in S3 are what the table is rebuilt from`),
  options: { 'from-s3': { type: 'boolean' } },
  async run({ positionals, values }, { target, json, io }) {
    noSessionIds(positionals, 'rebuild');
    if (values['from-s3'] !== true) {
      throw new UsageError('rebuild needs --from-s3: the manifests in S3 are its only source', 'rebuild');
    }
    const [{ rebuildFromManifests }, { createManifestStore }, { createCallStore }] = await Promise.all([
      import('../../lib/manifest/rebuild.ts'),
      import('../../lib/manifest/manifest-store.ts'),
      import('../../lib/store/call-store.ts'),
    ]);
    const { where, result } = await withArchive(
      target,
      io,
      async ({ documents, s3, tableName, bucket, prefix }) => {
        const where = { tableName, bucket, prefix };
        try {
          const result = await rebuildFromManifests(
            {
              manifests: createManifestStore({ s3, bucket }),
              store: createCallStore({ tableName, client: documents }),
            },
            prefix,
          );
          return { where, result };
        } catch (cause) {
          throw infrastructureFailure(`could not list the manifests in s3://${bucket}/${prefix}`, cause);
        }
      },
    );

    const { failed, ...counts } = result;
    if (json) {
      printJson(io, { command: 'rebuild', target, ...where, ...result });
    } else {
      io.stdout.write(`${fieldTable({ ...where, ...counts, failed: failed.length })}\n`);
      if (failed.length > 0) {
        io.stdout.write(
          `\n${renderTable(
            ['manifest', 'error'],
            failed.map((f) => [f.key, `${f.errorName}: ${f.errorMessage}`]),
          )}\n`,
        );
      }
    }
    return failed.length > 0 ? EXIT.failed : EXIT.ok;
  },
});
