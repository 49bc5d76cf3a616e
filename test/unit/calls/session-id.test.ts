import { describe, expect, it } from 'vitest';
import { parseSessionId, sessionIdFromEvent } from '../../../lib/calls/session-id.ts';
import { InvalidInputError } from '../../../lib/errors.ts';
import { thrownBy } from '../../support/errors.ts';

const VALID = 'v1.us.31780434a95d45.16923681138d75114d60d1345a22e4cc612263fb26c0b5cf92';

describe('parseSessionId', () => {
  it('returns a CometChat session id unchanged', () => {
    expect(parseSessionId(VALID)).toBe(VALID);
  });

  it('accepts exactly 256 characters', () => {
    const id = 'a'.repeat(256);

    expect(parseSessionId(id)).toBe(id);
  });

  it('keeps surrounding spaces instead of trimming them', () => {
    expect(parseSessionId(' abc ')).toBe(' abc ');
  });

  it('rejects a missing value', () => {
    expect(thrownBy(() => parseSessionId(undefined), InvalidInputError).message).toMatch(/missing/);
  });

  it('rejects an empty string', () => {
    expect(thrownBy(() => parseSessionId(''), InvalidInputError).message).toMatch(/empty/);
  });

  it.each([
    [42, 'a number'],
    [null, 'null'],
    [{ id: 'x' }, 'an object'],
    [['x'], 'an array'],
    [true, 'a boolean'],
  ])('rejects %j, which is not a string', (value, described) => {
    const error = thrownBy(() => parseSessionId(value), InvalidInputError);

    expect(error.message).toContain('must be a string');
    expect(error.message).toContain(described);
  });

  it('rejects 257 characters without echoing the whole value', () => {
    const id = `${'b'.repeat(250)}TAIL42Z`;

    const error = thrownBy(() => parseSessionId(id), InvalidInputError);

    expect(error.message).toMatch(/257 characters/);
    expect(error.message).not.toContain('TAIL42Z');
    expect(error.message.length).toBeLessThan(200);
  });

  it.each([
    ['a newline', 'abc\ndef', 'U+000A', 3],
    ['a NUL', '\u0000abc', 'U+0000', 0],
    ['DEL', 'ab\u007f', 'U+007F', 2],
    ['a C1 control', 'a\u0085b', 'U+0085', 1],
    ['a tab', '\tabc', 'U+0009', 0],
  ])('rejects %s, naming it without echoing it', (_label, id, code, index) => {
    const error = thrownBy(() => parseSessionId(id), InvalidInputError);

    expect(error.message).toContain(code);
    expect(error.message).toContain(`index ${index}`);
    expect(error.message).not.toContain(id.charAt(index));
  });

  it('rejects a value that is only whitespace', () => {
    expect(thrownBy(() => parseSessionId('   '), InvalidInputError).message).toMatch(/whitespace/);
  });

  it('rejects only-whitespace made of Unicode spaces', () => {
    expect(thrownBy(() => parseSessionId('\u00a0\u2003'), InvalidInputError).message).toMatch(/whitespace/);
  });

  it.each(['.', '..'])('rejects %j, which a URL would resolve to another endpoint', (id) => {
    expect(thrownBy(() => parseSessionId(id), InvalidInputError).message).toMatch(/another endpoint/);
  });

  it.each(['...', '.a', 'a/../b', '%2e', '%2E%2E', './.'])(
    'accepts %j, which is no dot segment once encoded',
    (id) => {
      expect(parseSessionId(id)).toBe(id);
    },
  );

  it('rejects an unpaired surrogate, which could not go into a URL', () => {
    expect(thrownBy(() => parseSessionId('abc\ud800'), InvalidInputError).message).toMatch(/surrogate/);
  });

  it('accepts a well-formed astral character', () => {
    expect(parseSessionId('call-\u{1f4de}')).toBe('call-\u{1f4de}');
  });
});

describe('sessionIdFromEvent', () => {
  it('reads sessionId off an event with other fields', () => {
    expect(sessionIdFromEvent({ sessionId: VALID, attempt: 2 })).toBe(VALID);
  });

  it.each([
    ['null', null],
    ['a string', VALID],
    ['undefined', undefined],
    ['an array', [VALID]],
  ])('rejects %s as the event', (_label, event) => {
    expect(() => sessionIdFromEvent(event)).toThrow(InvalidInputError);
  });

  it('rejects an event without sessionId', () => {
    expect(thrownBy(() => sessionIdFromEvent({ session_id: VALID }), InvalidInputError).message).toMatch(
      /missing/,
    );
  });

  it('ignores a sessionId inherited through the prototype', () => {
    const event = Object.create({ sessionId: VALID }) as object;

    expect(() => sessionIdFromEvent(event)).toThrow(InvalidInputError);
  });

  it('ignores a JSON "__proto__" key', () => {
    const event: unknown = JSON.parse(`{"__proto__": {"sessionId": "${VALID}"}}`);

    expect(() => sessionIdFromEvent(event)).toThrow(InvalidInputError);
  });

  it('passes on the validation error of a bad sessionId', () => {
    expect(thrownBy(() => sessionIdFromEvent({ sessionId: '' }), InvalidInputError).message).toMatch(/empty/);
  });
});
