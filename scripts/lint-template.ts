/**
 * `npm run lint:template`: `osls package` for the default stage and for prod (the stages whose
 * parameters differ most, see serverless.yml `params`), then cfn-lint over both templates.
 * Fails on any error-level finding and on any warning not listed, with its reason, in
 * docs/operations.md ("cfn-lint warnings"); the listed ones are passed to `--ignore-checks`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageStage } from '../test/aws/support/stack.ts';

/** Warnings documented in docs/operations.md as expected (osls writes them, not serverless.yml). */
const LISTED_WARNINGS = ['W3005'];
const STAGES = ['dev', 'prod'];
/** serverless.yml insists on these; any values will do for linting. */
const PACKAGE_ENV = { COMETCHAT_APP_ID: 'abc123', COMETCHAT_REGION: 'us' };

function cfnLint(templates: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('cfn-lint', ['--ignore-checks', ...LISTED_WARNINGS, '--', ...templates], {
      stdio: 'inherit',
    });
    child.once('error', (error) =>
      reject(new Error('cfn-lint could not be started (is it on PATH?)', { cause: error })),
    );
    child.once('close', (code) => resolve(code ?? 1));
  });
}

const root = await mkdtemp(join(tmpdir(), 'cometchat-lint-'));
try {
  const templates: string[] = [];
  for (const stage of STAGES) {
    const dir = join(root, stage);
    await packageStage(stage, dir, PACKAGE_ENV);
    // The update template is the stack; osls writes a create template only for some stages.
    const written = (await readdir(dir)).filter((name) => /^cloudformation-template-.+\.json$/.test(name));
    if (!written.includes('cloudformation-template-update-stack.json'))
      throw new Error(`osls package --stage ${stage} wrote no update template`);
    templates.push(...written.map((name) => join(dir, name)));
  }
  console.log(`cfn-lint over the ${STAGES.join(' and ')} templates (ignoring ${LISTED_WARNINGS.join(', ')})`);
  const code = await cfnLint(templates);
  // cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational, 1 a failure to run.
  if (code === 0) console.log('cfn-lint: no findings');
  else console.error(`cfn-lint: findings above (exit ${code})`);
  process.exitCode = code === 0 || code === 8 ? 0 : 1;
} finally {
  await rm(root, { recursive: true, force: true });
}
