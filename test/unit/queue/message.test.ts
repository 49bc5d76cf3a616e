import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deduplicationIdFor,
  messageGroupIdFor,
  parseEnrichmentMessage,
  toQueueMessage,
} from '../../../lib/queue/message.ts';
import { thrownBy } from '../../support/errors.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('toQueueMessage', () => {
  it('groups by session id and deduplicates by the SHA-256 of the event key', () => {
    const message = { sessionId: 'v1.us.abc', trigger: 'call_ended', eventKey: 'wh:call_ended:v1.us.abc:5' };

    expect(toQueueMessage(message)).toEqual({
      MessageBody: '{"sessionId":"v1.us.abc","trigger":"call_ended","eventKey":"wh:call_ended:v1.us.abc:5"}',
      MessageGroupId: 'v1.us.abc',
      MessageDeduplicationId: sha256('wh:call_ended:v1.us.abc:5'),
    });
  });

  it('puts only the three documented fields in the body', () => {
    const extra = { sessionId: 's', trigger: 't', eventKey: 'k', secret: 'x' } as never;

    expect(JSON.parse(toQueueMessage(extra).MessageBody)).toEqual({
      sessionId: 's',
      trigger: 't',
      eventKey: 'k',
    });
  });
});

describe('messageGroupIdFor', () => {
  it('uses the session id when SQS allows it as a group id', () => {
    expect(messageGroupIdFor('v1.us.2f6c81d0a9e4b357.1696934199a1b2')).toBe(
      'v1.us.2f6c81d0a9e4b357.1696934199a1b2',
    );
  });

  it.each([
    ['over 128 characters', 'v'.repeat(129)],
    ['with a space', 'v1 us'],
    ['non-ASCII', 'v1.us.zoë'],
  ])('hashes a session id %s', (_label, sessionId) => {
    expect(messageGroupIdFor(sessionId)).toBe(sha256(sessionId));
  });

  it('always yields a valid SQS group id', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 256 }), (sessionId) => {
        expect(messageGroupIdFor(sessionId)).toMatch(/^[\x21-\x7e]{1,128}$/);
      }),
    );
  });
});

describe('deduplicationIdFor', () => {
  it('is 64 hex characters, equal for equal keys and different for different ones', () => {
    expect(deduplicationIdFor('a')).toMatch(/^[0-9a-f]{64}$/);
    expect(deduplicationIdFor('a')).toBe(deduplicationIdFor('a'));
    expect(deduplicationIdFor('a')).not.toBe(deduplicationIdFor('b'));
  });
});

describe('parseEnrichmentMessage', () => {
  it('reads back what toQueueMessage wrote', () => {
    const message = { sessionId: 'v1.us.abc', trigger: 'call_ended', eventKey: 'k' };

    expect(parseEnrichmentMessage(toQueueMessage(message).MessageBody)).toEqual(message);
  });

  it('needs only a sessionId, as the contract says', () => {
    expect(parseEnrichmentMessage('{"sessionId":"v1.us.abc","trigger":7}')).toEqual({
      sessionId: 'v1.us.abc',
    });
  });

  it.each([
    ['not JSON', 'not json'],
    ['a JSON array', '[]'],
    ['without a sessionId', '{"trigger":"call_ended"}'],
    ['with an empty sessionId', '{"sessionId":""}'],
  ])('throws InvalidInputError for a body %s', (_label, body) => {
    expect(thrownBy(() => parseEnrichmentMessage(body)).name).toBe('InvalidInputError');
  });
});
