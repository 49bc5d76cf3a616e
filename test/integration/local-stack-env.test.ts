/**
 * The local stack's environment names the service as the deployed functions' does: Powertools'
 * logger and metrics read POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, which
 * serverless.yml sets for every function (without them, local logs say `service_undefined`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../dev/local-stack.ts';

// serverless.yml's own YAML reader (CloudFormation tags included), so the test reads what osls reads.
const ROOT = join(import.meta.dirname, '..', '..');
const require = createRequire(join(ROOT, 'node_modules', 'osls', 'package.json'));
const yaml = require('js-yaml') as { load(text: string, options: { schema: unknown }): unknown };
const cfSchema = require('./lib/utils/serverless-utils/cloudformation-schema.js') as unknown;

const config = yaml.load(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { schema: cfSchema }) as {
  service: string;
  provider: { environment: Record<string, unknown> };
};
// biome-ignore lint/suspicious/noTemplateCurlyInString: osls's variable syntax, not a template literal.
const SELF_SERVICE = '${self:service}';
/** A provider variable as osls resolves it (only `${self:service}` is used in these two). */
const deployed = (name: string) =>
  String(config.provider.environment[name]).replace(SELF_SERVICE, config.service);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ simulator: false });
});

afterAll(async () => {
  await stack?.close();
});

describe('the local stack environment', () => {
  it('names the service and the metrics namespace as serverless.yml does', () => {
    for (const name of ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE']) {
      expect(stack.env[name], name).toBe(deployed(name));
    }
    expect(stack.env.POWERTOOLS_SERVICE_NAME).toBe('cometchat-call-archive');
  });
});
