// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation placeholders, not templates.
/**
 * The state machine definitions in infra/: valid ASL, the contract's Retry/Catch policy, the
 * backfill's items running exactly the enrich-call states, and their CloudFormation wiring as
 * serverless.yml resolves it (`osls print`: variables and ${file()} resolved, nothing built).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CallNotFoundError,
  CometChatRateLimitError,
  CometChatUnavailableError,
  RecordingDownloadError,
  StorageError,
} from '../../../lib/errors.ts';
import { loadDefinition, placeholdersOf, STATE_MACHINES } from '../../support/state-machines.ts';

type Json = Record<string, unknown>;
type Retrier = { ErrorEquals: string[] } & Json;
type Catcher = { ErrorEquals: string[]; Next: string } & Json;

const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

const enrichCall = () => loadDefinition('enrich-call') as unknown as { StartAt: string; States: Json };
const backfillMap = () =>
  (loadDefinition('backfill') as unknown as { States: { EnrichEach: Json } }).States.EnrichEach;
const enrichTask = () => enrichCall().States.EnrichCall as { Retry: Retrier[]; Catch: Catcher[] } & Json;

describe('state machine definitions', () => {
  it.each(STATE_MACHINES)('%s is valid ASL for asl-validator', (name) => {
    const { isValid, errorsText } = aslValidator(loadDefinition(name));

    expect(errorsText()).toBe('');
    expect(isValid).toBe(true);
  });

  it.each(STATE_MACHINES)('%s passes aws-local-stepfunctions’ own validation', (name) => {
    expect(() => new StateMachine(loadDefinition(name))).not.toThrow();
  });

  it('runs every backfill item through exactly the enrich-call states, so the two cannot drift', () => {
    const processor = backfillMap().ItemProcessor as Json;

    expect(processor.StartAt).toBe(enrichCall().StartAt);
    expect(processor.States).toEqual(enrichCall().States);
  });

  it('invokes enrichCall through the lambda:invoke integration with the whole state input', () => {
    expect(enrichTask()).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '${EnrichCallFunctionArn}', 'Payload.$': '$' },
      OutputPath: '$.Payload',
    });
  });

  it('retries Lambda service errors, CometChat throttling and outages with full jitter', () => {
    expect(enrichTask().Retry).toEqual([
      {
        ErrorEquals: LAMBDA_SERVICE_ERRORS,
        IntervalSeconds: 1,
        MaxAttempts: 3,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
      {
        ErrorEquals: [new CometChatRateLimitError('').name],
        IntervalSeconds: 10,
        MaxAttempts: 5,
        BackoffRate: 2,
        MaxDelaySeconds: 300,
        JitterStrategy: 'FULL',
      },
      {
        ErrorEquals: [
          new CometChatUnavailableError('').name,
          new RecordingDownloadError('').name,
          new StorageError('').name,
        ],
        IntervalSeconds: 5,
        MaxAttempts: 4,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
    ]);
  });

  it('catches only CallNotFoundError, into a success that marks the call skipped', () => {
    const { States } = enrichCall();

    expect(enrichTask().Catch).toEqual([
      { ErrorEquals: [new CallNotFoundError('').name], ResultPath: '$.error', Next: 'MarkSkipped' },
    ]);
    expect(States.MarkSkipped).toEqual({
      Type: 'Pass',
      Parameters: { 'sessionId.$': '$.sessionId', skipped: true, 'reason.$': '$.error.Error' },
      Next: 'Skipped',
    });
    expect(States.Skipped).toEqual({ Type: 'Succeed' });
    expect(JSON.stringify(enrichCall())).not.toContain('States.ALL');
    expect(JSON.stringify(enrichCall())).not.toContain('States.TaskFailed');
  });

  it('reads a JSON Lines manifest with a distributed map of STANDARD children, budgeted and tolerant', () => {
    const map = backfillMap();
    // The CometChat budget given to backfill (requests/min) and the seconds one item takes.
    const budgetPerMinute = 300;
    const secondsPerItem = 4;

    expect(map).toMatchObject({
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { Bucket: '${RecordingsBucketName}', 'Key.$': '$.manifestKey' },
      },
      ItemSelector: { 'sessionId.$': '$$.Map.Item.Value.sessionId' },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      MaxConcurrency: (budgetPerMinute * secondsPerItem) / 60,
      ToleratedFailurePercentage: 5,
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { Bucket: '${RecordingsBucketName}', Prefix: 'backfill/results' },
      },
    });
  });
});

describe('infra/state-machines.yml as serverless.yml resolves it', () => {
  let resources: Record<string, { Type: string; Properties: Json }>;
  let functionName: string | undefined;

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['node_modules/osls/bin/serverless.js', 'print', '--stage', 'test', '--format', 'json'],
      {
        cwd: new URL('../../../', import.meta.url),
        env: { ...process.env, COMETCHAT_APP_ID: 'abc123', COMETCHAT_REGION: 'us' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const config = JSON.parse(stdout) as {
      resources: { Resources: typeof resources };
      functions: Record<string, { name?: string }>;
    };
    resources = config.resources.Resources;
    functionName = config.functions.enrichCall?.name;
  });

  const statementsOf = (role: string) =>
    (
      (resources[role]?.Properties.Policies ?? []) as {
        PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
      }[]
    ).flatMap((policy) => policy.PolicyDocument.Statement);
  const actionsOf = (statement: { Action: string | string[] }) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action];

  it.each([
    ['EnrichCallStateMachine', 'enrich-call', 'cometchat-call-archive-test-enrich-call'],
    ['BackfillStateMachine', 'backfill', 'cometchat-call-archive-test-backfill'],
  ] as const)('declares %s from infra/%s.asl.json, every placeholder substituted', (id, file, name) => {
    const machine = resources[id];

    expect(machine?.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(machine?.Properties).toMatchObject({ StateMachineName: name, StateMachineType: 'STANDARD' });
    expect(machine?.Properties.Definition).toEqual(loadDefinition(file));
    const substitutions = machine?.Properties.DefinitionSubstitutions as Json;
    expect(Object.keys(substitutions).sort()).toEqual([...placeholdersOf(loadDefinition(file))].sort());
    expect(substitutions.EnrichCallFunctionArn).toEqual({
      'Fn::GetAtt': ['EnrichCallLambdaFunction', 'Arn'],
    });
  });

  it('points the substitutions at resources the stack declares', () => {
    // serverless names a function's logical id <Name>LambdaFunction; its physical name is this one.
    expect(functionName).toBe('cometchat-call-archive-test-enrichCall');
    expect(resources.RecordingsBucket?.Type).toBe('AWS::S3::Bucket');
    expect(resources.BackfillStateMachine?.Properties.DefinitionSubstitutions).toMatchObject({
      RecordingsBucketName: { Ref: 'RecordingsBucket' },
    });
  });

  it.each(['EnrichCallStateMachineRole', 'BackfillStateMachineRole'])(
    '%s may invoke only enrichCall, and uses "*" only where AWS allows nothing narrower',
    (role) => {
      const statements = statementsOf(role);

      const invoke = statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
      expect(invoke).toEqual([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: [
            { 'Fn::GetAtt': ['EnrichCallLambdaFunction', 'Arn'] },
            { 'Fn::Sub': '${EnrichCallLambdaFunction.Arn}:*' },
          ],
        },
      ]);
      for (const statement of statements.filter((s) => s.Resource === '*')) {
        for (const action of actionsOf(statement))
          expect(action).toMatch(/^(logs:[A-Za-z]+|xray:[A-Za-z]+)$/);
      }
      const trust = resources[role]?.Properties.AssumeRolePolicyDocument as {
        Statement: { Principal: unknown }[];
      };
      expect(trust.Statement.map((s) => s.Principal)).toEqual([{ Service: 'states.amazonaws.com' }]);
    },
  );

  it('lets backfill read manifests, write results and start its own children, nothing more', () => {
    const scoped = statementsOf('BackfillStateMachineRole').filter(
      (s) => s.Resource !== '*' && !actionsOf(s).includes('lambda:InvokeFunction'),
    );

    expect(scoped.map((s) => [actionsOf(s).sort(), s.Resource])).toEqual([
      [
        ['states:StartExecution'],
        {
          'Fn::Sub':
            'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:cometchat-call-archive-test-backfill',
        },
      ],
      [
        ['states:DescribeExecution', 'states:StopExecution'],
        {
          'Fn::Sub':
            'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:cometchat-call-archive-test-backfill/*',
        },
      ],
      [['s3:GetObject'], { 'Fn::Sub': '${RecordingsBucket.Arn}/backfill/manifests/*' }],
      [
        ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
        { 'Fn::Sub': '${RecordingsBucket.Arn}/backfill/results/*' },
      ],
    ]);
  });
});
