/** `erase`: a user out of every call they took part in, in-process or by the stage's erase function. */
import { createDocumentClient } from '../../lib/aws/dynamodb.ts';
import { command, noSessionIds, withCommonHelp } from './command.ts';
import { asUsage, EXIT, infrastructureFailure } from './exit.ts';
import { fieldTable, printJson, sessionIdTable } from './output.ts';
import { invoke, openLocalStack } from './target.ts';

export const erase = command({
  help: withCommonHelp(`Usage: npm run calls -- erase --uid <uid> --mode delete|redact [--dry-run] [--include-held] [options]

Erases a user from the archive. delete removes every call they took part in (call item, index
items, every version of its files and manifest, its analytics record); redact keeps those calls
but replaces their uid, name and avatar with a salted hash and removes their index items. Either
way an audit record (the salted hash, mode, counts, when) is kept, and enrichment applies the
erasure to these calls from now on. Calls under legal hold are reported and left alone unless
--include-held. Locally this runs in-process; with --stage it invokes the stage's erase function.

  --uid <uid>         the user to erase (never printed, logged or stored)
  --mode <mode>       delete or redact
  --dry-run           list the calls that would be erased; change nothing
  --include-held      erase held calls too`),
  options: {
    uid: { type: 'string' },
    mode: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'include-held': { type: 'boolean' },
  },
  async run({ positionals, values }, { target, json, io }) {
    noSessionIds(positionals, 'erase', '; use --uid');
    const { parseEraseInput } = await import('../../lib/erase/erase.ts');
    const event = {
      uid: values.uid,
      mode: values.mode,
      dryRun: values['dry-run'] ?? false,
      includeHeld: values['include-held'] ?? false,
    };
    await asUsage('erase', () => parseEraseInput(event));
    let result: Record<string, unknown>;
    if (target.kind === 'stage') {
      const outcome = await invoke(target, 'erase', event);
      if ('error' in outcome) {
        if (json) printJson(io, { command: 'erase', target, error: outcome.error });
        else io.stderr.write(`erase failed: ${outcome.error.name}: ${outcome.error.message}\n`);
        return EXIT.failed;
      }
      result = outcome.result as Record<string, unknown>;
    } else {
      const [{ eraseUser }, { eraseDependenciesFromEnv }] = await Promise.all([
        import('../../lib/erase/erase.ts'),
        import('../../lib/erase/dependencies.ts'),
      ]);
      const stack = await openLocalStack(target.dataDir, io, false);
      try {
        const deps = eraseDependenciesFromEnv(stack.env, {
          dynamodb: createDocumentClient(stack.clients.dynamodb),
          s3: stack.clients.s3,
        });
        result = { ...(await eraseUser(event, deps)) };
      } catch (cause) {
        throw infrastructureFailure('could not erase', cause);
      } finally {
        await stack.close();
      }
    }
    if (json) {
      printJson(io, { command: 'erase', target, ...result });
      return EXIT.ok;
    }
    const { sessionIds = [], held = [], ...summary } = result as { sessionIds?: string[]; held?: string[] };
    io.stdout.write(`${fieldTable({ ...summary, held: held.length })}\n`);
    const list = (title: string, ids: readonly string[]) =>
      ids.length > 0 && io.stdout.write(`\n${title}\n${sessionIdTable(ids)}\n`);
    list(event.dryRun ? 'Would be erased (dry run: nothing changed)' : 'Erased', sessionIds);
    list('Held, left alone (--include-held to erase them too)', held);
    return EXIT.ok;
  },
});
