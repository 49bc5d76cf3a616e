/**
 * Packages the service offline with osls + serverless-esbuild, exactly as a deploy would, and
 * asserts what the emitted CloudFormation template promises: functions, runtime, environment,
 * least-privilege IAM scoped to this stack's own resources, and the data stores' safety settings.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const SERVICE = 'cometchat-call-archive';

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

const packaged = new Map<string, Template>();
const folders: string[] = [];

async function packageStage(stage: string): Promise<Template> {
  const out = await mkdtemp(join(tmpdir(), `osls-${stage}-`));
  folders.push(out);
  await run(process.execPath, [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', stage, '--package', out], {
    cwd: ROOT,
    env: { ...process.env, COMETCHAT_APP_ID: 'abc123', COMETCHAT_REGION: 'us', SLS_TELEMETRY_DISABLED: '1' },
    timeout: 240_000,
  });
  return JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

function resourcesOf(template: Template, type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function template(stage = 'test'): Template {
  const t = packaged.get(stage);
  if (!t) throw new Error(`stage ${stage} was not packaged`);
  return t;
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

function statementsOf(role: { Properties: Record<string, unknown> }): Statement[] {
  const policies = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

// Actions AWS offers no resource-level scoping for: the only ones allowed on `*`.
const UNSCOPABLE = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'cloudwatch:PutMetricData',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

beforeAll(async () => {
  // One after the other: serverless-esbuild builds in a shared .esbuild folder.
  packaged.set('test', await packageStage('test'));
  packaged.set('prod', await packageStage('prod'));
}, 300_000);

afterAll(async () => {
  await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
});

describe('packaged CloudFormation template', () => {
  it('declares enrichCall on nodejs24.x with its handler and environment', () => {
    const functions = resourcesOf(template(), 'AWS::Lambda::Function');
    const enrichCall = functions.find(([, f]) => f.Properties.FunctionName === `${SERVICE}-test-enrichCall`)?.[1];

    expect(enrichCall?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'functions/enrich-call.handler',
      Architectures: ['arm64'],
    });
    const variables = (enrichCall?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      COMETCHAT_APP_ID: 'abc123',
      COMETCHAT_REGION: 'us',
      COMETCHAT_API_KEY_PARAMETER: `/${SERVICE}/test/cometchat-api-key`,
      CALLS_TABLE: `${SERVICE}-test-calls`,
      RECORDINGS_BUCKET: { Ref: 'RecordingsBucket' },
    });
    expect(variables).not.toHaveProperty('COMETCHAT_API_KEY');
  });

  it('gives every function its own role', () => {
    const functions = resourcesOf(template(), 'AWS::Lambda::Function');
    const roles = functions.map(([, f]) => JSON.stringify(f.Properties.Role));

    expect(functions.length).toBeGreaterThan(0);
    expect(new Set(roles).size).toBe(functions.length);
    expect(roles.every((r) => !r.includes('IamRoleLambdaExecution'))).toBe(true);
  });

  it('grants no wildcard actions, and `*` resources only to actions AWS cannot scope', () => {
    const roles = resourcesOf(template(), 'AWS::IAM::Role');

    expect(roles.length).toBeGreaterThan(0);
    for (const [name, role] of roles) {
      for (const statement of statementsOf(role)) {
        const actions = asArray(statement.Action);
        for (const action of actions) expect(action, `${name}: ${action}`).not.toMatch(/\*/);
        for (const resource of asArray(statement.Resource)) {
          if (resource === '*') {
            for (const action of actions) expect(UNSCOPABLE.has(action), `${name}: ${action} on *`).toBe(true);
          } else {
            // Scoped to this stack: a reference to one of its resources, or an ARN built with !Sub.
            expect(JSON.stringify(resource), `${name}: ${JSON.stringify(resource)}`).toMatch(
              /Fn::GetAtt|Fn::Sub|"Ref"|Fn::Join/,
            );
          }
        }
      }
    }
  });

  it('creates the calls table with pk/sk, the byUser and byDay indexes, PITR and on-demand billing', () => {
    const [, table] = resourcesOf(template(), 'AWS::DynamoDB::Table')[0] ?? [];

    expect(table?.Properties).toMatchObject({
      TableName: `${SERVICE}-test-calls`,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: false,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    const indexes = table?.Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown }[];
    expect(indexes.map((i) => [i.IndexName, i.KeySchema])).toEqual([
      [
        'byUser',
        [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
      ],
      [
        'byDay',
        [
          { AttributeName: 'gsi2pk', KeyType: 'HASH' },
          { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
        ],
      ],
    ]);
  });

  it('turns deletion protection on for the prod stage only', () => {
    const [, table] = resourcesOf(template('prod'), 'AWS::DynamoDB::Table')[0] ?? [];

    expect(table?.Properties.DeletionProtectionEnabled).toBe(true);
  });

  it('blocks public access to the recordings bucket, encrypts it and expires incomplete uploads', () => {
    const bucket = template().Resources.RecordingsBucket;

    expect(bucket?.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [expect.anything()] },
    });
    const rules = (bucket?.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    );
  });

  it('denies any request to the bucket that is not over TLS', () => {
    const policy = template().Resources.RecordingsBucketPolicy;
    const statements = (policy?.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;

    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });
});
