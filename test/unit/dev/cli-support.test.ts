/** The pieces `npm start` and `npm run calls` share. */
import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  hasCometChatCredentials,
  pickCometChatEnv,
  renderTable,
  shorten,
  startOfUtcDay,
} from '../../../dev/cli-support.ts';

const CREDENTIALS = { COMETCHAT_APP_ID: 'app', COMETCHAT_REGION: 'us', COMETCHAT_API_KEY: 'key' };

describe('renderTable', () => {
  it('pads every column to its widest cell and rules off the header', () => {
    const text = renderTable(
      ['sessionId', 'result'],
      [
        ['v1.us.a', 'ok'],
        ['v1.us.longer', 'CallNotFoundError: no such call'],
      ],
    );

    expect(text.split('\n')).toEqual([
      'sessionId     result',
      '------------  -------------------------------',
      'v1.us.a       ok',
      'v1.us.longer  CallNotFoundError: no such call',
    ]);
  });

  it('leaves no trailing spaces after the last cell of a row', () => {
    const text = renderTable(['a', 'b'], [['long cell', '']]);

    expect(text.split('\n')).toEqual(['a          b', '---------  -', 'long cell']);
  });
});

describe('startOfUtcDay', () => {
  it('is midnight UTC of the same day, whatever the time of day', () => {
    expect(startOfUtcDay(Date.UTC(2026, 10, 23, 23, 59, 59, 999))).toBe(Date.UTC(2026, 10, 23));
    expect(startOfUtcDay(Date.UTC(2026, 10, 23))).toBe(Date.UTC(2026, 10, 23));
  });
});

describe('hasCometChatCredentials', () => {
  it('needs the app id, the region and the API key, none of them empty', () => {
    expect(hasCometChatCredentials(CREDENTIALS)).toBe(true);
    expect(hasCometChatCredentials({ ...CREDENTIALS, COMETCHAT_REGION: '' })).toBe(false);
    expect(hasCometChatCredentials({ COMETCHAT_APP_ID: 'app', COMETCHAT_API_KEY: 'key' })).toBe(false);
  });
});

describe('pickCometChatEnv', () => {
  it('keeps the CometChat settings that are set, and nothing else', () => {
    const env = {
      ...CREDENTIALS,
      COMETCHAT_BASE_URL: 'http://127.0.0.1:1',
      RECORDING_ALLOWED_HOSTS: '',
      AWS_REGION: 'us-east-1',
    };

    expect(pickCometChatEnv(env)).toEqual({ ...CREDENTIALS, COMETCHAT_BASE_URL: 'http://127.0.0.1:1' });
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
  ])('writes %i bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('shorten', () => {
  it('keeps text that fits and cuts longer text to the limit, ending in an ellipsis', () => {
    expect(shorten('abc', 3)).toBe('abc');
    expect(shorten('abcd', 3)).toBe('ab…');
  });
});
