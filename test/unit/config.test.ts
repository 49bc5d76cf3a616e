import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECORDING_ALLOWED_HOSTS,
  readCometChatConfig,
  readRecordingsConfig,
  readStoreConfig,
} from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { thrownBy } from '../support/errors.ts';

type Env = Record<string, string | undefined>;

const COMETCHAT_ENV = {
  COMETCHAT_APP_ID: '31780434a95d45',
  COMETCHAT_REGION: 'us',
  COMETCHAT_API_KEY: 'literal-api-key',
} as const;

const RECORDINGS_ENV = { RECORDINGS_BUCKET: 'call-recordings' } as const;

function cometChat(overrides: Env = {}) {
  return readCometChatConfig({ ...COMETCHAT_ENV, ...overrides });
}

function recordings(overrides: Env = {}) {
  return readRecordingsConfig({ ...RECORDINGS_ENV, ...overrides });
}

/** The ConfigError `read` throws; fails the test when it throws nothing or something else. */
const configError = (read: () => unknown): ConfigError => thrownBy(read, ConfigError);

describe('readCometChatConfig', () => {
  it('reads the app id, region, default base URL and literal key', () => {
    const config = cometChat();

    expect(config).toEqual({
      appId: '31780434a95d45',
      region: 'us',
      baseUrl: 'https://31780434a95d45.call-us.cometchat.io/v3',
      apiKey: { value: 'literal-api-key' },
    });
  });

  it('builds the default base URL from the app id and region', () => {
    expect(cometChat({ COMETCHAT_APP_ID: 'abc-123', COMETCHAT_REGION: 'eu' }).baseUrl).toBe(
      'https://abc-123.call-eu.cometchat.io/v3',
    );
    expect(cometChat({ COMETCHAT_REGION: 'in' }).baseUrl).toBe(
      'https://31780434a95d45.call-in.cometchat.io/v3',
    );
  });

  it.each(['COMETCHAT_APP_ID', 'COMETCHAT_REGION'])('names %s when it is missing or blank', (name) => {
    for (const value of [undefined, '', '   ']) {
      const error = configError(() => cometChat({ [name]: value }));

      expect(error.message).toContain(name);
    }
  });

  it('names both key variables when neither is set', () => {
    const error = configError(() => cometChat({ COMETCHAT_API_KEY: undefined }));

    expect(error.message).toContain('COMETCHAT_API_KEY');
    expect(error.message).toContain('COMETCHAT_API_KEY_PARAMETER');
  });

  it.each(['has space', 'a.b', 'a/b', 'app_id', 'x'.repeat(64)])('rejects the app id %j', (appId) => {
    const error = configError(() => cometChat({ COMETCHAT_APP_ID: appId }));

    expect(error.message).toContain('COMETCHAT_APP_ID');
  });

  it.each(['uk', 'usa', 'us-east-1', 'u s'])('rejects the region %j', (region) => {
    const error = configError(() => cometChat({ COMETCHAT_REGION: region }));

    expect(error.message).toContain('COMETCHAT_REGION');
  });

  it('accepts an upper-case region and lower-cases it', () => {
    const config = cometChat({ COMETCHAT_REGION: 'EU' });

    expect(config.region).toBe('eu');
    expect(config.baseUrl).toBe('https://31780434a95d45.call-eu.cometchat.io/v3');
  });

  it('uses COMETCHAT_BASE_URL instead of the default, trailing slashes trimmed', () => {
    expect(cometChat({ COMETCHAT_BASE_URL: 'http://127.0.0.1:4000/v3/' }).baseUrl).toBe(
      'http://127.0.0.1:4000/v3',
    );
    expect(cometChat({ COMETCHAT_BASE_URL: 'https://sim.test//' }).baseUrl).toBe('https://sim.test');
    expect(cometChat({ COMETCHAT_BASE_URL: '  https://sim.test/api  ' }).baseUrl).toBe(
      'https://sim.test/api',
    );
  });

  it('falls back to the default base URL when COMETCHAT_BASE_URL is blank', () => {
    expect(cometChat({ COMETCHAT_BASE_URL: ' ' }).baseUrl).toBe(
      'https://31780434a95d45.call-us.cometchat.io/v3',
    );
  });

  it.each([
    'not a url',
    '/v3',
    'ftp://sim.test/v3',
    'file:///etc/passwd',
    'https://user:pass@sim.test/v3',
    'https://user@sim.test/v3',
    'https://sim.test/v3?key=value',
    'https://sim.test/v3?',
    'https://sim.test/v3#fragment',
  ])('rejects the base URL %j, naming the variable but not echoing it', (url) => {
    const error = configError(() => cometChat({ COMETCHAT_BASE_URL: url }));

    expect(error.message).toContain('COMETCHAT_BASE_URL');
    expect(error.message).not.toContain('pass');
    expect(error.message).not.toContain('key=value');
  });

  it('prefers the literal key over the parameter name when both are set', () => {
    const config = cometChat({ COMETCHAT_API_KEY_PARAMETER: '/cometchat/api-key' });

    expect(config.apiKey).toEqual({ value: 'literal-api-key' });
  });

  it('uses the parameter name when only it is set (or the literal key is blank)', () => {
    for (const literal of [undefined, '', '  ']) {
      const config = cometChat({
        COMETCHAT_API_KEY: literal,
        COMETCHAT_API_KEY_PARAMETER: '/cometchat/api-key',
      });

      expect(config.apiKey).toEqual({ parameterName: '/cometchat/api-key' });
    }
  });

  it('rejects a malformed parameter name, naming its variable', () => {
    const error = configError(() =>
      cometChat({ COMETCHAT_API_KEY: undefined, COMETCHAT_API_KEY_PARAMETER: 'not a name' }),
    );

    expect(error.message).toContain('COMETCHAT_API_KEY_PARAMETER');
  });

  it('never echoes the API key in an error', () => {
    const error = configError(() => cometChat({ COMETCHAT_REGION: 'mars', COMETCHAT_API_KEY: 'sekrit-key' }));

    expect(error.message).not.toContain('sekrit-key');
  });

  it('returns a frozen object, key source included', () => {
    const config = cometChat();

    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.apiKey)).toBe(true);
    expect(
      Object.isFrozen(cometChat({ COMETCHAT_API_KEY: '', COMETCHAT_API_KEY_PARAMETER: '/p' }).apiKey),
    ).toBe(true);
  });

  it('throws nothing but ConfigError for arbitrary string values', () => {
    const names = [
      'COMETCHAT_APP_ID',
      'COMETCHAT_REGION',
      'COMETCHAT_BASE_URL',
      'COMETCHAT_API_KEY',
      'COMETCHAT_API_KEY_PARAMETER',
    ];
    const value = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.constantFrom('us', 'EU', 'in', '31780434a95d45', 'http://[::1]:80/', 'https://u:p@h/'),
    );
    const env = fc.record(Object.fromEntries(names.map((name) => [name, value])), { requiredKeys: [] });

    fc.assert(
      fc.property(env, (generated) => {
        try {
          readCometChatConfig(generated);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
        }
      }),
    );
  });
});

describe('readStoreConfig', () => {
  it('reads the table name, frozen', () => {
    const config = readStoreConfig({ CALLS_TABLE: 'cometchat-calls-dev' });

    expect(config).toEqual({ tableName: 'cometchat-calls-dev' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([undefined, '', ' '])('names CALLS_TABLE when it is %j', (value) => {
    const error = configError(() => readStoreConfig({ CALLS_TABLE: value }));

    expect(error.message).toContain('CALLS_TABLE');
  });

  it.each(['ab', 'has space', 'calls/table', 'x'.repeat(256)])('rejects the table name %j', (name) => {
    const error = configError(() => readStoreConfig({ CALLS_TABLE: name }));

    expect(error.message).toContain('CALLS_TABLE');
  });

  it('accepts the shortest and longest table names DynamoDB allows', () => {
    expect(readStoreConfig({ CALLS_TABLE: 'a_b' }).tableName).toBe('a_b');
    expect(readStoreConfig({ CALLS_TABLE: 'x'.repeat(255) }).tableName).toHaveLength(255);
  });
});

describe('readRecordingsConfig', () => {
  it('reads the bucket with the defaults for everything else', () => {
    const config = recordings();

    expect(config).toEqual({
      bucket: 'call-recordings',
      prefix: 'recordings/',
      allowedHosts: [...DEFAULT_RECORDING_ALLOWED_HOSTS],
      forcePathStyle: false,
    });
    expect(DEFAULT_RECORDING_ALLOWED_HOSTS).toEqual(['*.cometchat.io', '*.cometchat.com']);
  });

  it.each([undefined, '', ' '])('names RECORDINGS_BUCKET when it is %j', (value) => {
    const error = configError(() => recordings({ RECORDINGS_BUCKET: value }));

    expect(error.message).toContain('RECORDINGS_BUCKET');
  });

  it.each([
    'ab',
    'x'.repeat(64),
    'Upper-Case',
    'under_score',
    '-leading-dash',
    'trailing-dash-',
    '.leading-dot',
    'trailing-dot.',
    'two..dots',
    '192.168.5.4',
    'has space',
  ])('rejects the bucket name %j', (bucket) => {
    const error = configError(() => recordings({ RECORDINGS_BUCKET: bucket }));

    expect(error.message).toContain('RECORDINGS_BUCKET');
  });

  it.each(['abc', 'x'.repeat(63), 'my.bucket-1', '1bucket', 'bucket.192.168.5.4'])(
    'accepts the bucket name %j',
    (bucket) => {
      expect(recordings({ RECORDINGS_BUCKET: bucket }).bucket).toBe(bucket);
    },
  );

  it('keeps a prefix that ends with "/" and adds the slash to one that does not', () => {
    expect(recordings({ RECORDINGS_PREFIX: 'archive/calls/' }).prefix).toBe('archive/calls/');
    expect(recordings({ RECORDINGS_PREFIX: 'archive' }).prefix).toBe('archive/');
  });

  it('allows an empty prefix (objects at the bucket root)', () => {
    expect(recordings({ RECORDINGS_PREFIX: '' }).prefix).toBe('');
  });

  it.each(['/recordings/', '/', 'rec\nordings/', 'tab\there/', 'del\u007f/', 'c1\u0085/'])(
    'rejects the prefix %j',
    (prefix) => {
      const error = configError(() => recordings({ RECORDINGS_PREFIX: prefix }));

      expect(error.message).toContain('RECORDINGS_PREFIX');
    },
  );

  it('parses RECORDING_ALLOWED_HOSTS: trimmed, lower-cased, empty entries dropped', () => {
    const config = recordings({
      RECORDING_ALLOWED_HOSTS:
        ' Recordings.Example.com , *.CDN.example.net,,127.0.0.1:9000,[::1]:8443,[::1],localhost',
    });

    expect(config.allowedHosts).toEqual([
      'recordings.example.com',
      '*.cdn.example.net',
      '127.0.0.1:9000',
      '[::1]:8443',
      '[::1]',
      'localhost',
    ]);
  });

  it('uses CometChat domains when RECORDING_ALLOWED_HOSTS is blank', () => {
    expect(recordings({ RECORDING_ALLOWED_HOSTS: '  ' }).allowedHosts).toEqual([
      ...DEFAULT_RECORDING_ALLOWED_HOSTS,
    ]);
  });

  it.each([
    'https://recordings.example.com',
    'recordings.example.com/path',
    'user@recordings.example.com',
    '*',
    '*.',
    '*.*.example.com',
    'example.*',
    'has space.com',
    'host:',
    'host:123456',
    'host:70000',
    '*.127.0.0.1',
    '*.10.0.0.1:443',
    '[::1',
    'ok.example.com,bad/entry',
    ',',
    ' , ,',
  ])('rejects RECORDING_ALLOWED_HOSTS=%j, naming the variable', (hosts) => {
    const error = configError(() => recordings({ RECORDING_ALLOWED_HOSTS: hosts }));

    expect(error.message).toContain('RECORDING_ALLOWED_HOSTS');
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    [' true ', true],
    ['false', false],
    ['False', false],
    ['', false],
  ])('reads S3_FORCE_PATH_STYLE=%j as %s', (value, expected) => {
    expect(recordings({ S3_FORCE_PATH_STYLE: value }).forcePathStyle).toBe(expected);
  });

  it.each(['1', 'yes', 'on', 'truthy'])('rejects S3_FORCE_PATH_STYLE=%j', (value) => {
    const error = configError(() => recordings({ S3_FORCE_PATH_STYLE: value }));

    expect(error.message).toContain('S3_FORCE_PATH_STYLE');
  });

  it('returns a frozen object with a frozen host list', () => {
    const config = recordings({ RECORDING_ALLOWED_HOSTS: 'a.example.com' });

    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.allowedHosts)).toBe(true);
    expect(Object.isFrozen(recordings().allowedHosts)).toBe(true);
  });

  it('throws nothing but ConfigError for arbitrary string values', () => {
    const names = [
      'RECORDINGS_BUCKET',
      'RECORDINGS_PREFIX',
      'RECORDING_ALLOWED_HOSTS',
      'S3_FORCE_PATH_STYLE',
    ];
    const value = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.domain(),
      fc
        .array(fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6(), fc.string()), { maxLength: 4 })
        .map((hosts) => hosts.join(',')),
      fc.constantFrom('true', 'false', 'recordings/', '', '/'),
    );
    const env = fc.record(Object.fromEntries(names.map((name) => [name, value])), { requiredKeys: [] });

    fc.assert(
      fc.property(env, (generated) => {
        try {
          readRecordingsConfig(generated);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
        }
      }),
    );
  });
});
