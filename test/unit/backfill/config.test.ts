import { describe, expect, it } from 'vitest';
import { readBackfillConfig } from '../../../lib/config.ts';
import { ConfigError } from '../../../lib/errors.ts';

describe('readBackfillConfig', () => {
  it('has a documented default for every setting', () => {
    expect(readBackfillConfig({})).toEqual({
      requestsPerMinute: 300,
      overlapSeconds: 3600,
      queueThreshold: 5000,
    });
  });

  it('reads every variable', () => {
    const config = readBackfillConfig({
      COMETCHAT_REQUESTS_PER_MINUTE: '120',
      BACKFILL_OVERLAP_SECONDS: '600',
      BACKFILL_QUEUE_THRESHOLD: '0',
      BACKFILL_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:archive-prod-backfill',
    });

    expect(config).toEqual({
      requestsPerMinute: 120,
      overlapSeconds: 600,
      queueThreshold: 0,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:archive-prod-backfill',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('ignores the variables that became constants', () => {
    expect(
      readBackfillConfig({
        BACKFILL_PER_PAGE: '1000',
        BACKFILL_ORDER: 'newest-first',
        BACKFILL_PAGE_PARAM: 'p',
      }),
    ).toEqual(readBackfillConfig({}));
  });

  it.each([
    ['COMETCHAT_REQUESTS_PER_MINUTE', '0'],
    ['COMETCHAT_REQUESTS_PER_MINUTE', '1.5'],
    ['BACKFILL_OVERLAP_SECONDS', '-1'],
    ['BACKFILL_OVERLAP_SECONDS', 'an hour'],
    ['BACKFILL_QUEUE_THRESHOLD', '10000001'],
    ['BACKFILL_STATE_MACHINE_ARN', 'arn:aws:lambda:us-east-1:123456789012:function:backfill'],
  ])('refuses %s=%j, naming it', (name, value) => {
    expect(() => readBackfillConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => readBackfillConfig({ [name]: value })).toThrow(name);
  });
});
