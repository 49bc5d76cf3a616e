import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARCHIVE_KEY_PLACEHOLDERS,
  readArchiveKeyTemplate,
  readErasureSalt,
  readEventsConfig,
  readRetentionConfig,
} from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { thrownBy } from '../support/errors.ts';

/** The ConfigError `read` throws; fails the test when it throws nothing or something else. */
const configError = (read: () => unknown): ConfigError => thrownBy(read, ConfigError);

const template = (value: string, prefix?: string) =>
  readArchiveKeyTemplate({
    ARCHIVE_KEY_TEMPLATE: value,
    ...(prefix === undefined ? {} : { RECORDINGS_PREFIX: prefix }),
  });

describe('readArchiveKeyTemplate', () => {
  it('is undefined when unset or blank, so the default layout applies', () => {
    expect(readArchiveKeyTemplate({})).toBeUndefined();
    expect(template('  ')).toBeUndefined();
  });

  it('accepts every known placeholder, date folders and hive-style names', () => {
    expect(template('{sessionId}')).toBe('{sessionId}');
    expect(template('{appId}/{yyyy}/{mm}/{dd}/{sessionId}')).toBe('{appId}/{yyyy}/{mm}/{dd}/{sessionId}');
    expect(template('year={yyyy}/month={mm}/call-{sessionId}.d')).toBe(
      'year={yyyy}/month={mm}/call-{sessionId}.d',
    );
  });

  it('drops one trailing slash: the template names a folder', () => {
    expect(template('{yyyy}/{sessionId}/')).toBe('{yyyy}/{sessionId}');
  });

  it('refuses a template without {sessionId}, naming the variable', () => {
    const error = configError(() => template('{yyyy}/{mm}/{dd}'));

    expect(error.message).toBe('ARCHIVE_KEY_TEMPLATE must contain {sessionId}');
  });

  it.each(['{sessionid}', '{date}', '{}', '{ sessionId }', '{uid}'])(
    'refuses the unknown placeholder in %s',
    (bad) => {
      const error = configError(() => template(`${bad}/{sessionId}`));

      expect(error.message).toMatch(
        /^ARCHIVE_KEY_TEMPLATE has an unknown placeholder \{.*\} \(known: \{sessionId\}, /,
      );
    },
  );

  it.each([
    'calls {sessionId}',
    '{sessionId}?x',
    '{{sessionId}}',
    '{sessionId}}',
    'ü/{sessionId}',
    '{sessionId}\tx',
    '%2F/{sessionId}',
    '~/{sessionId}',
  ])('refuses characters a key should not hold: %j', (bad) => {
    expect(configError(() => template(bad)).message).toMatch(
      /^ARCHIVE_KEY_TEMPLATE (may hold only|has an unknown)/,
    );
  });

  it.each(['/{sessionId}', '{yyyy}//{sessionId}', '../{sessionId}', '{yyyy}/./{sessionId}', '{sessionId}//'])(
    'refuses a leading slash, an empty segment and dot segments: %s',
    (bad) => {
      expect(configError(() => template(bad)).message).toMatch(/^ARCHIVE_KEY_TEMPLATE must not start with/);
    },
  );

  it('refuses a template whose keys could pass 1,024 bytes, counting the prefix', () => {
    const long = `${'a'.repeat(500)}/{sessionId}`;

    expect(template(long, '')).toBe(long);
    expect(configError(() => template(long, `${'p'.repeat(200)}/`)).message).toMatch(/too long/);
    expect(configError(() => template(`{sessionId}/{sessionId}/{sessionId}/{sessionId}`)).message).toMatch(
      /too long/,
    );
  });

  it('returns only templates built from safe characters and known placeholders (property)', () => {
    const piece = fc.oneof(
      fc.constantFrom(...ARCHIVE_KEY_PLACEHOLDERS.map((p) => `{${p}}`)),
      fc.constantFrom('/', '-', '_', '.', '=', '{', '}', '?', ' ', '%', 'é'),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const value = pieces.join('');
        let result: string | undefined;
        try {
          result = template(value);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          return;
        }
        if (result === undefined) return;
        expect(result).toContain('{sessionId}');
        expect(result.replace(/\{(sessionId|yyyy|mm|dd|appId)\}/g, '')).toMatch(/^[A-Za-z0-9/_.=-]*$/);
        expect(result.split('/')).not.toContain('');
      }),
    );
  });
});

describe('readEventsConfig', () => {
  it('is undefined when EVENT_BUS_NAME is unset: no events are sent', () => {
    expect(readEventsConfig({})).toBeUndefined();
    expect(readEventsConfig({ EVENT_BUS_NAME: '' })).toBeUndefined();
  });

  it('takes a bus name or a bus ARN', () => {
    expect(readEventsConfig({ EVENT_BUS_NAME: 'archive-events' })).toEqual({ busName: 'archive-events' });
    const arn = 'arn:aws:events:eu-west-1:111122223333:event-bus/archive-events';
    expect(readEventsConfig({ EVENT_BUS_NAME: arn })).toEqual({ busName: arn });
  });

  it.each(['bus name', 'bus?x', 'arn:aws:sqs:eu-west-1:111122223333:q', 'x'.repeat(257)])(
    'refuses %s, naming the variable',
    (bad) => {
      expect(configError(() => readEventsConfig({ EVENT_BUS_NAME: bad })).message).toBe(
        'EVENT_BUS_NAME is not an EventBridge bus name or ARN',
      );
    },
  );
});

describe('readRetentionConfig', () => {
  it('is undefined when unset or 0: calls are kept for ever', () => {
    expect(readRetentionConfig({})).toBeUndefined();
    expect(readRetentionConfig({ RETENTION_DAYS: '0' })).toBeUndefined();
  });

  it('reads whole days and names the TTL attribute the table expires on', () => {
    expect(readRetentionConfig({ RETENTION_DAYS: '365' })).toEqual({ days: 365, ttlAttribute: 'expiresAt' });
  });

  it.each(['-1', '1.5', 'ten', '36501'])('refuses %s', (bad) => {
    expect(configError(() => readRetentionConfig({ RETENTION_DAYS: bad })).message).toBe(
      'RETENTION_DAYS must be a whole number from 0 to 36500',
    );
  });
});

describe('readErasureSalt', () => {
  it('is undefined when neither variable is set, so enrichment skips the erased set', () => {
    expect(readErasureSalt({})).toBeUndefined();
    expect(readErasureSalt({ ERASURE_SALT: '  ', ERASURE_SALT_SECRET: '' })).toBeUndefined();
  });

  it('takes the salt itself before the secret that holds it', () => {
    expect(readErasureSalt({ ERASURE_SALT: 'a-local-salt-of-20c', ERASURE_SALT_SECRET: 's' })).toEqual({
      value: 'a-local-salt-of-20c',
    });
    expect(readErasureSalt({ ERASURE_SALT_SECRET: 'archive/erasure-salt' })).toEqual({
      secretId: 'archive/erasure-salt',
    });
  });

  it('refuses a salt too short to keep a uid from being guessed back, naming the variable', () => {
    expect(configError(() => readErasureSalt({ ERASURE_SALT: 'short' })).message).toMatch(/^ERASURE_SALT /);
  });
});
