import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readArchiveKeyTemplate } from '../../../lib/config.ts';
import { InvalidCallDataError, InvalidInputError } from '../../../lib/errors.ts';
import {
  callFolders,
  folderOfManifestKey,
  MAX_OBJECT_KEY_BYTES,
  manifestKeyIn,
  recordingExtension,
  recordingKeyIn,
  recordingObjectKey,
  transcriptKeyIn,
} from '../../../lib/recordings/object-key.ts';

describe('recordingExtension', () => {
  it.each([
    ['https://r.cometchat.io/a/b/rec.mp4?Signature=x', 'mp4'],
    ['https://r.cometchat.io/rec.WEBM', 'webm'],
    ['https://r.cometchat.io/rec.final.m4a#t=10', 'm4a'],
    ['https://r.cometchat.io/rec.opus', 'opus'],
    ['https://r.cometchat.io/rec.mov', 'mov'],
    ['https://r.cometchat.io/rec.exe', 'mp4'],
    ['https://r.cometchat.io/rec', 'mp4'],
    ['https://r.cometchat.io/dir.webm/rec', 'mp4'],
    ['https://r.cometchat.io/download?file=rec.webm', 'mp4'],
    ['not a url', 'mp4'],
  ])('reads %s as %s', (url, expected) => {
    // Act
    const ext = recordingExtension(url);

    // Assert
    expect(ext).toBe(expected);
  });
});

describe('recordingObjectKey', () => {
  it('places the recording under the prefix and the session', () => {
    // Act
    const key = recordingObjectKey('recordings/', 'v1.us.123abc.1692368113', 'rid_42', 'webm');

    // Assert
    expect(key).toBe('recordings/v1.us.123abc.1692368113/rid_42.webm');
  });

  it.each([
    ['a parent-folder session id', '..', 'r', 'p/%2E%2E/r.mp4'],
    ['a current-folder session id', '.', 'r', 'p/%2E/r.mp4'],
    ['slashes in the rid', 's', '../../x', 'p/s/..%2F..%2Fx.mp4'],
    ['control characters', 's\n', 'r\u0000', 'p/s%0A/r%00.mp4'],
    ['non-ASCII characters', 'sé', 'ünï', 'p/s%C3%A9/%C3%BCn%C3%AF.mp4'],
    ['a slash in the rid', 's', 'a/b', 'p/s/a%2Fb.mp4'],
    ['a tilde, which marks shortened ids', 's', 'a~b', 'p/s/a%7Eb.mp4'],
    ['a rid of 129 characters, whole', 's', 'r'.repeat(129), `p/s/${'r'.repeat(129)}.mp4`],
  ])('encodes %s', (_what, sessionId, rid, expected) => {
    // Act
    const key = recordingObjectKey('p/', sessionId, rid);

    // Assert
    expect(key).toBe(expected);
  });

  it('refuses an empty or malformed session id or rid', () => {
    // Act / Assert
    expect(() => recordingObjectKey('p/', '', 'r')).toThrow(InvalidInputError);
    expect(() => recordingObjectKey('p/', 's\uD800', 'r')).toThrow(InvalidInputError);
    expect(() => recordingObjectKey('p/', 's', '')).toThrow(InvalidCallDataError);
  });

  it('always yields <prefix><one segment>/<one segment>.<ext> with no dot-segments or control characters', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1 }).filter((s) => s.isWellFormed()),
        fc.string({ unit: 'binary', minLength: 1 }).filter((s) => s.isWellFormed()),
        (sessionId, rid) => {
          // Act
          const key = recordingObjectKey('recordings/', sessionId, rid);

          // Assert
          const segments = key.slice('recordings/'.length).split('/');
          expect(segments).toHaveLength(2);
          expect(segments).not.toContain('.');
          expect(segments).not.toContain('..');
          expect(key).toMatch(/^[A-Za-z0-9!'()*._~%/-]+$/);
          if (!segments[0]?.includes('~')) expect(decodeURIComponent(segments[0] ?? '')).toBe(sessionId);
          expect(key.endsWith('.mp4')).toBe(true);
        },
      ),
    );
  });

  it('shortens a long id to a readable start and a hash of the whole id, deterministically', () => {
    const long = '#'.repeat(256);
    const key = recordingObjectKey('p/', 's', long);
    const segment = key.slice('p/s/'.length, -'.mp4'.length);

    expect(segment).toMatch(/^(%23)+~[0-9a-f]{32}$/);
    expect(Buffer.byteLength(segment)).toBeLessThanOrEqual(200);
    expect(recordingObjectKey('p/', 's', long)).toBe(key);
    expect(recordingObjectKey('p/', 's', `${long}#`)).not.toBe(key);
  });

  it('keeps every key within S3 limit, whatever the ids hold', () => {
    const sessionId = '\u{1F600}'.repeat(128);
    const rid = 'ü'.repeat(1000);

    const key = recordingObjectKey('recordings/', sessionId, rid);

    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    expect(key).toMatch(/^[A-Za-z0-9!'()*._~%/-]+$/);
  });

  it('refuses, naming the limit, a prefix that leaves no room for the ids', () => {
    expect(() => recordingObjectKey('p'.repeat(900), 's'.repeat(100), 'r'.repeat(100))).toThrow(
      /1024-byte key limit/,
    );
  });
});

describe('callFolders', () => {
  // 2024-02-29T23:59:59Z: the UTC day, not the local one, and a leap day.
  const LEAP = 1_709_251_199;

  it('is <prefix><sessionId>/ without a template', () => {
    const folderOf = callFolders({ prefix: 'recordings/', appId: 'app' });

    expect(folderOf({ sessionId: 'v1.us.a/b', initiatedAt: LEAP })).toBe('recordings/v1.us.a%2Fb/');
  });

  it('fills the date parts from the UTC day the call was initiated, and the app id', () => {
    const folderOf = callFolders({
      prefix: 'recordings/',
      template: '{appId}/{yyyy}/{mm}/day={dd}/{sessionId}',
      appId: 'app-1',
    });

    expect(folderOf({ sessionId: 's', initiatedAt: LEAP })).toBe('recordings/app-1/2024/02/day=29/s/');
    expect(folderOf({ sessionId: 's', initiatedAt: 0 })).toBe('recordings/app-1/1970/01/day=01/s/');
  });

  it('refuses a call without initiatedAt when the template needs its day', () => {
    const folderOf = callFolders({ prefix: 'r/', template: '{yyyy}/{sessionId}', appId: 'a' });

    expect(() => folderOf({ sessionId: 's' })).toThrow(InvalidCallDataError);
    expect(callFolders({ prefix: 'r/', template: 'x/{sessionId}', appId: 'a' })({ sessionId: 's' })).toBe(
      'r/x/s/',
    );
  });

  it('keeps every key within 1,024 bytes for any template the config accepts, whatever the ids', () => {
    const prefix = 'p'.repeat(400);
    const template = readArchiveKeyTemplate({
      RECORDINGS_PREFIX: prefix,
      ARCHIVE_KEY_TEMPLATE: `${'t'.repeat(100)}/{appId}/{yyyy}/{mm}/{dd}/{sessionId}`,
    });
    const folderOf = callFolders({ prefix, template, appId: 'a'.repeat(63) });
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }), (id) => {
        const folder = folderOf({ sessionId: id, initiatedAt: LEAP });
        for (const key of [
          recordingKeyIn(folder, id, 'webm'),
          transcriptKeyIn(folder, id, 'json'),
          manifestKeyIn(folder),
        ]) {
          expect(Buffer.byteLength(key)).toBeLessThanOrEqual(MAX_OBJECT_KEY_BYTES);
          expect(key.startsWith(prefix)).toBe(true);
        }
      }),
    );
  });

  it('names transcripts and the manifest inside the folder, and finds the folder again', () => {
    expect(transcriptKeyIn('r/s/', 't/1', 'json')).toBe('r/s/transcripts/t%2F1.json');
    expect(manifestKeyIn('r/s/')).toBe('r/s/call.json');
    expect(folderOfManifestKey('r/2024/s/call.json')).toBe('r/2024/s/');
    expect(folderOfManifestKey('r/s/other.json')).toBeUndefined();
  });
});
