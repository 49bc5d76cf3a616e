/**
 * A ranged GET that reads the body straight into the caller's part buffer. Node's HTTP client
 * hands every socket read over as a fresh Buffer, dead once copied: V8 counts those as external
 * memory and lets tens of MiB of them pile up before collecting (docs/benchmarks.md). Here the
 * socket reads into one small reused buffer (`onread`), so a part costs no allocation per read,
 * and memory is the part buffers, by design. HTTP/1.1 over one connection per request
 * (`Connection: close`), with the same guarantees as safe-get.ts: every hop vetted by the URL
 * policy, the socket pinned to the vetted address, redirects followed by hand, timeouts and the
 * abort signal honoured.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { RecordingDownloadError, RecordingRejectedError } from '../errors.ts';
import {
  asDownloadError,
  type ContentRange,
  DEFAULT_RECORDING_TIMEOUT_MS,
  parseContentRange,
} from './safe-get.ts';
import { type UrlPolicy, type VettedUrl, vetRecordingUrl } from './url-policy.ts';

/** The head of a ranged answer. */
export interface RangeHead {
  status: number;
  /** Set for a 206. */
  contentRange?: ContentRange;
  etag?: string;
  lastModified?: string;
  contentType?: string;
  /** The URL that answered (after redirects). Holds the query string: do not log or store it. */
  finalUrl: URL;
}

/** How to read a range. */
export interface ReadRangeOptions {
  policy: UrlPolicy;
  range: { start: number; end: number };
  /** Limit on connecting plus receiving the head, and on any silence after. */
  timeoutMs?: number;
  maxRedirects?: number;
  signal?: AbortSignal;
}

const MAX_HEAD_BYTES = 64 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;
const DEFAULT_MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

interface ParsedHead {
  status: number;
  headers: Map<string, string>;
}

function parseHead(text: string, host: string): ParsedHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) throw new RecordingDownloadError(`recording host ${host} sent a malformed HTTP answer`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // The first of a repeated header counts, as for Content-Length nothing else is safe.
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { status: Number(match[1]), headers };
}

function requestText(url: URL, range: { start: number; end: number }): string {
  return [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    'Accept: */*',
    'Accept-Encoding: identity',
    'User-Agent: cometchat-call-archive',
    `Range: bytes=${range.start}-${range.end}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
}

/**
 * One hop: connects to the vetted address, sends the request, and resolves with the head as soon
 * as it has arrived; then, if `accept(head)` returned a byte count, `body` reads exactly that many
 * bytes into `target` (else the connection is closed and `body` resolves at once).
 */
function hop(
  vetted: VettedUrl,
  options: ReadRangeOptions,
  target: Buffer,
  accept: (head: ParsedHead) => number | undefined,
): Promise<{ head: ParsedHead; body: Promise<void> }> {
  const { url } = vetted;
  const host = url.host;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RECORDING_TIMEOUT_MS;
  let bodyDone: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const body = new Promise<void>((resolve, reject) => {
    bodyDone = { resolve, reject };
  });
  // Whoever does not wait for the body must not see its failure as unhandled.
  body.catch(() => {});
  return new Promise<{ head: ParsedHead; body: Promise<void> }>((resolve, reject) => {
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const headChunks: Buffer[] = [];
    let headBytes = 0;
    let head: ParsedHead | undefined;
    let expected = 0;
    let filled = 0;
    let settled = false;
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let headGiven = false;
    const giveHead = () => {
      headGiven = true;
      resolve({ head: head as ParsedHead, body });
    };
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (!headGiven) {
        if (error) reject(error);
        else giveHead();
      }
      if (error) bodyDone?.reject(error);
      else bodyDone?.resolve();
    };
    const onData = (nread: number, buffer: Uint8Array): boolean => {
      if (settled) return false;
      let view = Buffer.from(buffer.buffer, buffer.byteOffset, nread);
      if (!head) {
        // The head is small and read once: copying it is no burden.
        headChunks.push(Buffer.from(view));
        headBytes += view.length;
        const all = Buffer.concat(headChunks);
        const end = all.indexOf('\r\n\r\n');
        if (end === -1) {
          if (headBytes > MAX_HEAD_BYTES)
            finish(new RecordingDownloadError(`recording host ${host} sent an oversized head`));
          return true;
        }
        try {
          head = parseHead(all.subarray(0, end).toString('latin1'), host);
          const length = accept(head);
          if (length === undefined) {
            finish();
            return false;
          }
          expected = length;
        } catch (error) {
          finish(error as Error);
          return false;
        }
        clearTimeout(deadline);
        view = all.subarray(end + 4);
        headChunks.length = 0;
        giveHead();
      }
      if (filled + view.length > expected) {
        finish(
          new RecordingDownloadError(
            `recording host ${host} sent more than the ${expected} bytes of the range`,
          ),
        );
        return false;
      }
      view.copy(target, filled);
      filled += view.length;
      if (filled === expected) finish();
      return true;
    };
    const common = {
      host: vetted.address,
      port,
      family: vetted.family,
      onread: { buffer: readBuffer, callback: onData },
    };
    const socket: Socket =
      url.protocol === 'https:'
        ? tlsConnect({
            ...common,
            // Certificates are checked against the host name, while the socket goes to the vetted address.
            ...(vetted.address !== hostname && { servername: hostname }),
          })
        : netConnect(common);
    socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      socket.write(requestText(url, options.range));
    });
    socket.setTimeout(timeoutMs, () =>
      finish(new RecordingDownloadError(`recording host ${host} sent nothing for ${timeoutMs} ms`)),
    );
    socket.on('error', (error) => finish(asDownloadError(error, host)));
    socket.on('end', () => {
      if (!head)
        finish(new RecordingDownloadError(`recording host ${host} closed the connection without answering`));
      else
        finish(
          new RecordingDownloadError(
            `recording host ${host} sent ${filled} of the ${expected} bytes of the range`,
          ),
        );
    });
    const deadline = setTimeout(
      () =>
        finish(new RecordingDownloadError(`recording host ${host} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => finish(new RecordingDownloadError(`download from ${host} was aborted`));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
  });
}

/** An answer whose head has arrived; `body` settles once a 206's bytes are all in the target. */
export interface OpenRange {
  head: RangeHead;
  body: Promise<void>;
}

/**
 * Asks for `options.range` and resolves as soon as the head is in. A 206 is checked by `check`
 * (which may throw, e.g. when the file changed) and its body read into `target` from offset 0
 * (`body` settles when done); a 200 (a host that ignores Range) is left unread, its connection
 * closed. Throws `RecordingRejectedError` when the URL or a redirect fails the policy, and
 * `RecordingDownloadError` for other statuses (with `statusCode`), timeouts and aborts; `body`
 * rejects with `RecordingDownloadError` for a body that ends short or runs over.
 */
export async function openRange(
  url: string,
  options: ReadRangeOptions,
  target: Buffer,
  check: (head: RangeHead) => void = () => {},
): Promise<OpenRange> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let next = url;
  for (let redirects = 0; ; redirects += 1) {
    const vetted = await vetRecordingUrl(next, options.policy);
    const host = vetted.url.host;
    if (options.signal?.aborted) throw new RecordingDownloadError(`download from ${host} was aborted`);
    let answer: RangeHead | undefined;
    const { head: parsed, body } = await hop(vetted, options, target, ({ status, headers }) => {
      if (REDIRECT_STATUSES.has(status) || status === 200 || status === 203) return undefined;
      if (status !== 206) {
        throw new RecordingDownloadError(`recording host ${host} answered HTTP ${status}`, {
          statusCode: status,
        });
      }
      const contentRange = parseContentRange(headers.get('content-range'));
      if (!contentRange) {
        throw new RecordingDownloadError(
          `recording host ${host} answered 206 without a usable Content-Range`,
        );
      }
      const length = contentRange.end - contentRange.start + 1;
      const declared = headers.get('content-length');
      if (headers.has('transfer-encoding') || (declared !== undefined && Number(declared) !== length)) {
        throw new RecordingDownloadError(`recording host ${host} framed a range in a way not supported here`);
      }
      if (length > target.length) {
        throw new RecordingDownloadError(`recording host ${host} answered a larger range than asked for`);
      }
      answer = headOf(206, headers, vetted.url, contentRange);
      check(answer);
      return length;
    });
    if (answer) return { head: answer, body };
    if (REDIRECT_STATUSES.has(parsed.status)) {
      const location = parsed.headers.get('location');
      if (!location) {
        throw new RecordingDownloadError(
          `recording host ${host} redirected (HTTP ${parsed.status}) without a Location`,
          {
            statusCode: parsed.status,
          },
        );
      }
      if (redirects >= maxRedirects) {
        throw new RecordingDownloadError(
          `recording download stopped at ${host}: more than ${maxRedirects} redirects`,
        );
      }
      try {
        next = new URL(location, vetted.url).href;
      } catch {
        throw new RecordingRejectedError(`recording URL refused: host ${host} redirected to an invalid URL`);
      }
      continue;
    }
    return { head: headOf(parsed.status, parsed.headers, vetted.url, undefined), body };
  }
}

/** `openRange`, then its body: resolves with the head once the bytes are all in `target`. */
export async function readRange(
  url: string,
  options: ReadRangeOptions,
  target: Buffer,
  check?: (head: RangeHead) => void,
): Promise<RangeHead> {
  const { head, body } = await openRange(url, options, target, check);
  await body;
  return head;
}

function headOf(
  status: number,
  headers: Map<string, string>,
  finalUrl: URL,
  contentRange: ContentRange | undefined,
): RangeHead {
  const etag = headers.get('etag');
  const lastModified = headers.get('last-modified');
  const contentType = headers.get('content-type');
  return {
    status,
    ...(contentRange && { contentRange }),
    ...(etag !== undefined && { etag }),
    ...(lastModified !== undefined && { lastModified }),
    ...(contentType !== undefined && { contentType }),
    finalUrl,
  };
}
