/**
 * A GET for recording files that cannot be steered somewhere it should not go: every hop is
 * vetted by the URL policy, the socket connects to the very address that was vetted (no second
 * DNS answer), redirects are followed by hand and re-vetted, and slow or silent hosts time out.
 * The body is returned as a stream, never buffered.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { RecordingDownloadError, RecordingRejectedError } from '../errors.ts';
import { type UrlPolicy, type VettedUrl, vetRecordingUrl } from './url-policy.ts';

/** How to open a recording. */
export interface OpenRecordingOptions {
  policy: UrlPolicy;
  /**
   * Limit on connecting plus receiving the headers, and on any silence while reading the body
   * (a reader that stops pulling, e.g. waiting on a slow upload, lets the socket fall silent too).
   */
  timeoutMs?: number;
  /** Redirects followed before giving up. */
  maxRedirects?: number;
  signal?: AbortSignal;
}

/** A 206's `Content-Range: bytes start-end/total` (`total` absent when the host sent `*`); see range-read.ts. */
export interface ContentRange {
  start: number;
  end: number;
  total?: number;
}

/** An open recording download. */
export interface OpenedRecording {
  /** The response body. Stream errors may be Node errors: wrap them with `asDownloadError`. */
  body: Readable;
  /** The declared `Content-Length`, when there was a valid one. */
  contentLength?: number;
  contentType?: string;
  /** The URL that answered (after redirects). Holds the query string: do not log or store it. */
  finalUrl: URL;
}

/** Default for `timeoutMs`. */
export const DEFAULT_RECORDING_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// No Range is asked for here (range-read.ts does ranges), so only a complete representation is
// acceptable (206 would be a part).
const SUCCESS_STATUSES = new Set([200, 203]);

/**
 * Turns any failure while reading a recording into a `RecordingDownloadError` naming only the
 * host. Node's own messages (`aborted`, `read ECONNRESET`) carry no URL, so they are kept as cause.
 */
export function asDownloadError(error: unknown, host: string): RecordingDownloadError {
  if (error instanceof RecordingDownloadError) return error;
  const detail = (error as { code?: unknown })?.code ?? (error as { message?: unknown })?.message ?? 'error';
  return new RecordingDownloadError(`download from recording host ${host} failed (${String(detail)})`, {
    cause: error,
  });
}

/** Answers the socket's DNS query with the vetted address, whichever form net asks for. */
function pinnedLookup(vetted: VettedUrl): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) {
      callback(null, [{ address: vetted.address, family: vetted.family }]);
    } else {
      callback(null, vetted.address, vetted.family);
    }
  };
}

function get(
  vetted: VettedUrl,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  const { url } = vetted;
  const host = url.host;
  return new Promise<IncomingMessage>((resolve, reject) => {
    let response: IncomingMessage | undefined;
    // After the headers, failures belong to the body stream; before, to this promise.
    const fail = (error: RecordingDownloadError, req: ClientRequest) => {
      if (response) response.destroy(error);
      else req.destroy(error);
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // The URL object carries the path and query to send; Host and TLS SNI stay the host name,
    // while `lookup` sends the socket to the vetted address. `agent: false`: a pooled socket
    // would bypass the pinning decision of this hop.
    const req = request(url, {
      method: 'GET',
      agent: false,
      lookup: pinnedLookup(vetted),
      family: vetted.family,
      headers: { accept: '*/*', 'accept-encoding': 'identity', 'user-agent': 'cometchat-call-archive' },
    });
    const deadline = setTimeout(
      () =>
        fail(new RecordingDownloadError(`recording host ${host} did not answer within ${timeoutMs} ms`), req),
      timeoutMs,
    );
    req.setTimeout(timeoutMs, () =>
      fail(new RecordingDownloadError(`recording host ${host} sent nothing for ${timeoutMs} ms`), req),
    );
    const onAbort = () => fail(new RecordingDownloadError(`download from ${host} was aborted`), req);
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanUp = () => {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
    };
    req.on('error', (error) => {
      cleanUp();
      const wrapped = asDownloadError(error, host);
      if (response && !response.destroyed) response.destroy(wrapped);
      reject(wrapped);
    });
    req.on('response', (res) => {
      clearTimeout(deadline);
      response = res;
      res.once('close', cleanUp);
      resolve(res);
    });
    req.end();
  });
}

function nextUrl(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw new RecordingRejectedError(`recording URL refused: host ${base.host} redirected to an invalid URL`);
  }
}

function parseContentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** `bytes a-b/total` or `bytes a-b/*`; anything else (or b < a) is undefined. */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const match =
    value === undefined ? null : /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/.exec(value.trim());
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, ...(total !== undefined && { total }) };
}

/**
 * Opens a recording for streaming. Throws `RecordingRejectedError` when the URL or a redirect
 * target fails the policy (nothing is sent to it), `RecordingDownloadError` for a non-success
 * status (with `statusCode`; 401/403 mean the URL may have expired), too many redirects,
 * DNS or connection failures and timeouts.
 */
export async function openRecording(url: string, options: OpenRecordingOptions): Promise<OpenedRecording> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RECORDING_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let target = url;
  for (let redirects = 0; ; redirects += 1) {
    const vetted = await vetRecordingUrl(target, options.policy);
    const host = vetted.url.host;
    if (options.signal?.aborted) throw new RecordingDownloadError(`download from ${host} was aborted`);
    const res = await get(vetted, timeoutMs, options.signal);
    const status = res.statusCode ?? 0;
    if (REDIRECT_STATUSES.has(status)) {
      const location = res.headers.location;
      res.destroy();
      if (!location) {
        throw new RecordingDownloadError(
          `recording host ${host} redirected (HTTP ${status}) without a Location`,
          {
            statusCode: status,
          },
        );
      }
      if (redirects >= maxRedirects) {
        throw new RecordingDownloadError(
          `recording download stopped at ${host}: more than ${maxRedirects} redirects`,
        );
      }
      target = nextUrl(location, vetted.url);
      continue;
    }
    if (!SUCCESS_STATUSES.has(status)) {
      res.destroy();
      throw new RecordingDownloadError(`recording host ${host} answered HTTP ${status}`, {
        statusCode: status,
      });
    }
    const contentLength = parseContentLength(res.headers['content-length']);
    const contentType = res.headers['content-type'];
    return {
      body: res,
      ...(contentLength !== undefined && { contentLength }),
      ...(contentType !== undefined && { contentType }),
      finalUrl: vetted.url,
    };
  }
}
