import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CallNotFoundError } from '../../../lib/errors.ts';
import { sendToDeadLetterQueue } from '../../../lib/queue/dead-letter.ts';

const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/enrich-dlq.fifo';
const sqsMock = mockClient(SQSClient);
const client = new SQSClient({ region: 'us-east-1' });

const record = {
  messageId: '0f6b6f3e-3c1e-4a51-9f3a-1f8d6a8c2b10',
  body: '{"sessionId":"v1.us.gone","trigger":"call_ended","eventKey":"k"}',
  attributes: {
    ApproximateReceiveCount: '2',
    SentTimestamp: '1',
    SenderId: 'x',
    ApproximateFirstReceiveTimestamp: '1',
    MessageGroupId: 'v1.us.gone',
  },
};

afterEach(() => {
  sqsMock.reset();
});

describe('sendToDeadLetterQueue', () => {
  it('sends the original body with the reason as attributes, in the same group', async () => {
    sqsMock.on(SendMessageCommand).resolves({});

    await sendToDeadLetterQueue(client, DLQ_URL, record, new CallNotFoundError('no session "v1.us.gone"'));

    const input = sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input).toEqual({
      QueueUrl: DLQ_URL,
      MessageBody: record.body,
      MessageGroupId: 'v1.us.gone',
      MessageDeduplicationId: record.messageId,
      MessageAttributes: {
        errorName: { DataType: 'String', StringValue: 'CallNotFoundError' },
        errorMessage: { DataType: 'String', StringValue: 'no session "v1.us.gone"' },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
        approximateReceiveCount: { DataType: 'Number', StringValue: '2' },
      },
    });
  });

  it('keeps attribute values to what SQS accepts, without signed query strings', async () => {
    sqsMock.on(SendMessageCommand).resolves({});
    const error = new Error(`bad\u0000 https://r.example/x.mp4?Signature=abc ${'y'.repeat(2000)}`);

    await sendToDeadLetterQueue(client, DLQ_URL, record, error);

    const value = sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.errorMessage
      ?.StringValue as string;
    expect(value).not.toContain('\u0000');
    expect(value).not.toContain('Signature=abc');
    expect(value.length).toBeLessThanOrEqual(1024);
  });

  it('throws StorageError when SQS does not take it, so the record is not acknowledged', async () => {
    sqsMock.on(SendMessageCommand).rejects(new Error('AccessDenied'));

    await expect(sendToDeadLetterQueue(client, DLQ_URL, record, new Error('x'))).rejects.toMatchObject({
      name: 'StorageError',
    });
  });
});
