import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CallItem } from '../../../lib/calls/types.ts';
import { InvalidCallDataError } from '../../../lib/errors.ts';
import {
  buildManifest,
  callItemFromManifest,
  stripSignedQueries,
  withoutSignedQueries,
} from '../../../lib/manifest/manifest.ts';

const CALL: CallItem = {
  pk: 'CALL#s1',
  sk: 'CALL',
  entity: 'call',
  sessionId: 's1',
  status: 'ended',
  initiatedAt: 1_709_200_800,
  hasRecording: true,
  participants: [{ uid: 'u1', name: 'One' }],
  recordings: [
    {
      rid: 'r1',
      sourceUrl: 'https://r.cometchat.io/r1.mp4',
      bucket: 'b',
      key: 'recordings/s1/r1.mp4',
      bytes: 10,
      sha256: 'a'.repeat(64),
      copiedAt: '2024-02-29T10:00:00.000Z',
    },
  ],
  transcripts: [],
  manifestKey: 'recordings/s1/call.json',
  gsi2pk: 'DAY#2024-02-29',
  gsi2sk: '2024-02-29T10:00:00.000Z#s1',
  enrichedAt: '2024-02-29T10:10:00.000Z',
  revision: 4,
  publishedRevision: 3,
};

describe('withoutSignedQueries', () => {
  it.each([
    ['https://r.cometchat.io/a.mp4?Expires=1&Signature=x', 'https://r.cometchat.io/a.mp4'],
    ['see http://user:pw@h:8/p?q=1#f and https://x.io/#s', 'see http://h:8/p and https://x.io/'],
    ['no url here ?Signature=x', 'no url here ?Signature=x'],
  ])('cuts %s down to %s', (text, expected) => {
    expect(withoutSignedQueries(text)).toBe(expected);
  });

  it('leaves no query, fragment or credentials of any URL in any nested value', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        (json, url) => {
          const signed = `${url}${url.includes('?') ? '&' : '?'}Signature=SECRET`;
          const stripped = JSON.stringify(stripSignedQueries({ json, [signed]: [signed, { signed }] }));
          expect(stripped).not.toContain('SECRET');
        },
      ),
    );
  });
});

describe('buildManifest and callItemFromManifest', () => {
  it('keep the call without the table keys, and give back the same item marked published', () => {
    const manifest = buildManifest(CALL, { sessionId: 's1', link: 'https://h/x?Signature=s' });

    expect(manifest.manifestVersion).toBe(1);
    expect(manifest.call).not.toHaveProperty('pk');
    expect(manifest.call).not.toHaveProperty('gsi2pk');
    expect(manifest.call).not.toHaveProperty('publishedRevision');
    expect(manifest.response).toEqual({ sessionId: 's1', link: 'https://h/x' });
    expect(callItemFromManifest(JSON.parse(JSON.stringify(manifest)), 'm')).toEqual({
      ...CALL,
      publishedRevision: 4,
    });
  });

  it('files a call with only startedAt under its day, as normalisation does', () => {
    const { initiatedAt: _initiatedAt, ...rest } = CALL;
    const startedOnly: CallItem = { ...rest, startedAt: 1_709_200_800 };

    const rebuilt = callItemFromManifest(JSON.parse(JSON.stringify(buildManifest(startedOnly, {}))), 'm');

    expect(rebuilt).toMatchObject({ gsi2pk: 'DAY#2024-02-29', gsi2sk: '2024-02-29T10:00:00.000Z#s1' });
  });

  it.each([
    ['another version', { manifestVersion: 2, call: {} }],
    ['no call', { manifestVersion: 1 }],
    ['an unknown status', { manifestVersion: 1, call: { ...CALL, status: 'weird' } }],
    ['no recordings list', { manifestVersion: 1, call: { ...CALL, recordings: undefined } }],
  ])('refuse %s', (_, manifest) => {
    expect(() => callItemFromManifest(manifest, 's3://b/k')).toThrow(InvalidCallDataError);
  });
});
