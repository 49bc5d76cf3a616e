/**
 * The operator settings (issue 12.4-12.6, 13.2, 13.4) in the template `osls package` emits, offline:
 * by default nothing they add is switched on; each choice (a key the stack creates or an existing
 * one, a bus the stack creates or an existing one, retention, a key template) produces exactly
 * the resources, environment and least-privilege IAM it promises.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${…} in Fn::Sub strings.
import { beforeAll, describe, expect, it } from 'vitest';
import { ANALYTICS_CALLS_PREFIX } from '../../lib/analytics/call-record.ts';
import { RETENTION_TTL_ATTRIBUTE } from '../../lib/config.ts';
import { HOLD_TAG_KEY, HOLD_TAG_VALUES } from '../../lib/retention/retention.ts';
import {
  actionsOn,
  asArray,
  functionNamed,
  packageTemplate,
  resource,
  resourcesOf,
  roleOf,
  type Statement,
  statementsOfRole,
  statementsOn,
  type Template,
} from '../support/packaged-template.ts';

const STAGE = 'opts';
const EXISTING_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

// CloudFormation evaluates conditions at deploy; the tests evaluate them the same way, from the
// parameter defaults serverless filled in, so they assert what a deploy would create.
type Intrinsic = Record<string, unknown>;

function parameterValue(t: Template, name: string): string {
  const param = (t as { Parameters?: Record<string, { Default: unknown }> }).Parameters?.[name];
  if (!param) throw new Error(`no parameter ${name}`);
  return String(param.Default);
}

function evaluate(t: Template, node: unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => evaluate(t, n));
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as Intrinsic;
  if ('Ref' in obj && typeof obj.Ref === 'string' && obj.Ref.startsWith('Setting'))
    return parameterValue(t, obj.Ref);
  if ('Condition' in obj && Object.keys(obj).length === 1) return condition(t, obj.Condition as string);
  if (typeof obj['Fn::Sub'] === 'string') {
    return {
      'Fn::Sub': obj['Fn::Sub'].replace(/\$\{(Setting\w+)\}/g, (_, name: string) => parameterValue(t, name)),
    };
  }
  if ('Fn::Equals' in obj) {
    const [a, b] = (obj['Fn::Equals'] as unknown[]).map((v) => evaluate(t, v));
    return String(a) === String(b);
  }
  if ('Fn::Not' in obj) return !(evaluate(t, (obj['Fn::Not'] as unknown[])[0]) as boolean);
  if ('Fn::And' in obj) return (obj['Fn::And'] as unknown[]).every((c) => evaluate(t, c) === true);
  if ('Fn::Or' in obj) return (obj['Fn::Or'] as unknown[]).some((c) => evaluate(t, c) === true);
  if ('Fn::If' in obj) {
    const [name, yes, no] = obj['Fn::If'] as [string, unknown, unknown];
    return evaluate(t, condition(t, name) ? yes : no);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, evaluate(t, v)]));
}

function condition(t: Template, name: string): boolean {
  const definition = t.Conditions?.[name];
  if (definition === undefined) throw new Error(`no condition ${name}`);
  return evaluate(t, definition) === true;
}

const NO_VALUE = { Ref: 'AWS::NoValue' };

/** The template as deployed: conditional resources dropped, Fn::If resolved, NoValue removed. */
function deployed(t: Template): Template {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.filter((n) => !isNoValue(n)).map(strip);
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([, v]) => !isNoValue(v))
        .map(([k, v]) => [k, strip(v)]),
    );
  };
  const isNoValue = (n: unknown) => JSON.stringify(n) === JSON.stringify(NO_VALUE);
  const resources = Object.fromEntries(
    Object.entries(t.Resources)
      .filter(([, r]) => r.Condition === undefined || condition(t, r.Condition))
      .map(([name, r]) => [name, strip(evaluate(t, r)) as Template['Resources'][string]]),
  );
  return { ...t, Resources: resources };
}

const templates = new Map<string, Template>();
function template(name: 'default' | 'created' | 'existing'): Template {
  const t = templates.get(name);
  if (!t) throw new Error(`${name} was not packaged`);
  return t;
}

beforeAll(async () => {
  const [defaults, created, existing] = await Promise.all([
    packageTemplate(STAGE),
    packageTemplate(STAGE, {
      createKmsKey: 'true',
      createEventBus: 'true',
      retentionDays: '400',
      archiveKeyTemplate: '{appId}/{yyyy}/{mm}/{dd}/{sessionId}',
    }),
    // Both choices for each: the existing key and bus win over creating new ones.
    packageTemplate(STAGE, {
      kmsKeyArn: EXISTING_KEY,
      createKmsKey: 'true',
      eventBusName: 'ops-events',
      createEventBus: 'true',
    }),
  ]);
  templates.set('default', deployed(defaults));
  templates.set('created', deployed(created));
  templates.set('existing', deployed(existing));
}, 240_000);

const env = (t: Template, name: string) =>
  (functionNamed(t, name, STAGE).Environment as { Variables: Record<string, unknown> }).Variables;

const allStatements = (t: Template): [string, Statement][] =>
  resourcesOf(t, 'AWS::IAM::Role').flatMap(([name]) =>
    statementsOfRole(t, name).map((st) => [name, st] as [string, Statement]),
  );

const kmsStatements = (t: Template) =>
  allStatements(t).filter(([, st]) => asArray(st.Action).some((a) => a.startsWith('kms:')));

describe('default settings', () => {
  it('create no key, no bus and no retention rule, and add nothing to the environment', () => {
    const t = template('default');

    expect(resourcesOf(t, 'AWS::KMS::Key')).toEqual([]);
    expect(resourcesOf(t, 'AWS::Events::EventBus')).toEqual([]);
    // TTL may be on for other items (copy resume records); call items only expire with retention.
    const ttl = resource(t, 'CallsTable').Properties.TimeToLiveSpecification as
      | { AttributeName: string }
      | undefined;
    if (ttl) expect(ttl.AttributeName).toBe(RETENTION_TTL_ATTRIBUTE);
    const rules = (
      resource(t, 'RecordingsBucket').Properties.LifecycleConfiguration as { Rules: { Id: string }[] }
    ).Rules;
    expect(rules.map((r) => r.Id)).not.toContain('expire-archive-after-retention');
    for (const name of ['enrich', 'enrichCall']) {
      expect(Object.keys(env(t, name))).not.toEqual(
        expect.arrayContaining(['ARCHIVE_KEY_TEMPLATE', 'EVENT_BUS_NAME', 'RETENTION_DAYS']),
      );
      for (const variable of ['ARCHIVE_KEY_TEMPLATE', 'EVENT_BUS_NAME', 'RETENTION_DAYS']) {
        expect(env(t, name)).not.toHaveProperty(variable);
      }
    }
  });

  it('keep the encryption as it was: SSE-S3 on the bucket, the AWS managed key on the table, no KMS statements', () => {
    const t = template('default');

    expect(resource(t, 'RecordingsBucket').Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true },
      ],
    });
    expect(resource(t, 'CallsTable').Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(kmsStatements(t)).toEqual([]);
  });

  it('grant events:PutEvents to no one', () => {
    const puts = allStatements(template('default')).filter(([, st]) =>
      asArray(st.Action).includes('events:PutEvents'),
    );

    expect(puts).toEqual([]);
  });
});

describe('createKmsKey: true', () => {
  it('creates a rotating key the account administers, kept when the stack goes', () => {
    const key = resource(template('created'), 'ArchiveKey');

    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
    expect((key.Properties.KeyPolicy as { Statement: unknown[] }).Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
      }),
    );
  });

  it('encrypts the bucket (SSE-KMS, bucket key on) and the table with that key', () => {
    const t = template('created');
    const keyArn = { 'Fn::GetAtt': ['ArchiveKey', 'Arn'] };

    expect(resource(t, 'RecordingsBucket').Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
          BucketKeyEnabled: true,
        },
      ],
    });
    expect(resource(t, 'CallsTable').Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: keyArn,
    });
  });

  it('lets each writer role generate and decrypt data keys with that key only, through S3 or DynamoDB only', () => {
    const t = template('created');
    const keyArn = JSON.stringify({ 'Fn::GetAtt': ['ArchiveKey', 'Arn'] });

    for (const name of ['enrich', 'enrichCall', 'backfill']) {
      expect(actionsOn(t, name, STAGE, /ArchiveKey/)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    }
    expect(actionsOn(t, 'webhook', STAGE, /ArchiveKey|kms/)).toEqual([]);
    for (const [role, st] of kmsStatements(t)) {
      expect(JSON.stringify(st.Resource), role).toBe(keyArn);
      expect(st.Condition, role).toEqual({
        StringEquals: {
          'kms:ViaService': [
            { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' },
            { 'Fn::Sub': 'dynamodb.${AWS::Region}.amazonaws.com' },
          ],
        },
      });
    }
    expect(new Set(kmsStatements(t).map(([role]) => role))).toEqual(
      new Set(['EnrichRole', 'EnrichCallRole', 'BackfillRole', 'BackfillStateMachineRole', 'EraseRole']),
    );
  });

  it('encrypts Athena query results with the key too', () => {
    const workgroup = resource(template('created'), 'AnalyticsWorkGroup').Properties as {
      WorkGroupConfiguration: { ResultConfiguration: { EncryptionConfiguration: unknown } };
    };

    expect(workgroup.WorkGroupConfiguration.ResultConfiguration.EncryptionConfiguration).toEqual({
      EncryptionOption: 'SSE_KMS',
      KmsKey: { 'Fn::GetAtt': ['ArchiveKey', 'Arn'] },
    });
  });
});

describe('kmsKeyArn (an existing key)', () => {
  it('uses that key for the bucket and the table, and creates none even when createKmsKey is also set', () => {
    const t = template('existing');

    expect(resourcesOf(t, 'AWS::KMS::Key')).toEqual([]);
    expect(resource(t, 'RecordingsBucket').Properties.BucketEncryption).toMatchObject({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: EXISTING_KEY } },
      ],
    });
    expect(resource(t, 'CallsTable').Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: EXISTING_KEY,
    });
  });

  it('grants the KMS actions on that key ARN alone', () => {
    const t = template('existing');

    for (const name of ['enrich', 'enrichCall', 'backfill']) {
      expect(actionsOn(t, name, STAGE, /key\/1234abcd/)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    }
    for (const [role, st] of kmsStatements(t)) expect(st.Resource, role).toBe(EXISTING_KEY);
  });
});

describe('events', () => {
  it('createEventBus: a bus of the stack, named in EVENT_BUS_NAME, PutEvents on it alone for the senders', () => {
    const t = template('created');
    const bus = resourcesOf(t, 'AWS::Events::EventBus');

    expect(bus.map(([name, r]) => [name, r.Properties.Name])).toEqual([
      ['ArchiveEventBus', `cometchat-call-archive-${STAGE}-archive`],
    ]);
    for (const name of ['enrich', 'enrichCall']) {
      expect(env(t, name).EVENT_BUS_NAME).toEqual({ Ref: 'ArchiveEventBus' });
      expect(statementsOn(t, name, STAGE, /ArchiveEventBus/)).toEqual([
        expect.objectContaining({
          Action: 'events:PutEvents',
          Resource: { 'Fn::GetAtt': ['ArchiveEventBus', 'Arn'] },
        }),
      ]);
    }
    expect(env(t, 'backfill')).not.toHaveProperty('EVENT_BUS_NAME');
    expect(actionsOn(t, 'backfill', STAGE, /event-bus|EventBus/)).toEqual([]);
    expect(actionsOn(t, 'webhook', STAGE, /event-bus|EventBus/)).toEqual([]);
  });

  it('eventBusName: that bus in EVENT_BUS_NAME and in the PutEvents resource, and no bus created', () => {
    const t = template('existing');

    expect(resourcesOf(t, 'AWS::Events::EventBus')).toEqual([]);
    for (const name of ['enrich', 'enrichCall']) {
      expect(env(t, name).EVENT_BUS_NAME).toBe('ops-events');
      expect(statementsOn(t, name, STAGE, /event-bus/)).toEqual([
        expect.objectContaining({
          Action: 'events:PutEvents',
          Resource: {
            'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/ops-events',
          },
        }),
      ]);
    }
  });
});

describe('retentionDays', () => {
  it('turns on DynamoDB TTL on the documented attribute', () => {
    expect(resource(template('created'), 'CallsTable').Properties.TimeToLiveSpecification).toEqual({
      AttributeName: RETENTION_TTL_ATTRIBUTE,
      Enabled: true,
    });
  });

  it('expires current and noncurrent versions of archived objects not held, and analytics records', () => {
    const rules = (
      resource(template('created'), 'RecordingsBucket').Properties.LifecycleConfiguration as {
        Rules: Record<string, unknown>[];
      }
    ).Rules;

    expect(rules).toContainEqual({
      Id: 'expire-archive-after-retention',
      Status: 'Enabled',
      Prefix: 'recordings/',
      TagFilters: [{ Key: HOLD_TAG_KEY, Value: HOLD_TAG_VALUES.notHeld }],
      ExpirationInDays: '400',
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    });
    expect(rules).toContainEqual(
      expect.objectContaining({
        Id: 'expire-analytics-after-retention',
        Prefix: 'analytics/',
        ExpirationInDays: '400',
      }),
    );
  });

  it('tells the writers how many days, so they can stamp expiresAt', () => {
    for (const name of ['enrich', 'enrichCall'])
      expect(env(template('created'), name).RETENTION_DAYS).toBe('400');
  });
});

describe('archiveKeyTemplate', () => {
  it('reaches the functions that write the archive as ARCHIVE_KEY_TEMPLATE, the IAM prefix unchanged', () => {
    const t = template('created');

    for (const name of ['enrich', 'enrichCall']) {
      expect(env(t, name).ARCHIVE_KEY_TEMPLATE).toBe('{appId}/{yyyy}/{mm}/{dd}/{sessionId}');
      // The template moves folders under the prefix, so the grants on the prefix stay as they are.
      expect(statementsOn(t, name, STAGE, /recordings\/\*/)).toEqual(
        statementsOn(template('default'), name, STAGE, /recordings\/\*/),
      );
      expect(actionsOn(t, name, STAGE, /recordings\/\*/)).toContain('s3:PutObject');
    }
  });
});

describe('analytics', () => {
  it('defines the Glue database and the calls table over the bucket, with day projection', () => {
    const t = template('default');
    const table = resource(t, 'AnalyticsCallsTable').Properties as {
      DatabaseName: unknown;
      TableInput: {
        Name: string;
        Parameters: Record<string, unknown>;
        StorageDescriptor: { Location: unknown };
      };
    };

    expect(resource(t, 'AnalyticsDatabase').Properties.DatabaseInput).toMatchObject({
      Name: { 'Fn::Join': ['_', { 'Fn::Split': ['-', `cometchat-call-archive-${STAGE}`] }] },
    });
    expect(table.DatabaseName).toEqual({ Ref: 'AnalyticsDatabase' });
    expect(table.TableInput.Name).toBe('calls');
    expect(table.TableInput.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.day.type': 'date',
      'storage.location.template': {
        'Fn::Join': ['', ['s3://', { Ref: 'RecordingsBucket' }, `/${ANALYTICS_CALLS_PREFIX}day=$`, '{day}/']],
      },
    });
    expect(table.TableInput.StorageDescriptor.Location).toEqual({
      'Fn::Sub': `s3://\${RecordingsBucket}/${ANALYTICS_CALLS_PREFIX}`,
    });
  });

  it('lets the archiving functions put analytics records, under that prefix only, and no one else', () => {
    const t = template('default');
    const analytics = /analytics\//;

    for (const name of ['enrich', 'enrichCall']) {
      expect(statementsOn(t, name, STAGE, analytics)).toEqual([
        expect.objectContaining({
          Action: 's3:PutObject',
          Resource: { 'Fn::Sub': `\${RecordingsBucket.Arn}/${ANALYTICS_CALLS_PREFIX}*` },
        }),
      ]);
    }
    expect(actionsOn(t, 'webhook', STAGE, analytics)).toEqual([]);
    expect(actionsOn(t, 'backfill', STAGE, analytics)).toEqual([]);
    // Erasure rewrites a redacted call's record and deletes a deleted one's, every version.
    expect(actionsOn(t, 'erase', STAGE, analytics)).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:PutObject',
    ]);
  });
});

describe('erase', () => {
  it('is a function of its own, invoked directly, reading the generated salt by its secret', () => {
    const t = template('created');
    const fn = functionNamed(t, 'erase', STAGE);

    expect(fn.Handler).toBe('functions/erase.handler');
    expect(env(t, 'erase')).toMatchObject({
      CALLS_TABLE: `cometchat-call-archive-${STAGE}-calls`,
      RECORDINGS_BUCKET: { Ref: 'RecordingsBucket' },
      ERASURE_SALT_SECRET: `/cometchat-call-archive/${STAGE}/erasure-salt`,
      RETENTION_DAYS: '400',
    });
    expect(
      resourcesOf(t, 'AWS::Lambda::EventSourceMapping').map(([, m]) => JSON.stringify(m)),
    ).not.toContainEqual(expect.stringContaining('Erase'));
    const salt = resource(t, 'ErasureSalt');
    expect(salt.Type).toBe('AWS::SecretsManager::Secret');
    expect(salt.DeletionPolicy).toBe('Retain');
    expect(salt.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    // Enrichment hashes participants with the same salt to consult the erased set.
    for (const name of ['enrich', 'enrichCall']) {
      expect(env(t, name).ERASURE_SALT_SECRET).toBe(`/cometchat-call-archive/${STAGE}/erasure-salt`);
      expect(actionsOn(t, name, STAGE, /erasure-salt-\?{6}/)).toEqual(['secretsmanager:GetSecretValue']);
      expect(actionsOn(t, name, STAGE, /CallsTable/)).toContain('dynamodb:BatchGetItem');
    }
    expect(actionsOn(t, 'webhook', STAGE, /erasure-salt-\?{6}/)).toEqual([]);
    expect(actionsOn(t, 'backfill', STAGE, /erasure-salt-\?{6}/)).toEqual([]);
  });

  it('has a least-privilege role: the table and byUser, the archive objects and their versions, the salt', () => {
    const t = template('created');

    expect(roleOf(t, 'erase', STAGE)).toBe('EraseRole');
    expect(actionsOn(t, 'erase', STAGE, /CallsTable\.Arn\}\/index\/byUser/)).toEqual(['dynamodb:Query']);
    expect(actionsOn(t, 'erase', STAGE, /^\{"Fn::GetAtt":\["CallsTable","Arn"\]\}$/)).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(t, 'erase', STAGE, /recordings\/\*/)).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:GetObject',
      's3:GetObjectTagging',
      's3:PutObject',
      's3:PutObjectTagging',
    ]);
    const listing = statementsOn(t, 'erase', STAGE, /^\{"Fn::GetAtt":\["RecordingsBucket","Arn"\]\}$/);
    expect(listing).toEqual([
      expect.objectContaining({
        Action: ['s3:ListBucket', 's3:ListBucketVersions'],
        Condition: { StringLike: { 's3:prefix': ['recordings/*', 'analytics/calls/*'] } },
      }),
    ]);
    expect(actionsOn(t, 'erase', STAGE, /erasure-salt-\?{6}/)).toEqual(['secretsmanager:GetSecretValue']);
    expect(actionsOn(t, 'erase', STAGE, /ArchiveKey/)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(actionsOn(t, 'erase', STAGE, /Queue|cometchat-api-key|EventBus|event-bus/)).toEqual([]);
  });
});

describe('every packaged variant', () => {
  it.each(['default', 'created', 'existing'] as const)(
    '%s: grants no wildcard action and no `*` resource beyond X-Ray and log delivery',
    (name) => {
      const unscopable = /^(xray|logs|cloudwatch):/;
      for (const [role, st] of allStatements(template(name))) {
        for (const action of asArray(st.Action)) expect(action, `${role}: ${action}`).not.toMatch(/\*/);
        if (asArray(st.Resource).includes('*')) {
          for (const action of asArray(st.Action))
            expect(action, `${role}: ${action} on *`).toMatch(unscopable);
        }
      }
    },
  );
});
