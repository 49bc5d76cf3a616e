import { describe, expect, it } from 'vitest';
import { readBackfillConfig } from '../../../lib/config.ts';
import { ConfigError } from '../../../lib/errors.ts';

describe('readBackfillConfig', () => {
  it('has a documented default for every setting', () => {
    expect(readBackfillConfig({})).toEqual({
      requestsPerMinute: 300,
      overlapSeconds: 3600,
      lookbackSeconds: 86_400,
      holdSeconds: 86_400,
      perPage: 100,
      pageParam: 'page',
      perPageParam: 'perPage',
      windowParams: {},
      order: 'unknown',
      maxPasses: 3,
      maxPages: 10_000,
      queueThreshold: 5000,
    });
  });

  it('reads every variable', () => {
    const config = readBackfillConfig({
      COMETCHAT_REQUESTS_PER_MINUTE: '120',
      BACKFILL_OVERLAP_SECONDS: '600',
      BACKFILL_DEFAULT_LOOKBACK_SECONDS: '0',
      BACKFILL_HOLD_SECONDS: '7200',
      BACKFILL_PER_PAGE: '1000',
      BACKFILL_PAGE_PARAM: 'pageNo',
      BACKFILL_PER_PAGE_PARAM: 'limit',
      BACKFILL_FROM_PARAM: 'startedAt[gte]',
      BACKFILL_TO_PARAM: 'startedAt[lte]',
      BACKFILL_ORDER: 'Newest-First',
      BACKFILL_MAX_PASSES: '1',
      BACKFILL_MAX_PAGES: '50',
      BACKFILL_QUEUE_THRESHOLD: '0',
      BACKFILL_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:archive-prod-backfill',
    });

    expect(config).toEqual({
      requestsPerMinute: 120,
      overlapSeconds: 600,
      lookbackSeconds: 0,
      holdSeconds: 7200,
      perPage: 1000,
      pageParam: 'pageNo',
      perPageParam: 'limit',
      windowParams: { from: 'startedAt[gte]', to: 'startedAt[lte]' },
      order: 'newest-first',
      maxPasses: 1,
      maxPages: 50,
      queueThreshold: 0,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:archive-prod-backfill',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['COMETCHAT_REQUESTS_PER_MINUTE', '0'],
    ['COMETCHAT_REQUESTS_PER_MINUTE', '1.5'],
    ['BACKFILL_PER_PAGE', '1001'],
    ['BACKFILL_PER_PAGE', 'lots'],
    ['BACKFILL_MAX_PASSES', '11'],
    ['BACKFILL_OVERLAP_SECONDS', '-1'],
    ['BACKFILL_PAGE_PARAM', 'page&x=1'],
    ['BACKFILL_FROM_PARAM', 'from date'],
    ['BACKFILL_ORDER', 'oldest-first'],
    ['BACKFILL_STATE_MACHINE_ARN', 'arn:aws:lambda:us-east-1:123456789012:function:backfill'],
  ])('refuses %s=%j, naming it', (name, value) => {
    expect(() => readBackfillConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => readBackfillConfig({ [name]: value })).toThrow(name);
  });

  it('refuses two parameters with one name', () => {
    expect(() => readBackfillConfig({ BACKFILL_FROM_PARAM: 'page' })).toThrow(ConfigError);
    expect(() => readBackfillConfig({ BACKFILL_FROM_PARAM: 'x', BACKFILL_TO_PARAM: 'x' })).toThrow(
      ConfigError,
    );
  });
});
