/**
 * The manifest (`call.json`, contract "The manifest"): the archive's own record of one call,
 * enough to rebuild its call item from S3 alone. It holds the committed call item (participants,
 * recordings and transcripts with their keys, sizes and sha256), less the table's own keys, and
 * the raw Get Call response with every URL's query string, fragment and credentials removed.
 * Pure: no I/O.
 */
import { isObject } from '../calls/coerce.ts';
import { CALL_STATUSES, type CallItem, callPk, dayIndexKeys } from '../calls/types.ts';
import { InvalidCallDataError } from '../errors.ts';

/** The manifest format's version; a reader refuses any other. */
export const MANIFEST_VERSION = 1;

/** The call as the manifest holds it: the call item without the table's keys and stamps. */
export type ManifestCall = Omit<CallItem, 'pk' | 'sk' | 'entity' | 'gsi2pk' | 'gsi2sk' | 'publishedRevision'>;

/** `call.json`. */
export interface Manifest {
  manifestVersion: typeof MANIFEST_VERSION;
  call: ManifestCall;
  /** Get Call's `data` as received, every URL in it without query string, fragment or credentials. */
  response: unknown;
}

// A scheme, `//`, then up to whitespace, `"` or an angle bracket (none of which a URL holds
// unencoded): a URL inside any text. `'` may be part of a URL, so it does not end one.
const URL_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"<>]*/g;

/** `text` with each URL in it cut before its query string or fragment, and its credentials dropped. */
export function withoutSignedQueries(text: string): string {
  return text.replace(URL_IN_TEXT, (url) =>
    url.replace(/[?#].*$/s, '').replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, '$1'),
  );
}

/** A deep copy of `value` in which every string (values and names alike) lost its URLs' queries. */
export function stripSignedQueries(value: unknown): unknown {
  if (typeof value === 'string') return withoutSignedQueries(value);
  if (Array.isArray(value)) return value.map(stripSignedQueries);
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([name, inner]) => [withoutSignedQueries(name), stripSignedQueries(inner)]),
    );
  }
  return value;
}

/** The manifest of a committed call item and the Get Call `data` it was built from. */
export function buildManifest(call: CallItem, response: unknown): Manifest {
  const {
    pk: _pk,
    sk: _sk,
    entity: _entity,
    gsi2pk: _gsi2pk,
    gsi2sk: _gsi2sk,
    publishedRevision: _publishedRevision,
    ...kept
  } = call;
  return { manifestVersion: MANIFEST_VERSION, call: kept, response: stripSignedQueries(response) };
}

/**
 * The call item a manifest describes, with the table's keys derived again and marked published
 * (its manifest exists: that is where it came from). Throws `InvalidCallDataError` for anything
 * that is not a manifest this version wrote.
 */
export function callItemFromManifest(manifest: unknown, where: string): CallItem {
  if (!isObject(manifest) || manifest.manifestVersion !== MANIFEST_VERSION) {
    throw new InvalidCallDataError(`${where} is not a version ${MANIFEST_VERSION} manifest`);
  }
  const call = manifest.call;
  if (
    !isObject(call) ||
    typeof call.sessionId !== 'string' ||
    call.sessionId === '' ||
    !(CALL_STATUSES as readonly unknown[]).includes(call.status) ||
    !Number.isSafeInteger(call.revision) ||
    typeof call.enrichedAt !== 'string' ||
    !['participants', 'recordings', 'transcripts'].every((list) => Array.isArray(call[list]))
  ) {
    throw new InvalidCallDataError(`${where} does not hold a call item`);
  }
  const kept = call as unknown as ManifestCall;
  const dated = [kept.initiatedAt, kept.startedAt].find((t) => typeof t === 'number');
  return {
    ...kept,
    pk: callPk(kept.sessionId),
    sk: 'CALL',
    entity: 'call',
    ...dayIndexKeys(kept.sessionId, dated),
    publishedRevision: kept.revision,
  };
}
