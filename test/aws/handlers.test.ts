/**
 * The packaged handlers (the zips `osls package` built) on the stack moto deployed: secrets from
 * SSM SecureStrings, the SDK's default checksums, the real FIFO queues, DynamoDB and a versioned
 * bucket, with CometChat played by the simulator over real HTTP.
 *
 * Where moto is not AWS, the setup says so and works around it without weakening an assertion:
 * - moto runs a stack's event source mapping itself, inside SendMessage (invoking the function
 *   through Docker). It is disabled here, and the test plays Lambda's poller with
 *   `deliverBatch` (ReceiveMessage → the `enrich` handler → DeleteMessageBatch).
 * - moto names the queues CloudFormation made with AWS's host (sqs.us-east-1.amazonaws.com). The
 *   SQS client sends to a queue URL's own host, so the functions get the same URLs on moto's host.
 * - moto forgets a FIFO deduplication id once its message is deleted (AWS keeps it five minutes),
 *   so the redelivery is sent before the first delivery is consumed.
 * - moto leaves a multipart object's checksum type unset unless the upload names one (AWS:
 *   COMPOSITE for CRC32) and then answers its composite CRC32 without AWS's `-<parts>` suffix, so
 *   the SDK would check it as a whole-object CRC32 and fail. The test reads objects back with
 *   response validation WHEN_REQUIRED and checks every byte against the sha256 itself.
 * - moto ignores bucket-policy conditions, and its endpoint is plain HTTP: the bucket's
 *   DenyInsecureTransport statement is asserted on the template (test/integration), not here.
 * - moto's CloudFormation skips AWS::SecretsManager::Secret, so the erasure salt the stack would
 *   generate is created here, under the name the functions are given (infra/erasure.yml).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deliverBatch } from '../../dev/local-queue.ts';
import { type CometChatSimulator, sampleCalls, startCometChatSimulator } from '../../dev/simulator/index.ts';
import { httpApiEvent } from '../../dev/webhook-server.ts';
import { type CountingProxy, DYNAMODB_WRITES, startCountingProxy } from '../support/counting-proxy.ts';
import { digestOf, storedDigest } from '../support/s3.ts';
import { type DeployedFunction, startFunction } from './support/lambda.ts';
import { MOTO_REGION, motoCredentials, STAGE } from './support/stack.ts';

const endpoint = inject('motoEndpoint');
const resources = inject('stackResources');
const folders = inject('functionFolders');
const config = { endpoint, region: MOTO_REGION, credentials: motoCredentials() };
const sqs = new SQSClient(config);
const s3 = new S3Client({ ...config, forcePathStyle: true });
/** For reading objects back whole (see the header: moto's multipart checksums). */
const readBack = new S3Client({
  ...config,
  forcePathStyle: true,
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const ssm = new SSMClient(config);
const secrets = new SecretsManagerClient(config);
/** The erasure salt's secret, as infra/erasure.yml names it. */
const SALT_SECRET = `/cometchat-call-archive/${STAGE}/erasure-salt`;
const documents = DynamoDBDocumentClient.from(new DynamoDBClient(config));

const CREDENTIALS = 'cometchat:M0toSecret';
const SAMPLES = sampleCalls(Date.now());
const sessionOf = (index: number) => SAMPLES[index]?.raw.sessionId as string;
const AUDIO = sessionOf(0);
const GROUP = sessionOf(2);
/** Over two of the copier's parts, so the upload is multipart on moto. */
const LARGE_BYTES = 17 * 1024 * 1024 + 12_345;
/** What points a function at the simulator and moto's path-style S3 (the rest is as deployed). */
const LOCAL: Record<string, string> = { S3_FORCE_PATH_STYLE: 'true', POWERTOOLS_METRICS_DISABLED: 'true' };
/** The call holding that recording, added to the simulator in the setup. */
const LARGE = { sessionId: '' };

function physical(logicalId: string): string {
  const id = resources[logicalId];
  if (!id) throw new Error(`the stack has no ${logicalId}`);
  return id;
}
/** The queue's URL on moto's host (see the header: moto names AWS's host). */
const onMoto = (queueUrl: string) => `${endpoint}${new URL(queueUrl).pathname}`;
const QUEUE = onMoto(physical('EnrichQueue'));
const DLQ = onMoto(physical('EnrichDeadLetterQueue'));
const TABLE = physical('CallsTable');
const BUCKET = physical('RecordingsBucket');

let simulator: CometChatSimulator;
let webhook: DeployedFunction;
let enrich: DeployedFunction;
let enrichCall: DeployedFunction;
let backfill: DeployedFunction;
let erase: DeployedFunction;
let dynamodbProxy: CountingProxy;
let s3Proxy: CountingProxy;
let queueArn: string;

type EnrichmentResult = {
  sessionId: string;
  status: string;
  participants: number;
  recordings: { rid: string; bucket: string; key: string; bytes: number; sha256: string; copied: boolean }[];
};
type CallItem = Record<string, unknown> & {
  recordings?: { rid: string; bucket: string; key: string; bytes: number; sha256: string }[];
};

async function deliver(
  fixture: string,
  sessionId: string,
  to: DeployedFunction = webhook,
): Promise<APIGatewayProxyStructuredResultV2> {
  const envelope = JSON.parse(
    readFileSync(new URL(`../fixtures/webhooks/${fixture}.json`, import.meta.url), 'utf8'),
  );
  envelope.data.sessionId = sessionId;
  envelope.appId = simulator.appId;
  const headers = {
    authorization: `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`,
    'content-type': 'application/json',
  };
  const request = httpApiEvent(
    { method: 'POST', url: '/webhooks/cometchat', headers, httpVersion: '1.1', socket: {} as never },
    Buffer.from(JSON.stringify(envelope)),
    'POST /webhooks/cometchat',
  );
  return to.invoke<APIGatewayProxyStructuredResultV2>(request);
}

/** Lambda's poller, once: the queue's next batch to the packaged `enrich` handler. */
const pollOnce = () =>
  deliverBatch(sqs, QUEUE, queueArn, (event) => enrich.invoke<SQSBatchResponse>(event), { retryDelayMs: 0 });

const callItem = async (sessionId: string) =>
  (await documents.send(new GetCommand({ TableName: TABLE, Key: { pk: `CALL#${sessionId}`, sk: 'CALL' } })))
    .Item as CallItem | undefined;

const waiting = async (queueUrl: string) => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
};

/** Each archived recording: its bytes hash to the item's sha256, tagged so, one version, metadata. */
async function expectArchived(sessionId: string, recording: NonNullable<CallItem['recordings']>[number]) {
  expect(recording.bucket).toBe(BUCKET);
  const stored = await storedDigest(readBack, BUCKET, recording.key);
  const source = await digestOf(simulator.recordingFile(recording.rid).content());
  expect(stored).toEqual(source);
  expect(recording).toMatchObject({ bytes: source.bytes, sha256: source.sha256 });
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: recording.key }));
  expect(head.Metadata).toMatchObject({ 'session-id': sessionId, rid: recording.rid });
  const { TagSet = [] } = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: recording.key }));
  expect(TagSet).toContainEqual({ Key: 'sha256', Value: source.sha256 });
  const { Versions = [] } = await s3.send(
    new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: recording.key }),
  );
  expect(Versions.filter((version) => version.Key === recording.key)).toHaveLength(1);
}

beforeAll(async () => {
  simulator = await startCometChatSimulator({ calls: SAMPLES });
  const largeSession = `v1.us.${simulator.appId}.${randomUUID()}`;
  LARGE.sessionId = largeSession;
  simulator.addCall({
    raw: { ...(SAMPLES[0]?.raw ?? {}), sessionId: largeSession, hasRecording: true },
    recordings: [{ rid: `large-${randomUUID()}`, bytes: LARGE_BYTES }],
  });
  // The deployed configuration: secrets as SSM SecureStrings under the names the stack gives.
  await ssm.send(
    new PutParameterCommand({
      Name: `/cometchat-call-archive/${STAGE}/cometchat-api-key`,
      Type: 'SecureString',
      Value: simulator.apiKey,
      Overwrite: true,
    }),
  );
  await ssm.send(
    new PutParameterCommand({
      Name: `/cometchat-call-archive/${STAGE}/webhook-basic-auth`,
      Type: 'SecureString',
      Value: CREDENTIALS,
      Overwrite: true,
    }),
  );
  await secrets.send(
    new CreateSecretCommand({ Name: SALT_SECRET, SecretString: `moto-salt-${randomUUID()}` }),
  );
  queueArn =
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: QUEUE, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn ?? '';
  // moto would run the mapping itself on every SendMessage; the test is the poller instead.
  const lambda = new LambdaClient(config);
  const { EventSourceMappings = [] } = await lambda.send(
    new ListEventSourceMappingsCommand({ EventSourceArn: queueArn }),
  );
  for (const mapping of EventSourceMappings)
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: false }));
  lambda.destroy();

  dynamodbProxy = await startCountingProxy(endpoint);
  s3Proxy = await startCountingProxy(endpoint);
  Object.assign(LOCAL, {
    COMETCHAT_BASE_URL: simulator.baseUrl,
    RECORDING_ALLOWED_HOSTS: simulator.recordingsHost,
  });
  const start = (name: string, zip: string, env: Record<string, string> = {}) =>
    startFunction({
      motoEndpoint: endpoint,
      functionName: `cometchat-call-archive-${STAGE}-${name}`,
      folder: folders[zip] ?? '',
      env: { ...LOCAL, ...env },
    });
  [webhook, enrich, enrichCall, backfill, erase] = await Promise.all([
    start('webhook', 'webhook', { ENRICH_QUEUE_URL: QUEUE }),
    start('enrich', 'enrich', { ENRICH_DLQ_URL: DLQ }),
    // enrichCall's DynamoDB and S3 traffic goes through counting proxies to moto.
    start('enrichCall', 'enrichCall', {
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbProxy.endpoint,
      AWS_ENDPOINT_URL_S3: s3Proxy.endpoint,
    }),
    start('backfill', 'backfill', { ENRICH_QUEUE_URL: QUEUE }),
    start('erase', 'erase'),
  ]);
});

afterAll(async () => {
  await Promise.all([webhook, enrich, enrichCall, backfill, erase].map((fn) => fn?.stop()));
  await dynamodbProxy?.close();
  await s3Proxy?.close();
  await simulator?.close();
  for (const client of [sqs, s3, readBack, ssm, secrets, documents]) client.destroy();
});

describe('the packaged handlers on moto', () => {
  it('runs with the deployed configuration: SSM parameter names, no secret in the environment', () => {
    for (const fn of [webhook, enrich, enrichCall, backfill]) {
      expect(fn.env.COMETCHAT_API_KEY).toBeUndefined();
      expect(fn.env.WEBHOOK_BASIC_AUTH).toBeUndefined();
      expect(fn.env.AWS_REQUEST_CHECKSUM_CALCULATION).toBeUndefined();
      expect(fn.env.AWS_RESPONSE_CHECKSUM_VALIDATION).toBeUndefined();
    }
    expect(webhook.env.WEBHOOK_BASIC_AUTH_PARAMETER).toBe(
      `/cometchat-call-archive/${STAGE}/webhook-basic-auth`,
    );
    expect(enrich.env.COMETCHAT_API_KEY_PARAMETER).toBe(`/cometchat-call-archive/${STAGE}/cometchat-api-key`);
  });

  it('webhook → FIFO queue → enrich archives the calls into DynamoDB and S3', async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: QUEUE }));

    expect(JSON.parse((await deliver('call-ended', AUDIO)).body ?? '')).toEqual({ accepted: true });
    expect(JSON.parse((await deliver('recording-generated', GROUP)).body ?? '')).toEqual({ accepted: true });
    expect(await waiting(QUEUE)).toBe(2);
    let received = 0;
    while (received < 2) received += await pollOnce();

    expect(await waiting(QUEUE)).toBe(0);
    expect(await waiting(DLQ)).toBe(0);
    const audio = await callItem(AUDIO);
    expect(audio).toMatchObject({ sessionId: AUDIO, status: 'ended' });
    // The participant index items reach the table's byUser index as the data model says.
    const uid = (audio?.participants as { uid: string }[] | undefined)?.[0]?.uid;
    const { Items = [] } = await documents.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'byUser',
        KeyConditionExpression: 'gsi1pk = :user',
        ExpressionAttributeValues: { ':user': `USER#${uid}` },
      }),
    );
    expect(Items.map((item) => item.pk)).toContain(`CALL#${AUDIO}`);
    const group = await callItem(GROUP);
    expect(group?.recordings).toHaveLength(2);
    for (const recording of group?.recordings ?? []) await expectArchived(GROUP, recording);
  });

  it('drops a redelivered webhook in the queue: one message for the same event', async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: QUEUE }));
    const sessionId = sessionOf(1);
    // The redelivery reaches another container, which has not seen the event: only the queue's
    // deduplication id can drop it.
    const other = await startFunction({
      motoEndpoint: endpoint,
      functionName: `cometchat-call-archive-${STAGE}-webhook`,
      folder: folders.webhook ?? '',
      env: { ...LOCAL, ENRICH_QUEUE_URL: QUEUE },
    });

    try {
      const first = await deliver('call-ended', sessionId);
      const again = await deliver('call-ended', sessionId, other);

      expect(JSON.parse(first.body ?? '')).toEqual({ accepted: true });
      expect(JSON.parse(again.body ?? '')).toEqual({ accepted: true });
    } finally {
      await other.stop();
    }
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: QUEUE, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );
    expect(Messages.map((message) => JSON.parse(message.Body ?? '{}').sessionId)).toEqual([sessionId]);
  });

  it('puts a call CometChat does not know in the dead-letter queue with its reason, once', async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: QUEUE }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: DLQ }));
    const unknown = `v1.us.${simulator.appId}.${randomUUID()}`;

    await deliver('call-ended', unknown);
    expect(await pollOnce()).toBe(1);

    expect(await waiting(QUEUE)).toBe(0);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: DLQ, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages[0]?.Body ?? '{}').sessionId).toBe(unknown);
    expect(Messages[0]?.MessageAttributes?.errorName?.StringValue).toBe('CallNotFoundError');
    expect(Messages[0]?.MessageAttributes?.errorMessage?.StringValue).toBeTruthy();
    expect(await callItem(unknown)).toBeUndefined();
  });

  it('enrichCall archives a multipart recording whose bytes read back to its sha256', async () => {
    const result = await enrichCall.invoke<EnrichmentResult>({ sessionId: LARGE.sessionId });

    expect(result).toMatchObject({ sessionId: LARGE.sessionId, status: 'ended' });
    expect(result.recordings).toHaveLength(1);
    expect(result.recordings[0]).toMatchObject({ bytes: LARGE_BYTES, copied: true, bucket: BUCKET });
    const item = await callItem(LARGE.sessionId);
    const [recording] = item?.recordings ?? [];
    if (!recording) throw new Error('the call item holds no recording');
    expect(recording.sha256).toBe(result.recordings[0]?.sha256);
    await expectArchived(LARGE.sessionId, recording);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: recording.key }));
    expect(head.ETag).toMatch(/-\d+"$/);
  });

  it('reruns enrichCall on an archived call without a write or a download', async () => {
    const before = await callItem(GROUP);
    simulator.resetRequests();
    dynamodbProxy.reset();
    s3Proxy.reset();

    const result = await enrichCall.invoke<EnrichmentResult>({ sessionId: GROUP });

    expect(result.recordings.map((recording) => recording.copied)).toEqual([false, false]);
    expect(simulator.bytesServed()).toBe(0);
    expect(simulator.requests.filter((request) => request.kind === 'recording')).toEqual([]);
    expect(dynamodbProxy.count(...DYNAMODB_WRITES)).toBe(0);
    expect(s3Proxy.count('PUT', 'POST', 'DELETE')).toBe(0);
    expect(await callItem(GROUP)).toEqual(before);
  });

  it('names an S3 failure during a copy StorageError, not RecordingDownloadError', async () => {
    const sessionId = `v1.us.${simulator.appId}.${randomUUID()}`;
    simulator.addCall({
      raw: { ...(SAMPLES[0]?.raw ?? {}), sessionId, hasRecording: true },
      recordings: [{ rid: `r-${randomUUID()}`, bytes: 64 * 1024 }],
    });
    // The same function with a bucket S3 does not have: every write fails on S3's side.
    const misconfigured = await startFunction({
      motoEndpoint: endpoint,
      functionName: `cometchat-call-archive-${STAGE}-enrichCall`,
      folder: folders.enrichCall ?? '',
      env: { ...LOCAL, RECORDINGS_BUCKET: `missing-${randomUUID()}` },
    });

    try {
      await expect(misconfigured.invoke({ sessionId })).rejects.toMatchObject({ name: 'StorageError' });
    } finally {
      await misconfigured.stop();
    }
    expect(await callItem(sessionId)).toBeUndefined();
  });

  it('enrichCall names a call CometChat does not know as CallNotFoundError', async () => {
    const failure = enrichCall.invoke({ sessionId: `v1.us.${simulator.appId}.${randomUUID()}` });

    await expect(failure).rejects.toMatchObject({ name: 'CallNotFoundError' });
  });

  it('backfill enqueues the calls not yet archived into the real FIFO queue', async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: QUEUE }));
    const archived = new Set([AUDIO, GROUP, LARGE.sessionId]);
    const expected = simulator.sessionIds().filter((sessionId) => !archived.has(sessionId));

    const result = await backfill.invoke<{ listed: number; enqueued: number }>({
      from: 0,
      to: Math.ceil(Date.now() / 1000) + 60,
    });

    expect(result.enqueued).toBe(expected.length);
    const queued: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: QUEUE,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        const sessionId = JSON.parse(message.Body ?? '{}').sessionId;
        queued.push(sessionId);
        expect(message.Attributes?.MessageGroupId).toBeTruthy();
      }
    }
    expect(queued.sort()).toEqual(expected.sort());
  });

  it('erase deletes every version of a call’s files in the versioned bucket, and the call stays out', async () => {
    const stored = await callItem(LARGE.sessionId);
    const uid = (stored?.participants as { uid: string }[] | undefined)?.[0]?.uid as string;
    const folder = String(stored?.manifestKey).replace(/call\.json$/, '');
    const versionsUnder = async () => {
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: folder }));
      return [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => v.Key);
    };
    expect(await versionsUnder()).not.toEqual([]);

    const result = await erase.invoke<Record<string, unknown>>({ uid, mode: 'delete' });

    expect(result).toMatchObject({ mode: 'delete', dryRun: false, held: [] });
    expect(result.sessionIds).toContain(LARGE.sessionId);
    expect(JSON.stringify(result)).not.toContain(uid);
    expect(await versionsUnder()).toEqual([]);
    expect(await callItem(LARGE.sessionId)).toBeUndefined();
    const again = await enrichCall.invoke<Record<string, unknown>>({ sessionId: LARGE.sessionId });
    expect(again).toMatchObject({ skipped: 'erased', recordings: [] });
    expect(await versionsUnder()).toEqual([]);
  });
});
