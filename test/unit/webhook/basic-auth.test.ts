import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  basicAuthCheck,
  credentialsMatch,
  parseBasicAuthorization,
} from '../../../lib/webhook/basic-auth.ts';
import { rejectionOf } from '../../support/errors.ts';

// Any UTF-16 code unit, lone surrogates and control characters included (fast-check's
// 'binary' unit costs seconds to set up).
const CODE_UNIT = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;

describe('parseBasicAuthorization', () => {
  it('decodes user:password from a well-formed header', () => {
    expect(parseBasicAuthorization(basic('cometchat:s3cretPass'))).toBe('cometchat:s3cretPass');
  });

  it('accepts the scheme in any case and several spaces after it', () => {
    const token = Buffer.from('u:p').toString('base64');

    expect(parseBasicAuthorization(`basic ${token}`)).toBe('u:p');
    expect(parseBasicAuthorization(`BASIC   ${token}`)).toBe('u:p');
  });

  it('keeps colons after the first one as part of the password', () => {
    expect(parseBasicAuthorization(basic('user:pa:ss'))).toBe('user:pa:ss');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', `Bearer ${Buffer.from('u:p').toString('base64')}`],
    ['no token', 'Basic '],
    ['a token without a colon', basic('userpassword')],
    ['an empty user', basic(':password')],
    ['base64 that does not round-trip', 'Basic dTpw*'],
    ['unpadded base64', 'Basic dTpwYQ'],
    ['two tokens joined by a comma', `${basic('u:p')},${basic('u:p')}`],
    ['bytes that are not UTF-8', `Basic ${Buffer.from([0x75, 0x3a, 0xff, 0xfe]).toString('base64')}`],
    ['an over-long header', basic(`u:${'p'.repeat(2000)}`)],
  ])('returns undefined for %s', (_label, header) => {
    expect(parseBasicAuthorization(header)).toBeUndefined();
  });

  it('never throws, whatever the header', () => {
    fc.assert(
      fc.property(fc.string({ unit: CODE_UNIT, maxLength: 300 }), (header) => {
        const parsed = parseBasicAuthorization(header);
        expect(parsed === undefined || parsed.indexOf(':') > 0).toBe(true);
      }),
    );
  });
  it('round-trips any credentials a client could encode, refusing only an empty user', () => {
    const text = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength });
    fc.assert(
      fc.property(text(20), text(40), (user, password) => {
        const credentials = `${user}:${password}`;
        // The user ends at the first colon, so only a credentials string starting with one has no user.
        const expected = credentials.startsWith(':') ? undefined : credentials;

        expect(parseBasicAuthorization(basic(credentials))).toBe(expected);
      }),
    );
  });
});

describe('credentialsMatch', () => {
  it('is true only for the identical string, whatever the lengths', () => {
    expect(credentialsMatch('user:pass', 'user:pass')).toBe(true);
    expect(credentialsMatch('user:pass', 'user:pasS')).toBe(false);
    expect(credentialsMatch('user:pass', 'user:pass-and-more')).toBe(false);
    expect(credentialsMatch('', 'user:pass')).toBe(false);
  });
});

describe('basicAuthCheck', () => {
  it('resolves for the expected credentials', async () => {
    const check = basicAuthCheck(async () => 'cometchat:Secret123');

    await expect(check(basic('cometchat:Secret123'))).resolves.toBeUndefined();
  });

  it.each([
    ['a wrong password', basic('cometchat:Secret124')],
    ['a wrong user', basic('comet:Secret123')],
    ['a malformed header', 'Basic !!!'],
    ['no header', undefined],
  ])('throws WebhookAuthError for %s, without quoting the header', async (_label, header) => {
    const check = basicAuthCheck(async () => 'cometchat:Secret123');

    const error = await rejectionOf(check(header));

    expect(error.name).toBe('WebhookAuthError');
    if (header) expect(error.message).not.toContain(header.slice(6));
    expect(error.message).not.toContain('Secret');
  });

  it('reads the expected credentials once', async () => {
    let reads = 0;
    const check = basicAuthCheck(async () => {
      reads++;
      return 'u:p';
    });

    await check(basic('u:p'));
    await rejectionOf(check(basic('u:x')));
    await check(basic('u:p'));

    expect(reads).toBe(1);
  });

  it('ignores whitespace around the stored credentials (a parameter written from a file)', async () => {
    const check = basicAuthCheck(async () => 'u:p\n');

    await expect(check(basic('u:p'))).resolves.toBeUndefined();
  });

  it('throws SecretError for stored credentials nobody could match', async () => {
    const check = basicAuthCheck(async () => 'no-colon-here');

    expect((await rejectionOf(check(basic('no-colon-here:x')))).name).toBe('SecretError');
  });

  it('passes on a failure to read the credentials instead of calling it an auth failure', async () => {
    const check = basicAuthCheck(async () => {
      throw new Error('SSM unreachable');
    });

    const error = await rejectionOf(check(basic('u:p')));

    expect(error.message).toBe('SSM unreachable');
  });
});
