/**
 * Where a call's files live in S3: a folder per call, `<prefix><sessionId>/` unless
 * ARCHIVE_KEY_TEMPLATE places it elsewhere under the prefix, holding `<rid>.<ext>` recordings,
 * `transcripts/<tid>.<ext>` and the manifest `call.json`. A key is decided before anything is
 * downloaded (from the URL alone), so a re-run can find (and skip) an earlier copy.
 */
import { createHash } from 'node:crypto';
import { InvalidCallDataError, InvalidInputError } from '../errors.ts';

/** The media file extensions a key may end in; anything else is stored as `mp4`. */
export const RECORDING_EXTENSIONS = [
  'mp4',
  'm4a',
  'webm',
  'mkv',
  'mp3',
  'ogg',
  'opus',
  'wav',
  'aac',
  'mov',
] as const;
export type RecordingExtension = (typeof RECORDING_EXTENSIONS)[number];

/** Default extension: CometChat's recordings are presumed mp4 (H.264/OPUS). */
export const DEFAULT_RECORDING_EXTENSION: RecordingExtension = 'mp4';

/** The content type to store when the recording host does not send a usable one. */
export const CONTENT_TYPE_BY_EXTENSION = {
  mp4: 'video/mp4',
  m4a: 'audio/mp4',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  wav: 'audio/wav',
  aac: 'audio/aac',
  mov: 'video/quicktime',
} as const satisfies Record<RecordingExtension, string>;

function isRecordingExtension(value: string): value is RecordingExtension {
  return (RECORDING_EXTENSIONS as readonly string[]).includes(value);
}

/** The extension of the URL path's last segment when it is a known media extension, else `mp4`. */
export function recordingExtension(url: string | URL): RecordingExtension {
  let pathname: string;
  try {
    pathname = (typeof url === 'string' ? new URL(url) : url).pathname;
  } catch {
    return DEFAULT_RECORDING_EXTENSION;
  }
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(last)?.[1]?.toLowerCase();
  return ext !== undefined && isRecordingExtension(ext) ? ext : DEFAULT_RECORDING_EXTENSION;
}

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_OBJECT_KEY_BYTES = 1024;
/** Room for one id in a key: two ids, the prefix and the extension stay within S3's limit. */
const MAX_SEGMENT_BYTES = 200;
/** Hex digits of sha256 kept when an id is shortened: 128 bits, no collision in practice. */
const HASH_DIGITS = 32;

/**
 * One key segment, restricted to S3's "safe characters": percent-encoding takes care of `/`,
 * control and non-ASCII characters, and a lone `.` or `..` is spelled `%2E` so no tool that
 * treats keys as paths can climb out of the prefix. An id longer than 200 bytes encoded becomes
 * its readable start, `~` and a hash of the whole id; `~` is encoded everywhere else, so a
 * shortened segment never equals another id's.
 */
export function objectKeySegment(value: string): string {
  const encoded = encodeURIComponent(value).replaceAll('~', '%7E');
  if (encoded === '.' || encoded === '..') return encoded.replaceAll('.', '%2E');
  if (encoded.length <= MAX_SEGMENT_BYTES) return encoded;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, HASH_DIGITS);
  // Cut before an escape that would not fit whole.
  const start = encoded.slice(0, MAX_SEGMENT_BYTES - HASH_DIGITS - 1).replace(/%[0-9A-F]?$/, '');
  return `${start}~${hash}`;
}

function assertSessionId(sessionId: string): void {
  // Validated upstream; this guard keeps a slip there from shaping a key.
  if (sessionId === '' || !sessionId.isWellFormed())
    throw new InvalidInputError('the session id cannot name a key');
}

function withinLimit(key: string, what: string): string {
  if (Buffer.byteLength(key) > MAX_OBJECT_KEY_BYTES) {
    throw new InvalidCallDataError(
      `the ${what}'s object key would be over S3's ${MAX_OBJECT_KEY_BYTES}-byte key limit (prefix too long)`,
    );
  }
  return key;
}

/** What a call's folder is decided from. */
export interface FolderParts {
  sessionId: string;
  /** Unix seconds: `{yyyy}`, `{mm}`, `{dd}` are this instant's UTC day. */
  initiatedAt?: number;
}

const PLACEHOLDER = /\{(sessionId|yyyy|mm|dd|appId)\}/g;

/**
 * The folder key (`<prefix>…/`) of each call, from ARCHIVE_KEY_TEMPLATE as lib/config.ts
 * checked it (undefined: `<sessionId>`). A template with date parts needs the day the call was
 * initiated: a call without one is `InvalidCallDataError`, since guessing a day would put the
 * same call's files in two folders.
 */
export function callFolders(options: {
  prefix: string;
  template?: string | undefined;
  appId: string;
}): (call: FolderParts) => string {
  const { prefix, template, appId } = options;
  return ({ sessionId, initiatedAt }) => {
    assertSessionId(sessionId);
    if (template === undefined) return `${prefix}${objectKeySegment(sessionId)}/`;
    const day =
      initiatedAt !== undefined && Number.isFinite(initiatedAt)
        ? new Date(initiatedAt * 1000).toISOString()
        : undefined;
    const folder = template.replace(PLACEHOLDER, (_, name: string) => {
      if (name === 'sessionId') return objectKeySegment(sessionId);
      if (name === 'appId') return objectKeySegment(appId);
      if (day === undefined) {
        throw new InvalidCallDataError(
          `ARCHIVE_KEY_TEMPLATE places calls by the day they were initiated, and the call has no initiatedAt`,
        );
      }
      return name === 'yyyy' ? day.slice(0, 4) : name === 'mm' ? day.slice(5, 7) : day.slice(8, 10);
    });
    return withinLimit(`${prefix}${folder}/`, 'call folder');
  };
}

/** The default folder key of a call: `<prefix><sessionId>/`. */
export function defaultCallFolder(prefix: string, sessionId: string): string {
  assertSessionId(sessionId);
  return `${prefix}${objectKeySegment(sessionId)}/`;
}

/** `<folder><rid>.<ext>`, the rid encoded as one segment; `folder` is a call's folder key. */
export function recordingKeyIn(
  folder: string,
  rid: string,
  ext: RecordingExtension = DEFAULT_RECORDING_EXTENSION,
): string {
  if (rid === '' || !rid.isWellFormed())
    throw new InvalidCallDataError('the recording id (rid) cannot name a key');
  return withinLimit(`${folder}${objectKeySegment(rid)}.${ext}`, 'recording');
}

/** `<folder>transcripts/<tid>.<ext>`, the tid encoded as one segment. */
export function transcriptKeyIn(folder: string, tid: string, ext: string): string {
  if (tid === '' || !tid.isWellFormed())
    throw new InvalidCallDataError('the transcript id (tid) cannot name a key');
  return withinLimit(`${folder}transcripts/${objectKeySegment(tid)}.${ext}`, 'transcript');
}

/** The manifest's name in a call's folder. */
export const MANIFEST_NAME = 'call.json';

/** `<folder>call.json`. */
export function manifestKeyIn(folder: string): string {
  return withinLimit(`${folder}${MANIFEST_NAME}`, 'manifest');
}

/** The folder key a manifest key names (`<folder>call.json` → `<folder>`), or undefined. */
export function folderOfManifestKey(manifestKey: string): string | undefined {
  return manifestKey.endsWith(`/${MANIFEST_NAME}`) || manifestKey === MANIFEST_NAME
    ? manifestKey.slice(0, -MANIFEST_NAME.length)
    : undefined;
}

/** `<prefix><sessionId>/<rid>.<ext>`, with the session id and rid encoded as single segments. */
export function recordingObjectKey(
  prefix: string,
  sessionId: string,
  rid: string,
  ext: RecordingExtension = DEFAULT_RECORDING_EXTENSION,
): string {
  return recordingKeyIn(defaultCallFolder(prefix, sessionId), rid, ext);
}
