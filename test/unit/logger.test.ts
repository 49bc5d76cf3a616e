import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logger, redactingReplacer, redactText } from '../../lib/logger.ts';
import { captureOutput, type OutputCapture } from '../support/log-capture.ts';

describe('redactText', () => {
  it('strips the query string of an absolute URL', () => {
    expect(redactText('https://cdn.example.com/rec/1.mp4?Expires=1&Signature=abc&Key-Pair-Id=K')).toBe(
      'https://cdn.example.com/rec/1.mp4?[redacted]',
    );
  });

  it('strips the query string of every URL in the text, keeping the rest', () => {
    const text =
      'copied https://a.example.com/x.mp4?sig=one to s3://bucket/key, then http://127.0.0.1:9000/y?X-Amz-Signature=two failed';

    expect(redactText(text)).toBe(
      'copied https://a.example.com/x.mp4?[redacted] to s3://bucket/key, then http://127.0.0.1:9000/y?[redacted] failed',
    );
  });

  it('keeps a fragment but not the query before it', () => {
    expect(redactText('see https://h.example.com/p?token=secret#part-2 now')).toBe(
      'see https://h.example.com/p?[redacted]#part-2 now',
    );
  });

  it('strips the query of a URL in quotes, brackets or upper case', () => {
    expect(redactText('"https://h.example.com/p?s=1"')).toBe('"https://h.example.com/p?[redacted]"');
    expect(redactText('<HTTPS://H.EXAMPLE.COM/P?S=1>')).toBe('<HTTPS://H.EXAMPLE.COM/P?[redacted]>');
    expect(redactText('(https://h.example.com/p?s=1)')).not.toContain('s=1');
  });

  it('redacts credentials carried in a URL, keeping host and path', () => {
    expect(redactText('GET https://user:pa55w0rd@h.example.com/p?s=1 failed')).toBe(
      'GET https://[redacted]@h.example.com/p?[redacted] failed',
    );
    expect(redactText('proxy http://token@127.0.0.1:8080/x')).toBe(
      'proxy http://[redacted]@127.0.0.1:8080/x',
    );
    expect(redactText('https://u:p@ss@h.example.com/')).toBe('https://[redacted]@h.example.com/');
    expect(redactText('https://h.example.com/p/a@b?x=1')).toBe('https://h.example.com/p/a@b?[redacted]');
    expect(redactText('write to someone@example.com')).toBe('write to someone@example.com');
  });

  it('leaves plain text, URLs without a query, and question marks alone', () => {
    const texts = [
      'Why did it fail? Nobody knows.',
      'ratio 3:1? fine',
      'https://h.example.com/path/to/file.mp4',
      'https://h.example.com/p#frag?not-a-query',
      'key=value&other=thing',
      'what?a=b',
    ];

    for (const text of texts) expect(redactText(text)).toBe(text);
  });

  it('redacts Basic and Bearer credentials', () => {
    expect(redactText('Authorization: Basic dXNlcjpwYXNz')).toBe('Authorization: Basic [redacted]');
    expect(redactText('sent Bearer eyJhbGciOi.J9eyJzdWIi.Ok-_~+/= upstream')).toBe(
      'sent Bearer [redacted] upstream',
    );
  });

  it('redacts credentials whatever the case of the scheme (HTTP auth schemes are case-insensitive)', () => {
    expect(redactText('authorization: basic dXNlcjpwYXNz')).not.toContain('dXNlcjpwYXNz');
    expect(redactText('BEARER abc.def')).not.toContain('abc.def');
  });
});

describe('redactingReplacer', () => {
  const stringify = (value: unknown) => JSON.parse(JSON.stringify(value, redactingReplacer));

  it('redacts secret-named keys at any depth, whatever their case', () => {
    const keys = [
      'apikey',
      'APIKEY',
      'api_key',
      'api-key',
      'apiKey',
      'ApiKey',
      'x-api-key',
      'authorization',
      'Authorization',
      'password',
      'Password',
      'secret',
      'SECRET',
      'token',
      'Token',
      'signature',
      'Signature',
      'credentials',
    ];
    for (const key of keys) {
      const value = { top: { [key]: 's3cr3t' }, list: [{ nested: { [key]: { deep: 's3cr3t' } } }] };

      const out = stringify(value);

      expect(out, key).toEqual({ top: { [key]: '[redacted]' }, list: [{ nested: { [key]: '[redacted]' } }] });
    }
  });

  it('keeps keys that merely contain a secret-looking word', () => {
    const out = stringify({ tokenCount: 3, passwordPolicy: 'strict', sessionId: 'v1.us.x' });

    expect(out).toEqual({ tokenCount: 3, passwordPolicy: 'strict', sessionId: 'v1.us.x' });
  });

  it('redacts URL queries and credentials inside string values at any depth', () => {
    const out = stringify({ a: [{ url: 'https://h.example.com/p?Signature=s' }], b: 'Bearer tok' });

    expect(out).toEqual({ a: [{ url: 'https://h.example.com/p?[redacted]' }], b: 'Bearer [redacted]' });
  });

  it('serialises bigints as strings', () => {
    expect(stringify({ n: 12345678901234567890n })).toEqual({ n: '12345678901234567890' });
  });
});

describe('logger', () => {
  let output: OutputCapture;

  beforeEach(() => {
    output = captureOutput();
  });

  afterEach(() => {
    output.stop();
  });

  /** The JSON log lines written since the test began (each must parse). */
  function logLines(): Record<string, unknown>[] {
    return output.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('writes one JSON line without the credentials or signed query, keeping host and path', () => {
    logger.info('x', {
      headers: { Authorization: 'Basic abc', apikey: 'k' },
      url: 'https://h/p?Signature=s',
    });

    const lines = logLines();
    expect(lines).toHaveLength(1);
    const [entry] = lines;
    expect(entry).toMatchObject({
      level: 'INFO',
      message: 'x',
      headers: { Authorization: '[redacted]', apikey: '[redacted]' },
      url: 'https://h/p?[redacted]',
    });
    const text = output.text();
    expect(text).not.toContain('Basic abc');
    expect(text).not.toContain('abc');
    expect(text).not.toContain('Signature=s');
    expect(text).toContain('https://h/p');
  });

  it('strips the signed query from an error message and stack it logs', () => {
    logger.error('e', { error: new Error('failed fetching https://h/p?Expires=1&Signature=zzz') });

    const lines = logLines();
    expect(lines).toHaveLength(1);
    const [entry] = lines;
    expect(entry).toMatchObject({
      level: 'ERROR',
      message: 'e',
      error: { name: 'Error', message: 'failed fetching https://h/p?[redacted]' },
    });
    const error = entry?.error as { message: string; stack: string };
    expect(error.message).not.toContain('zzz');
    expect(error.stack).not.toContain('zzz');
    expect(error.stack).toContain('https://h/p?[redacted]');
    const text = output.text();
    expect(text).not.toContain('Signature=zzz');
    expect(text).not.toContain('Expires=1');
    expect(text).toContain('https://h/p');
  });

  it('redacts secrets in an error cause and in extra keys of a logged object', () => {
    const cause = new Error('GET https://h/rec.mp4?X-Amz-Signature=deadbeef answered 403');
    logger.warn('w', {
      error: new Error('download failed', { cause }),
      request: { token: 'tok-123', nested: [{ password: 'pw-456' }] },
    });

    const text = output.text();
    for (const secret of ['deadbeef', 'tok-123', 'pw-456']) expect(text).not.toContain(secret);
    expect(text).toContain('https://h/rec.mp4?[redacted]');
    expect(logLines()).toHaveLength(1);
  });
});
