/**
 * What moto built from the packaged template: the data model's keys and indexes, the FIFO queues
 * and their redrive, the bucket's versioning, and the functions wired to them. A template that
 * does not deploy never gets here: the global setup fails the run.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { GetBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MOTO_REGION, motoCredentials, readTemplate, STACK_NAME } from './support/stack.ts';

const endpoint = inject('motoEndpoint');
const resources = inject('stackResources');
const config = { endpoint, region: MOTO_REGION, credentials: motoCredentials() };
const dynamodb = new DynamoDBClient(config);
const sqs = new SQSClient(config);
const s3 = new S3Client({ ...config, forcePathStyle: true });
const lambda = new LambdaClient(config);

function physical(logicalId: string): string {
  const id = resources[logicalId];
  if (!id) throw new Error(`the stack has no ${logicalId}`);
  return id;
}

const attributesOf = async (logicalId: string) =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: physical(logicalId), AttributeNames: ['All'] })))
    .Attributes ?? {};

afterAll(() => {
  for (const client of [dynamodb, sqs, s3, lambda]) client.destroy();
});

describe(`the ${STACK_NAME} stack on moto`, () => {
  it('has the calls table keyed pk/sk with the byUser and byDay indexes', async () => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: physical('CallsTable') }));

    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const indexes = Object.fromEntries(
      (Table?.GlobalSecondaryIndexes ?? []).map((index) => [
        index.IndexName,
        { keys: index.KeySchema, projection: index.Projection?.ProjectionType },
      ]),
    );
    expect(indexes).toEqual({
      byUser: {
        keys: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        projection: 'ALL',
      },
      byDay: {
        keys: [
          { AttributeName: 'gsi2pk', KeyType: 'HASH' },
          { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
        ],
        projection: 'ALL',
      },
    });
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('has a FIFO enrichment queue that redrives to a FIFO dead-letter queue', async () => {
    const queue = await attributesOf('EnrichQueue');
    const deadLetter = await attributesOf('EnrichDeadLetterQueue');

    expect(queue.FifoQueue).toBe('true');
    expect(queue.ContentBasedDeduplication ?? 'false').toBe('false');
    expect(deadLetter.FifoQueue).toBe('true');
    expect(queue.RedrivePolicy, 'the enrichment queue has no redrive policy').toBeDefined();
    const redrive = JSON.parse(queue.RedrivePolicy ?? '{}');
    expect(redrive.deadLetterTargetArn).toBe(deadLetter.QueueArn);
    expect(Number(redrive.maxReceiveCount)).toBeGreaterThan(1);
    // Lambda's guidance: the visibility timeout at least six times the consumer's timeout.
    const enrich = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: physical('EnrichLambdaFunction') }),
    );
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * (enrich.Timeout ?? 0));
  });

  it('keeps every version of the recordings bucket', async () => {
    const declared = (await readTemplate(inject('packageDir'))).Resources.RecordingsBucket?.Properties;
    const versioning = await s3.send(
      new GetBucketVersioningCommand({ Bucket: physical('RecordingsBucket') }),
    );

    expect(declared?.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    // Applied by the global setup from the template itself (moto's CloudFormation skips it).
    expect(versioning.Status).toBe('Enabled');
  });

  it('feeds the enrichment queue to the enrich function with partial batch responses', async () => {
    const queueArn = (await attributesOf('EnrichQueue')).QueueArn;
    // By the queue: moto filters FunctionName against what the template passed (an ARN) verbatim.
    const { EventSourceMappings = [] } = await lambda.send(
      new ListEventSourceMappingsCommand({ EventSourceArn: queueArn }),
    );

    expect(EventSourceMappings).toHaveLength(1);
    expect(EventSourceMappings[0]).toMatchObject({
      EventSourceArn: queueArn,
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(EventSourceMappings[0]?.FunctionArn).toMatch(/:function:cometchat-call-archive-awstest-enrich$/);
  });

  it("gives each function its queue, table and bucket, resolved to this stack's resources", async () => {
    const environment = async (logicalId: string) =>
      (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: physical(logicalId) })))
        .Environment?.Variables ?? {};

    expect(await environment('WebhookLambdaFunction')).toMatchObject({
      ENRICH_QUEUE_URL: physical('EnrichQueue'),
    });
    expect(await environment('EnrichLambdaFunction')).toMatchObject({
      CALLS_TABLE: physical('CallsTable'),
      RECORDINGS_BUCKET: physical('RecordingsBucket'),
      ENRICH_DLQ_URL: physical('EnrichDeadLetterQueue'),
    });
    expect(await environment('BackfillLambdaFunction')).toMatchObject({
      CALLS_TABLE: physical('CallsTable'),
      ENRICH_QUEUE_URL: physical('EnrichQueue'),
    });
  });
});
