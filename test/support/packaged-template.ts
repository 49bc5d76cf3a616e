/**
 * The CloudFormation template `osls package` emits for serverless.yml (offline, with any `--param`
 * settings) and the queries the template tests share: resources, functions, and every IAM
 * statement a role ends up with. Packaged from a copy without the esbuild plugin: the template is
 * the same, and it never collides with a suite building in the shared .esbuild folder.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/** The service name serverless.yml declares. */
export const SERVICE = 'cometchat-call-archive';

/** One CloudFormation resource. */
export interface TemplateResource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  Properties: Record<string, unknown>;
}

/** The packaged template (the parts the tests read). */
export interface Template {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Condition?: string; Value: unknown }>;
}

/** One IAM policy statement. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Packages `stage` with `params` (`--param name=value`) and returns the update-stack template. */
export async function packageTemplate(stage: string, params: Record<string, string> = {}): Promise<Template> {
  const dir = await mkdtemp(join(tmpdir(), `osls-template-${stage}-`));
  try {
    const yml = await readFile(join(ROOT, 'serverless.yml'), 'utf8');
    const withoutBundler = yml.replace(/^plugins:\n(?: {2}- .*\n)+/m, '');
    if (withoutBundler === yml) throw new Error('serverless.yml: no plugins block to drop');
    await writeFile(join(dir, 'serverless.yml'), withoutBundler);
    await cp(join(ROOT, 'infra'), join(dir, 'infra'), { recursive: true });
    const paramArgs = Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);
    await run(
      process.execPath,
      [
        join(ROOT, 'node_modules/osls/bin/serverless.js'),
        'package',
        '--stage',
        stage,
        '--package',
        join(dir, '.package'),
        ...paramArgs,
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          COMETCHAT_APP_ID: 'abc123',
          COMETCHAT_REGION: 'us',
          SLS_TELEMETRY_DISABLED: '1',
        },
        timeout: 120_000,
      },
    );
    return JSON.parse(
      await readFile(join(dir, '.package', 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `value` as an array (IAM allows a single action or resource without brackets). */
export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The resource called `name`; throws when the template has none. */
export function resource(template: Template, name: string): TemplateResource {
  const found = template.Resources[name];
  if (!found) throw new Error(`no resource ${name} in the template`);
  return found;
}

/** Every resource of one type, as [logical id, resource]. */
export function resourcesOf(template: Template, type: string): [string, TemplateResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The properties of the function serverless.yml calls `name`, in `stage`. */
export function functionNamed(template: Template, name: string, stage: string): Record<string, unknown> {
  const found = resourcesOf(template, 'AWS::Lambda::Function').find(
    ([, f]) => f.Properties.FunctionName === `${SERVICE}-${stage}-${name}`,
  );
  if (!found) throw new Error(`no function ${name}`);
  return found[1].Properties;
}

/** The logical id of the role a function runs as. */
export function roleOf(template: Template, functionName: string, stage: string): string {
  const role = functionNamed(template, functionName, stage).Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

type PolicyDocument = { PolicyDocument: { Statement: Statement[] } };

/** Every statement role `roleName` gets: inline, attached managed policies, and IAM policies naming it. */
export function statementsOfRole(template: Template, roleName: string): Statement[] {
  const role = resource(template, roleName);
  const inline = (role.Properties.Policies ?? []) as PolicyDocument[];
  const managed = ((role.Properties.ManagedPolicyArns ?? []) as { Ref?: string }[]).map((arn) => {
    const policy = arn.Ref ? template.Resources[arn.Ref] : undefined;
    if (!policy) throw new Error(`role attaches a policy from outside the stack: ${JSON.stringify(arn)}`);
    return policy.Properties as PolicyDocument;
  });
  const attached = resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, p]) => ((p.Properties.Roles ?? []) as { Ref?: string }[]).some((r) => r.Ref === roleName))
    .map(([, p]) => p.Properties as PolicyDocument);
  return [...inline, ...managed, ...attached].flatMap((p) => p.PolicyDocument.Statement);
}

/** The statements of a function's role whose resources match `resourcePattern` (as JSON). */
export function statementsOn(
  template: Template,
  functionName: string,
  stage: string,
  resourcePattern: RegExp,
): Statement[] {
  return statementsOfRole(template, roleOf(template, functionName, stage)).filter((st) =>
    asArray(st.Resource).some((r) => resourcePattern.test(JSON.stringify(r))),
  );
}

/** The sorted actions a function's role allows on resources matching `resourcePattern`. */
export function actionsOn(template: Template, functionName: string, stage: string, resourcePattern: RegExp) {
  return statementsOn(template, functionName, stage, resourcePattern)
    .flatMap((st) => asArray(st.Action))
    .sort();
}
