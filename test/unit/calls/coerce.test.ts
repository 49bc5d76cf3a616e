import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  clockToSeconds,
  quoteForMessage,
  sortedEntries,
  toBoolean,
  toIdentifier,
  toNumber,
  toUnixSeconds,
} from '../../../lib/calls/coerce.ts';

describe('toNumber', () => {
  it.each([
    [12, 12],
    ['21.433000', 21.433],
    [' 1696937627 ', 1696937627],
    ['1e3', 1000],
    ['.5', 0.5],
    [-0, 0],
  ])('reads %j as %j', (value, expected) => {
    expect(Object.is(toNumber(value), expected)).toBe(true);
  });

  it.each([
    [''],
    ['0x10'],
    ['Infinity'],
    ['12abc'],
    [true],
    [null],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
  ])('leaves %j absent', (value) => {
    expect(toNumber(value)).toBeUndefined();
  });
});

describe('toUnixSeconds', () => {
  it('keeps seconds as they are', () => {
    expect(toUnixSeconds(1715845999)).toBe(1715845999);
  });

  it('converts milliseconds to whole seconds', () => {
    expect(toUnixSeconds(1715845999789)).toBe(1715845999);
  });

  it('reads a numeric string', () => {
    expect(toUnixSeconds('1696937627')).toBe(1696937627);
  });

  it.each([[-1], [1e16], ['soon']])('leaves %j absent', (value) => {
    expect(toUnixSeconds(value)).toBeUndefined();
  });
});

describe('clockToSeconds', () => {
  it.each([
    ['00:05:12', 312],
    ['01:00:00', 3600],
    ['05:12', 312],
    ['100:00:01', 360001],
    ['00:00:01.5', 1.5],
  ])('reads %s as %d seconds', (value, expected) => {
    expect(clockToSeconds(value)).toBe(expected);
  });

  it.each([['5'], ['a:b:c'], ['1:2:3:4'], [''], [312]])('leaves %j absent', (value) => {
    expect(clockToSeconds(value)).toBeUndefined();
  });
});

describe('toBoolean', () => {
  it.each([
    [true, true],
    [false, false],
    ['true', true],
    ['FALSE', false],
    [1, true],
    [0, false],
  ])('reads %j as %j', (value, expected) => {
    expect(toBoolean(value)).toBe(expected);
  });

  it.each([['yes'], [2], [null], ['']])('leaves %j absent', (value) => {
    expect(toBoolean(value)).toBeUndefined();
  });
});

describe('toIdentifier', () => {
  it('keeps an ordinary uid as it is', () => {
    expect(toIdentifier('cometchat-uid-1')).toBe('cometchat-uid-1');
  });

  it('keeps a long or non-ASCII id whole (the store shortens it in keys)', () => {
    expect(toIdentifier('ü'.repeat(300))).toBe('ü'.repeat(300));
  });

  it.each([[''], ['  '], ['a\nb'], ['\ud800'], [7]])('leaves %j absent', (value) => {
    expect(toIdentifier(value)).toBeUndefined();
  });
});

describe('quoteForMessage', () => {
  it('escapes control and bidi characters instead of echoing them', () => {
    expect(quoteForMessage('a\nb\u202ec\u0085')).toBe('"a\\u000ab\\u202ec\\u0085"');
  });

  it('shows only the start of a long value', () => {
    expect(quoteForMessage('abcdef', 3)).toBe('"abc"…');
  });
});

describe('sortedEntries', () => {
  it('lists own enumerable pairs in code-unit order of their keys', () => {
    expect(sortedEntries({ b: 1, a: 2, B: 3 })).toEqual([
      ['B', 3],
      ['a', 2],
      ['b', 1],
    ]);
  });
});

describe('canonicalJson', () => {
  it('writes the same text whatever the order of keys, at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: 2 } })).toBe(
      canonicalJson({ a: { c: 2, d: [1, { e: 2, f: 1 }] }, b: 1 }),
    );
  });

  it('keeps the order of arrays and leaves out undefined properties', () => {
    expect(canonicalJson({ z: [2, 1], a: undefined, m: null })).toBe('{"m":null,"z":[2,1]}');
  });
});
