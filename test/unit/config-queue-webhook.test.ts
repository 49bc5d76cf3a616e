import { describe, expect, it } from 'vitest';
import { readDeadLetterQueueConfig, readQueueConfig, readWebhookConfig } from '../../lib/config.ts';
import { thrownBy } from '../support/errors.ts';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/cometchat-call-archive-prod-enrich.fifo';

describe('readQueueConfig', () => {
  it('reads ENRICH_QUEUE_URL', () => {
    expect(readQueueConfig({ ENRICH_QUEUE_URL: QUEUE })).toEqual({ queueUrl: QUEUE });
  });

  it.each([
    ['missing', undefined, 'ENRICH_QUEUE_URL is required but not set'],
    ['not a URL', 'enrich.fifo', 'ENRICH_QUEUE_URL is not a URL'],
    ['not FIFO', QUEUE.replace('.fifo', ''), 'ENRICH_QUEUE_URL must name a FIFO queue (".fifo")'],
    [
      'carrying a query string',
      `${QUEUE}?x=1`,
      'ENRICH_QUEUE_URL must not carry credentials, a query string or a fragment',
    ],
    ['not http(s)', 'ftp://host/q.fifo', 'ENRICH_QUEUE_URL must be an http(s) URL'],
  ])('fails with a ConfigError naming the variable when it is %s', (_label, value, message) => {
    const error = thrownBy(() => readQueueConfig({ ENRICH_QUEUE_URL: value }));

    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe(message);
  });
});

describe('readDeadLetterQueueConfig', () => {
  it('reads ENRICH_DLQ_URL and names it when missing', () => {
    const dlq = QUEUE.replace('enrich', 'enrich-dlq');

    expect(readDeadLetterQueueConfig({ ENRICH_DLQ_URL: dlq })).toEqual({ deadLetterQueueUrl: dlq });
    expect(thrownBy(() => readDeadLetterQueueConfig({})).message).toBe(
      'ENRICH_DLQ_URL is required but not set',
    );
  });

  it('reads the queue’s maxReceiveCount (ENRICH_MAX_RECEIVE_COUNT) when set, and refuses one SQS would not take', () => {
    const dlq = QUEUE.replace('enrich', 'enrich-dlq');

    expect(readDeadLetterQueueConfig({ ENRICH_DLQ_URL: dlq, ENRICH_MAX_RECEIVE_COUNT: '5' })).toEqual({
      deadLetterQueueUrl: dlq,
      maxReceiveCount: 5,
    });
    for (const bad of ['0', '1001', 'five', '2.5']) {
      expect(
        thrownBy(() => readDeadLetterQueueConfig({ ENRICH_DLQ_URL: dlq, ENRICH_MAX_RECEIVE_COUNT: bad }))
          .message,
      ).toBe('ENRICH_MAX_RECEIVE_COUNT must be a whole number from 1 to 1000');
    }
  });
});

describe('readWebhookConfig', () => {
  it('takes literal credentials and the app id', () => {
    expect(readWebhookConfig({ COMETCHAT_APP_ID: 'app1', WEBHOOK_BASIC_AUTH: 'user:Secret1' })).toEqual({
      appId: 'app1',
      basicAuth: { value: 'user:Secret1' },
    });
  });

  it('takes an SSM parameter name when no literal is set', () => {
    const config = readWebhookConfig({
      COMETCHAT_APP_ID: 'app1',
      WEBHOOK_BASIC_AUTH_PARAMETER: '/cometchat-call-archive/prod/webhook-basic-auth',
    });

    expect(config.basicAuth).toEqual({ parameterName: '/cometchat-call-archive/prod/webhook-basic-auth' });
  });

  it('refuses literal credentials without a colon, without echoing them', () => {
    const error = thrownBy(() =>
      readWebhookConfig({ COMETCHAT_APP_ID: 'app1', WEBHOOK_BASIC_AUTH: 'hunter2' }),
    );

    expect(error.message).toBe('WEBHOOK_BASIC_AUTH must look like "user:password"');
    expect(error.message).not.toContain('hunter2');
  });

  it('needs the credentials and the app id', () => {
    expect(thrownBy(() => readWebhookConfig({ COMETCHAT_APP_ID: 'app1' })).message).toBe(
      'WEBHOOK_BASIC_AUTH or WEBHOOK_BASIC_AUTH_PARAMETER is required but neither is set',
    );
    expect(thrownBy(() => readWebhookConfig({ WEBHOOK_BASIC_AUTH: 'u:p' })).message).toBe(
      'COMETCHAT_APP_ID is required but not set',
    );
  });
});
