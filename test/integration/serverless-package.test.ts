/**
 * Packages the service offline with osls + serverless-esbuild, exactly as a deploy would, and
 * asserts what the emitted CloudFormation template promises: functions, runtime, environment,
 * least-privilege IAM scoped to this stack's own resources, and the data stores' safety settings.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzip } from '../../bench/support/serverless.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const SERVICE = 'cometchat-call-archive';

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

const packaged = new Map<string, Template>();
const folders: string[] = [];
let testPackageDir = '';

async function packageStage(stage: string): Promise<Template> {
  const out = await mkdtemp(join(tmpdir(), `osls-${stage}-`));
  folders.push(out);
  await run(
    process.execPath,
    [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', stage, '--package', out],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        COMETCHAT_APP_ID: 'abc123',
        COMETCHAT_REGION: 'us',
        SLS_TELEMETRY_DISABLED: '1',
      },
      timeout: 240_000,
    },
  );
  if (stage === 'test') testPackageDir = out;
  return JSON.parse(
    await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
}

function resourcesOf(template: Template, type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function resource(name: string, stage = 'test'): { Type: string; Properties: Record<string, unknown> } {
  const found = template(stage).Resources[name];
  if (!found) throw new Error(`no resource ${name} in the ${stage} template`);
  return found;
}

function functionNamed(name: string, stage = 'test') {
  const found = resourcesOf(template(stage), 'AWS::Lambda::Function').find(
    ([, f]) => f.Properties.FunctionName === `${SERVICE}-${stage}-${name}`,
  );
  if (!found) throw new Error(`no function ${name}`);
  return found[1].Properties;
}

function template(stage = 'test'): Template {
  const t = packaged.get(stage);
  if (!t) throw new Error(`stage ${stage} was not packaged`);
  return t;
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** Every statement a role gets: its inline policies and the stack's managed policies it attaches. */
function statementsOf(role: { Properties: Record<string, unknown> }, t: Template = template()): Statement[] {
  const inline = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  const managed = ((role.Properties.ManagedPolicyArns ?? []) as { Ref?: string }[]).map((arn) => {
    const policy = arn.Ref ? t.Resources[arn.Ref] : undefined;
    if (!policy) throw new Error(`role attaches a policy from outside the stack: ${JSON.stringify(arn)}`);
    return policy.Properties as { PolicyDocument: { Statement: Statement[] } };
  });
  return [...inline, ...managed].flatMap((p) => p.PolicyDocument.Statement);
}

/** The actions a function's role allows on resources matching `resourcePattern`. */
function actionsOf(functionName: string, resourcePattern: RegExp): string[] {
  const role = (functionNamed(functionName).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return statementsOf(resource(role))
    .filter((st) => asArray(st.Resource).some((r) => resourcePattern.test(JSON.stringify(r))))
    .flatMap((st) => asArray(st.Action))
    .sort();
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
  it('declares the four functions on nodejs24.x with their handlers', () => {
    const handlers = Object.fromEntries(
      ['webhook', 'enrich', 'enrichCall', 'backfill'].map((name) => [name, functionNamed(name).Handler]),
    );

    expect(handlers).toEqual({
      webhook: 'functions/webhook.handler',
      enrich: 'functions/queue-consumer.handler',
      enrichCall: 'functions/enrich-call.handler',
      backfill: 'functions/backfill.handler',
    });
    for (const name of Object.keys(handlers)) {
      expect(functionNamed(name)).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    }
  });

  it('gives each function the environment it reads, secrets only as SSM parameter names', () => {
    const env = (name: string) =>
      (functionNamed(name).Environment as { Variables: Record<string, unknown> }).Variables;

    expect(env('enrichCall')).toMatchObject({
      COMETCHAT_APP_ID: 'abc123',
      COMETCHAT_REGION: 'us',
      COMETCHAT_API_KEY_PARAMETER: `/${SERVICE}/test/cometchat-api-key`,
      CALLS_TABLE: `${SERVICE}-test-calls`,
      RECORDINGS_BUCKET: { Ref: 'RecordingsBucket' },
    });
    expect(env('enrich')).toMatchObject({ ENRICH_DLQ_URL: { Ref: 'EnrichDeadLetterQueue' } });
    expect(env('webhook')).toMatchObject({
      COMETCHAT_APP_ID: 'abc123',
      WEBHOOK_BASIC_AUTH_PARAMETER: `/${SERVICE}/test/webhook-basic-auth`,
      ENRICH_QUEUE_URL: { Ref: 'EnrichQueue' },
    });
    expect(env('backfill')).toMatchObject({
      ENRICH_QUEUE_URL: { Ref: 'EnrichQueue' },
      COMETCHAT_REQUESTS_PER_MINUTE: expect.anything(),
      BACKFILL_STATE_MACHINE_ARN: { Ref: 'BackfillStateMachine' },
    });
    // Only what a user tunes is a variable; the rest are constants in lib/backfill/backfill.ts.
    const backfillVariables = Object.keys(env('backfill')).filter((key) => key.startsWith('BACKFILL_'));
    expect(backfillVariables.sort()).toEqual(['BACKFILL_STATE_MACHINE_ARN']);
    for (const name of ['webhook', 'enrich', 'enrichCall', 'backfill']) {
      // Powertools reads these itself; the metrics namespace comes from here, not from the code.
      expect(env(name)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: 'CometChatCallArchive',
      });
      expect(Object.keys(env(name))).not.toContain('COMETCHAT_API_KEY');
      expect(Object.keys(env(name))).not.toContain('WEBHOOK_BASIC_AUTH');
    }
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
            for (const action of actions)
              expect(UNSCOPABLE.has(action), `${name}: ${action} on *`).toBe(true);
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
    const table = resource('CallsTable');

    expect(table.Properties).toMatchObject({
      TableName: `${SERVICE}-test-calls`,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: false,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    const indexes = table.Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown }[];
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
    expect(resource('CallsTable', 'prod').Properties.DeletionProtectionEnabled).toBe(true);
  });

  it('blocks public access to the recordings bucket, encrypts it and expires incomplete uploads', () => {
    const bucket = resource('RecordingsBucket');

    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [expect.anything()] },
    });
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    );
    // Written once: a noncurrent version is an overwrite or a deletion to recover from.
    expect(rules).toContainEqual(
      expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
    );
  });

  it('lets DynamoDB expire resume records (and retained items) by expiresAt', () => {
    expect(resource('CallsTable').Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });

  it('denies any request to the bucket that is not over TLS', () => {
    const policy = resource('RecordingsBucketPolicy');
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;

    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('scopes each function to exactly the actions its code uses', () => {
    expect(actionsOf('webhook', /EnrichQueue"/)).toEqual(['sqs:SendMessage']);
    expect(actionsOf('webhook', /webhook-basic-auth/)).toEqual(['ssm:GetParameter']);
    expect(actionsOf('webhook', /CallsTable|RecordingsBucket|cometchat-api-key/)).toEqual([]);
    // BatchGetItem: the erased set, looked up once per call (lib/erase/erased-set.ts).
    expect(actionsOf('enrich', /CallsTable/)).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOf('enrich', /EnrichQueue"/)).toEqual([
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ]);
    expect(actionsOf('enrich', /EnrichDeadLetterQueue/)).toEqual(['sqs:SendMessage']);
    expect(actionsOf('enrichCall', /Queue/)).toEqual([]);
    // Tagging holds the sha256: no CopyObject, so no second read-and-write of the object.
    expect(actionsOf('enrichCall', /RecordingsBucket/)).toEqual([
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:GetObjectTagging',
      's3:PutObject',
      's3:PutObjectTagging',
    ]);
    expect(actionsOf('backfill', /CallsTable/)).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    ]);
    expect(actionsOf('backfill', /BackfillStateMachine/)).toEqual(['states:StartExecution']);
    expect(actionsOf('backfill', /recordings\//)).toEqual([]);
  });

  it('routes POST /webhooks/cometchat on the HTTP API to the webhook function', () => {
    const route = resource('HttpApiRoutePostWebhooksCometchat');

    expect(route.Properties.RouteKey).toBe('POST /webhooks/cometchat');
    expect(resourcesOf(template(), 'AWS::ApiGatewayV2::Route')).toHaveLength(1);
  });

  it('feeds the enrich consumer from a FIFO queue with partial batch responses and a concurrency cap', () => {
    const mapping = resourcesOf(template(), 'AWS::Lambda::EventSourceMapping')[0]?.[1];

    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['EnrichQueue', 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: expect.any(Number) },
    });
  });

  it("sets the queue's visibility timeout to at least 6x the consumer's timeout, with a DLQ", () => {
    const queue = resource('EnrichQueue').Properties;
    const dlq = resource('EnrichDeadLetterQueue').Properties;

    expect(queue.FifoQueue).toBe(true);
    expect(dlq.FifoQueue).toBe(true);
    expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(
      6 * (functionNamed('enrich').Timeout as number),
    );
    expect(queue.RedrivePolicy).toMatchObject({
      deadLetterTargetArn: { 'Fn::GetAtt': ['EnrichDeadLetterQueue', 'Arn'] },
      maxReceiveCount: expect.any(Number),
    });
    // The consumer announces the last receive's failure (CallArchiveFailed): it must know which one that is.
    const maxReceiveCount = (queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount;
    expect(
      (functionNamed('enrich').Environment as { Variables: Record<string, unknown> }).Variables
        .ENRICH_MAX_RECEIVE_COUNT,
    ).toBe(String(maxReceiveCount));
  });

  it('alarms when the dead-letter queue holds anything', () => {
    const alarm = resourcesOf(template(), 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties)
      .find((a) => JSON.stringify(a.Dimensions).includes('EnrichDeadLetterQueue'));

    expect(alarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('keeps logs for a bounded time, longer in prod', () => {
    const retention = (stage: string) =>
      resourcesOf(template(stage), 'AWS::Logs::LogGroup').map(([, g]) => g.Properties.RetentionInDays);

    expect(retention('test').length).toBeGreaterThanOrEqual(4);
    expect(new Set(retention('test'))).toEqual(new Set([30]));
    expect(new Set(retention('prod'))).toEqual(new Set([365]));
  });

  it('schedules the backfill per stage: off in test, hourly in prod', () => {
    const schedule = (stage: string) => resourcesOf(template(stage), 'AWS::Events::Rule')[0]?.[1].Properties;

    expect(schedule('test')).toMatchObject({ State: 'DISABLED' });
    expect(schedule('prod')).toMatchObject({ State: 'ENABLED', ScheduleExpression: 'rate(1 hour)' });
    expect(functionNamed('backfill').ReservedConcurrentExecutions).toBe(1);
  });

  it('declares both state machines, bound to the enrichCall function', () => {
    for (const name of ['EnrichCallStateMachine', 'BackfillStateMachine']) {
      expect(resource(name).Properties.DefinitionSubstitutions).toMatchObject({
        EnrichCallFunctionArn: { 'Fn::GetAtt': ['EnrichCallLambdaFunction', 'Arn'] },
      });
    }
  });

  it.each([
    [
      'webhook',
      {
        WEBHOOK_BASIC_AUTH: 'user:password',
        ENRICH_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo',
      },
    ],
    [
      'enrichCall',
      {
        COMETCHAT_REGION: 'us',
        COMETCHAT_API_KEY_PARAMETER: '/k',
        CALLS_TABLE: 'calls',
        RECORDINGS_BUCKET: 'bucket-one',
      },
    ],
  ])('ships a %s zip whose split ESM bundle loads in a fresh Node process', async (name, env) => {
    const dir = join(testPackageDir, `unzipped-${name}`);
    await mkdir(dir, { recursive: true });
    for (const entry of unzip(await readFile(join(testPackageDir, `${name}.zip`)))) {
      await mkdir(dirname(join(dir, entry.name)), { recursive: true });
      await writeFile(join(dir, entry.name), entry.data);
    }
    const handlerFile = String(functionNamed(name).Handler).replace(/\.handler$/, '.mjs');
    const script = `const m = await import(${JSON.stringify(join(dir, handlerFile))}); console.log(typeof m.handler);`;

    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', COMETCHAT_APP_ID: 'abc123', ...env },
    });

    expect(stdout.trim()).toBe('function');
  });
});
