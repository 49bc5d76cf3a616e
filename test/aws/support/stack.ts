/**
 * The packaged service deployed into moto the way `osls deploy` deploys it: the create-stack
 * template first (it holds the deployment bucket), the function zips uploaded to the S3 keys the
 * full template names, then an update to the full template. Nothing in the template is rewritten,
 * so the Lambda functions' `Code` points at real objects in moto's S3, as it does in AWS.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ROOT, run, unzip } from '../../../bench/support/serverless.ts';

/** Credentials and region every client of the moto suite uses (moto accepts any). */
export const MOTO_REGION = 'us-east-1';
export const motoCredentials = () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' });

/** The stage the suite packages; the stack is `cometchat-call-archive-<stage>`. */
export const STAGE = 'awstest';
export const STACK_NAME = `cometchat-call-archive-${STAGE}`;

type Resource = { Type: string; Properties: Record<string, unknown> };
/** A CloudFormation template as `osls package` writes it. */
export interface Template {
  Resources: Record<string, Resource>;
}

/** What `osls package` reads from the project: copied (osls wants a real serverless.yml) or linked. */
const SERVICE_FILES = ['serverless.yml', 'package.json', 'tsconfig.json'];
const SERVICE_FOLDERS = ['node_modules', 'functions', 'lib', 'infra'];

/**
 * `osls package` for `stage` into `dir`, offline; the variables serverless.yml insists on come
 * from `env`. It runs in a private folder linking the project's files, because serverless-esbuild
 * builds in `<service>/.esbuild`, which another package run (a test, a benchmark) may be using.
 */
export async function packageStage(stage: string, dir: string, env: Record<string, string>): Promise<void> {
  const service = await mkdtemp(join(tmpdir(), 'cometchat-service-'));
  try {
    for (const name of SERVICE_FILES) await copyFile(join(ROOT, name), join(service, name));
    for (const name of SERVICE_FOLDERS) await symlink(join(ROOT, name), join(service, name));
    await run(
      process.execPath,
      [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', stage, '--package', dir],
      { cwd: service, env: { SLS_TELEMETRY_DISABLED: '1', ...env } },
    );
  } finally {
    await rm(service, { recursive: true, force: true });
  }
}

/** Reads a packaged template (`create` or `update`). */
export async function readTemplate(dir: string, which: 'create' | 'update' = 'update'): Promise<Template> {
  return JSON.parse(
    await readFile(join(dir, `cloudformation-template-${which}-stack.json`), 'utf8'),
  ) as Template;
}

/** Unpacks each function's zip into `dir/<zip name>/` and returns the folder per zip name. */
export async function unpackFunctions(dir: string, names: readonly string[]): Promise<Map<string, string>> {
  const folders = new Map<string, string>();
  for (const name of names) {
    const target = join(dir, 'unzipped', name);
    for (const entry of unzip(await readFile(join(dir, `${name}.zip`)))) {
      const path = join(target, entry.name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, entry.data);
    }
    folders.set(name, target);
  }
  return folders;
}

function cloudFormation(endpoint: string): CloudFormationClient {
  return new CloudFormationClient({ endpoint, region: MOTO_REGION, credentials: motoCredentials() });
}

/** Waits for the stack to leave `*_IN_PROGRESS`; throws with the failed resources' reasons unless it ends in `expected`. */
async function settle(cf: CloudFormationClient, expected: string): Promise<void> {
  for (;;) {
    const stack = (await cf.send(new DescribeStacksCommand({ StackName: STACK_NAME }))).Stacks?.[0];
    const status = stack?.StackStatus ?? 'MISSING';
    if (!status.endsWith('_IN_PROGRESS')) {
      if (status === expected) return;
      const events =
        (await cf.send(new DescribeStackEventsCommand({ StackName: STACK_NAME }))).StackEvents ?? [];
      const failed = events
        .filter((event) => event.ResourceStatus?.includes('FAILED'))
        .map((event) => `${event.LogicalResourceId}: ${event.ResourceStatusReason}`);
      throw new Error(
        `stack ${STACK_NAME} ended ${status}, not ${expected}: ${failed.join('; ') || stack?.StackStatusReason}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Logical id → physical id of every resource in the stack. */
export async function stackResources(endpoint: string): Promise<Map<string, string>> {
  const cf = cloudFormation(endpoint);
  try {
    const resources = new Map<string, string>();
    let NextToken: string | undefined;
    do {
      const page = await cf.send(new ListStackResourcesCommand({ StackName: STACK_NAME, NextToken }));
      for (const summary of page.StackResourceSummaries ?? []) {
        if (summary.LogicalResourceId && summary.PhysicalResourceId)
          resources.set(summary.LogicalResourceId, summary.PhysicalResourceId);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return resources;
  } finally {
    cf.destroy();
  }
}

/**
 * moto's CloudFormation creates an AWS::S3::Bucket with its encryption and tags only; AWS applies
 * the rest of its properties too. The one the handlers' behaviour depends on, versioning (one
 * version per archived file), is applied here as the template declares it, through the S3 API.
 */
async function applyWhatMotoSkips(
  s3: S3Client,
  template: Template,
  resources: ReadonlyMap<string, string>,
): Promise<void> {
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const versioning = resource.Properties.VersioningConfiguration as
      | { Status: 'Enabled' | 'Suspended' }
      | undefined;
    const bucket = resources.get(logicalId);
    if (resource.Type !== 'AWS::S3::Bucket' || !versioning || !bucket) continue;
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: versioning }));
  }
}

/** Deploys the package in `dir` as the stack, as `osls deploy` would; rejects unless it completes. */
export async function deployStack(endpoint: string, dir: string): Promise<Map<string, string>> {
  const cf = cloudFormation(endpoint);
  const s3 = new S3Client({
    endpoint,
    region: MOTO_REGION,
    credentials: motoCredentials(),
    forcePathStyle: true,
  });
  const capabilities = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'] as const;
  try {
    await cf.send(
      new CreateStackCommand({
        StackName: STACK_NAME,
        TemplateBody: await readFile(join(dir, 'cloudformation-template-create-stack.json'), 'utf8'),
        Capabilities: [...capabilities],
      }),
    );
    await settle(cf, 'CREATE_COMPLETE');
    const deploymentBucket = (await stackResources(endpoint)).get('ServerlessDeploymentBucket');
    if (!deploymentBucket) throw new Error('the create-stack template made no ServerlessDeploymentBucket');
    const template = await readTemplate(dir);
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const key = (resource.Properties.Code as { S3Key: string }).S3Key;
      await s3.send(
        new PutObjectCommand({
          Bucket: deploymentBucket,
          Key: key,
          Body: await readFile(join(dir, key.slice(key.lastIndexOf('/') + 1))),
        }),
      );
    }
    await cf.send(
      new UpdateStackCommand({
        StackName: STACK_NAME,
        TemplateBody: JSON.stringify(template),
        Capabilities: [...capabilities],
      }),
    );
    await settle(cf, 'UPDATE_COMPLETE');
    const resources = await stackResources(endpoint);
    await applyWhatMotoSkips(s3, template, resources);
    return resources;
  } finally {
    cf.destroy();
    s3.destroy();
  }
}
