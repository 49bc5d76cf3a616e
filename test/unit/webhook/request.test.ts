import { describe, expect, it } from 'vitest';
import { header, MAX_BODY_BYTES, readBody } from '../../../lib/webhook/request.ts';
import { thrownBy } from '../../support/errors.ts';

describe('header', () => {
  it('finds a header whatever the case of its name', () => {
    expect(header({ authorization: 'a' }, 'authorization')).toBe('a');
    expect(header({ Authorization: 'b' }, 'authorization')).toBe('b');
    expect(header(undefined, 'authorization')).toBeUndefined();
    expect(header({}, 'authorization')).toBeUndefined();
  });
});

describe('readBody', () => {
  it('returns a text body as it is', () => {
    expect(readBody({ body: '{"a":1}' })).toBe('{"a":1}');
  });

  it('decodes a base64 body as UTF-8', () => {
    const body = Buffer.from('{"name":"Zoë"}', 'utf8').toString('base64');

    expect(readBody({ body, isBase64Encoded: true })).toBe('{"name":"Zoë"}');
  });

  it('treats a missing body as empty', () => {
    expect(readBody({})).toBe('');
  });

  it('accepts a body of exactly the limit', () => {
    expect(readBody({ body: 'x'.repeat(MAX_BODY_BYTES) })).toHaveLength(MAX_BODY_BYTES);
  });

  it.each([
    ['a text body one byte over', { body: 'x'.repeat(MAX_BODY_BYTES + 1) }],
    ['a text body over the limit only in UTF-8 bytes', { body: 'é'.repeat(MAX_BODY_BYTES / 2 + 1) }],
    [
      'a base64 body whose decoded bytes are over',
      { body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20).toString('base64'), isBase64Encoded: true },
    ],
    [
      'a Content-Length over the limit',
      { body: '{}', headers: { 'content-length': String(MAX_BODY_BYTES + 1) } },
    ],
  ])('throws PayloadTooLargeError for %s', (_label, request) => {
    expect(thrownBy(() => readBody(request)).name).toBe('PayloadTooLargeError');
  });

  it('throws MalformedWebhookError for base64 bytes that are not UTF-8', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64');

    expect(thrownBy(() => readBody({ body, isBase64Encoded: true })).name).toBe('MalformedWebhookError');
  });
});
