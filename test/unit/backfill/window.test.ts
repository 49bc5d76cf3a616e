import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isoOf,
  isScheduledEvent,
  parseBackfillInput,
  parseTime,
  resolveWindow,
} from '../../../lib/backfill/window.ts';
import { BackfillInputError } from '../../../lib/errors.ts';

const MAY_1 = 1_714_521_600; // 2024-05-01T00:00:00Z
const MAX_SECONDS = 253_402_300_799;

const SCHEDULED_EVENT = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2024-05-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/backfill'],
  detail: {},
};

function invalid(run: () => unknown): BackfillInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BackfillInputError);
    return error as BackfillInputError;
  }
  throw new Error('expected an BackfillInputError');
}

describe('parseTime', () => {
  it.each([
    [MAY_1, MAY_1],
    [MAY_1 + 0.9, MAY_1],
    [String(MAY_1), MAY_1],
    [` ${MAY_1} `, MAY_1],
    ['0', 0],
    ['2024-05-01', MAY_1],
    ['2024-05-01T00:00:00Z', MAY_1],
    ['2024-05-01T00:00Z', MAY_1],
    ['2024-05-01T02:00:00.999+02:00', MAY_1],
    ['2024-05-01T05:30:00+0530', MAY_1],
    ['2024-05-01 00:00:00z', MAY_1],
    ['9999-12-31T23:59:59Z', MAX_SECONDS],
  ])('reads %j as %d', (value, expected) => {
    expect(parseTime('from', value)).toBe(expected);
  });

  it.each([
    ['yesterday'],
    [''],
    ['2024-02-30'],
    ['2024-13-01T00:00:00Z'],
    ['2024-05-01T24:00:00Z'],
    ['0x10'],
    ['1e9'],
    ['-5'],
    [-5],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [true],
    [null],
    [{}],
    [[MAY_1]],
  ])('refuses %j', (value) => {
    expect(invalid(() => parseTime('from', value)).message).toMatch(/^from /);
  });

  it('says a date-time without a zone needs one', () => {
    expect(invalid(() => parseTime('to', '2024-05-01T10:00:00')).message).toContain('time zone');
  });

  it('says a number in milliseconds is one', () => {
    expect(invalid(() => parseTime('to', Date.UTC(2024, 4, 1))).message).toContain('milliseconds');
  });

  it('reads back every whole second it can write, as a number, a string and ISO-8601', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SECONDS }), (seconds) => {
        expect(parseTime('from', seconds)).toBe(seconds);
        expect(parseTime('from', String(seconds))).toBe(seconds);
        expect(parseTime('from', isoOf(seconds))).toBe(seconds);
      }),
    );
  });

  it('either returns a whole second in range or throws BackfillInputError, for any input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.anything()), (value) => {
        let parsed: number;
        try {
          parsed = parseTime('from', value);
        } catch (error) {
          expect(error).toBeInstanceOf(BackfillInputError);
          return;
        }
        expect(Number.isSafeInteger(parsed)).toBe(true);
        expect(parsed).toBeGreaterThanOrEqual(0);
        expect(parsed).toBeLessThanOrEqual(MAX_SECONDS);
      }),
    );
  });
});

describe('parseBackfillInput', () => {
  it('treats nothing, null and a Scheduled Event as {}', () => {
    expect(isScheduledEvent(SCHEDULED_EVENT)).toBe(true);
    for (const event of [undefined, null, {}, SCHEDULED_EVENT]) {
      expect(parseBackfillInput(event)).toEqual({ dryRun: false });
    }
  });

  it('reads from, to and dryRun in any documented form', () => {
    expect(parseBackfillInput({ from: '2024-05-01', to: String(MAY_1 + 60), dryRun: true })).toEqual({
      from: MAY_1,
      to: MAY_1 + 60,
      dryRun: true,
    });
    expect(parseBackfillInput({ to: MAY_1, dryRun: 'false' })).toEqual({ to: MAY_1, dryRun: false });
  });

  it('refuses from after to', () => {
    expect(invalid(() => parseBackfillInput({ from: MAY_1 + 1, to: MAY_1 })).message).toContain('after');
  });

  it.each([
    ['a string event', 'backfill please'],
    ['an array event', []],
    ['a bad dryRun', { dryRun: 'yes' }],
    ['a bad from', { from: 'last week' }],
    ['a bad to', { to: { seconds: 1 } }],
  ])('refuses %s', (_what, event) => {
    invalid(() => parseBackfillInput(event));
  });
});

describe('resolveWindow', () => {
  const now = (MAY_1 + 7200) * 1000 + 999;
  const defaults = { now, checkpoint: undefined, overlapSeconds: 3600, lookbackSeconds: 86_400 };

  it('looks back the default span to now when there is no checkpoint', () => {
    expect(resolveWindow({ dryRun: false }, defaults)).toEqual({
      from: MAY_1 + 7200 - 86_400,
      to: MAY_1 + 7200,
      clamped: false,
      defaultFrom: true,
    });
  });

  it('starts an overlap before the checkpoint', () => {
    const window = resolveWindow({ dryRun: false }, { ...defaults, checkpoint: MAY_1 + 5000 });

    expect(window.from).toBe(MAY_1 + 5000 - 3600);
  });

  it('brings a future to back to now and says so', () => {
    const window = resolveWindow({ to: MAY_1 + 999_999, dryRun: false }, defaults);

    expect(window).toMatchObject({ to: MAY_1 + 7200, clamped: true });
  });

  it('keeps what the caller gave', () => {
    const window = resolveWindow({ from: MAY_1, to: MAY_1 + 10, dryRun: false }, defaults);

    expect(window).toEqual({ from: MAY_1, to: MAY_1 + 10, clamped: false, defaultFrom: false });
  });

  it('refuses a given to that is before the default from', () => {
    const error = invalid(() =>
      resolveWindow({ to: MAY_1, dryRun: false }, { ...defaults, checkpoint: MAY_1 + 7000 }),
    );

    expect(error.message).toContain('checkpoint');
  });

  it('refuses a from that a clamped to falls behind', () => {
    invalid(() => resolveWindow({ from: MAY_1 + 9000, dryRun: false }, defaults));
  });
});
