/**
 * The recording host: serves each call's recordings at signed URLs, the way CloudFront serves
 * CometChat's media. Beyond plain downloads it can honour `Range` (206 / 416), serve without
 * ranges or without a length, pace each connection, and change a file or expire its URLs between
 * two requests: what a resumable, parallel copier has to cope with.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallRegistry, StoredCall, StoredRecording, StoredTranscript } from './calls.ts';
import { recordingStream, transcriptContent } from './content.ts';
import { type RecordingFault, RecordingFaults } from './faults.ts';
import type { RequestLog, SimulatorRequest } from './request-log.ts';

/** How the host serves files; set per host, and per file over that. */
export interface RecordingHostSettings {
  /** Honour `Range` with 206 and 416; default true. When false, `Range` is ignored: 200, whole file. */
  ranges?: boolean;
  /** Send `Content-Length`; default true. When false, bodies are chunked and HEAD carries no length. */
  contentLength?: boolean;
  /**
   * Pace every response to this many body bytes per second; default unlimited. HTTP/1.1 answers one
   * request at a time per connection, so this is a per-connection limit, like one flow from a CDN.
   */
  bytesPerSecond?: number;
}

/** A file as the generic server sees it. */
export interface ServedFile {
  size: number;
  contentType: string;
  /** A strong validator, quotes included. */
  etag: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
  /** Bytes `[start, end)`. */
  read(start: number, end: number): Readable;
}

/** What {@link serveFile} does with one response, beyond the file's own settings. */
export interface ServeOptions extends RecordingHostSettings {
  /** Send at most this many body bytes, after promising the whole response, then cut the connection. */
  truncateAfter?: number;
  /** Send at most this many body bytes, then nothing more, the connection left open: a stalled transfer. */
  stallAfter?: number;
  /** The status, once the head is written. */
  onStatus?: (status: number) => void;
  /** Body bytes, as each piece is handed to the connection. */
  onBytes?: (bytes: number) => void;
  /** The clock pacing runs on; default real time. A fake one lets tests check the pace without timing it. */
  pacer?: Pacer;
}

/** What pacing needs of a clock. */
export interface Pacer {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Resolves after `ms`, rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const REAL_TIME: Pacer = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

const KEY_PAIR_ID = 'SIM';
const NONCE_BYTES = 8;

/**
 * Answers one GET or HEAD for `file`: 200 or 206 (a single range; anything else in `Range` is
 * ignored, as RFC 9110 allows), 416 when the range starts past the end, 412 when `If-Match` fails.
 * A failed `If-Range` serves the whole file, so a resuming client notices a changed source.
 */
export function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: ServedFile,
  options: ServeOptions = {},
): void {
  const ranges = options.ranges ?? true;
  const contentLength = options.contentLength ?? true;
  const headers: Record<string, string> = {
    etag: file.etag,
    'last-modified': new Date(file.lastModified).toUTCString(),
  };
  if (ranges) headers['accept-ranges'] = 'bytes';
  const answer = (status: number, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...headers, ...extra });
    options.onStatus?.(status);
  };
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && !etagListHas(ifMatch, file.etag)) {
    answer(412, { 'content-length': '0' });
    res.end();
    return;
  }
  const range =
    ranges && req.headers.range !== undefined && ifRangeHolds(req.headers['if-range'], file)
      ? parseRange(req.headers.range, file.size)
      : undefined;
  if (range === 'unsatisfiable') {
    answer(416, { 'content-range': `bytes */${file.size}`, 'content-length': '0' });
    res.end();
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size;
  const extra: Record<string, string> = { 'content-type': file.contentType };
  if (contentLength) extra['content-length'] = String(end - start);
  if (range) extra['content-range'] = `bytes ${start}-${end - 1}/${file.size}`;
  answer(range ? 206 : 200, extra);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const limit = options.truncateAfter ?? options.stallAfter;
  const stop = limit === undefined ? end : Math.min(end, start + Math.max(0, limit));
  void pump(res, file.read(start, stop), options).then((complete) => {
    if (!complete) return;
    if (stop === end) res.end();
    else if (options.truncateAfter !== undefined) cut(res);
    // A stall leaves the response open until the client gives up or close() destroys the socket.
  });
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n`, as `[start, end)`; undefined when it is not one such range. */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size : Math.min(Number(last) + 1, size) };
}

function etagListHas(header: string, etag: string): boolean {
  return header.split(',').some((tag) => tag.trim() === '*' || tag.trim() === etag);
}

/** RFC 9110 13.1.5: a strong ETag match, or exactly the Last-Modified date. */
function ifRangeHolds(header: string | string[] | undefined, file: ServedFile): boolean {
  if (header === undefined) return true;
  if (typeof header !== 'string') return false;
  if (header.startsWith('"')) return header === file.etag;
  return header === new Date(file.lastModified).toUTCString();
}

/** Writes `source` to `res` (paced when there is a rate); false when the client went away first. */
function pump(res: ServerResponse, source: Readable, options: ServeOptions): Promise<boolean> {
  return options.bytesPerSecond === undefined
    ? pipeUnpaced(res, source, options)
    : pipePaced(res, source, options.bytesPerSecond, options);
}

/** Plain piping: an await per chunk would halve the host's speed, and the benchmarks need it fast. */
function pipeUnpaced(res: ServerResponse, source: Readable, options: ServeOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      source.destroy();
      resolve(false);
    };
    res.once('close', onClose);
    source.on('data', (chunk: Buffer) => options.onBytes?.(chunk.length));
    source.once('end', () => {
      res.off('close', onClose);
      resolve(true);
    });
    source.once('error', () => res.destroy());
    source.pipe(res, { end: false });
  });
}

async function pipePaced(
  res: ServerResponse,
  source: Readable,
  rate: number,
  options: ServeOptions,
): Promise<boolean> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.once('close', onClose);
  // Small slices keep the pace even; 64 KiB is the source's own chunk size.
  const slice = Math.min(64 * 1024, Math.max(1024, Math.floor(rate / 20)));
  const pacer = options.pacer ?? REAL_TIME;
  const started = pacer.now();
  let sent = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; offset += slice) {
        const piece = chunk.subarray(offset, offset + slice);
        const wait = started + (sent * 1000) / rate - pacer.now();
        if (wait > 0) await pacer.sleep(wait, gone.signal);
        if (gone.signal.aborted) return false;
        const ready = res.write(piece);
        options.onBytes?.(piece.length);
        sent += piece.length;
        if (!ready) await once(res, 'drain', { signal: gone.signal });
      }
    }
    return !gone.signal.aborted;
  } catch {
    // The client went away (or close() destroyed the socket): nothing left to answer.
    return false;
  } finally {
    res.off('close', onClose);
    source.destroy();
  }
}

/** Ends the connection after what was written, without finishing the response: a short body. */
function cut(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  // end() flushes what was written before the FIN; destroy once it has gone.
  socket.once('finish', () => socket.destroy());
  socket.end();
}

/** CloudFront answers signed-URL failures with an XML document like this one. */
function cloudFrontError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/** CloudFront's URL-safe base64 alphabet. */
function cloudFrontBase64(buffer: Buffer): string {
  return buffer.toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
}

/**
 * Signs URLs like CloudFront chat-media URLs (`Expires`, `Signature`, `Key-Pair-Id`) with a
 * per-simulator secret. The signature carries a random nonce, so every Get Call issues a new URL
 * even within a second, and a generation per path (and one for all) so a test can expire URLs.
 */
class UrlSigner {
  private readonly secret = randomBytes(32);
  private generation = 0;
  private readonly pathGenerations = new Map<string, number>();

  constructor(private readonly clock: () => number) {}

  query(path: string, expires: number): string {
    const nonce = randomBytes(NONCE_BYTES);
    const signature = cloudFrontBase64(Buffer.concat([nonce, this.mac(path, expires, nonce)]));
    return `Expires=${expires}&Signature=${signature}&Key-Pair-Id=${KEY_PAIR_ID}`;
  }

  /** Invalidates every URL issued so far for `path`, or for every path. */
  expire(path?: string): void {
    if (path === undefined) this.generation += 1;
    else this.pathGenerations.set(path, (this.pathGenerations.get(path) ?? 0) + 1);
  }

  /** Why a request is refused, or undefined when its signature holds and has not expired. */
  problem(path: string, query: URLSearchParams): string | undefined {
    const expires = query.get('Expires');
    const signature = query.get('Signature');
    if (expires === null || signature === null || query.get('Key-Pair-Id') !== KEY_PAIR_ID) {
      return 'Missing Key-Pair-Id query parameter or cookie value';
    }
    if (!/^\d{1,12}$/.test(expires)) return 'Access denied';
    const raw = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
    // Node's base64 decoder skips characters it does not know; re-encoding catches those edits.
    if (raw.length !== NONCE_BYTES + 32 || cloudFrontBase64(raw) !== signature) return 'Access denied';
    const expected = this.mac(path, expires, raw.subarray(0, NONCE_BYTES));
    if (!timingSafeEqual(expected, raw.subarray(NONCE_BYTES))) return 'Access denied';
    if (Number(expires) <= Math.floor(this.clock() / 1000)) return 'Access denied';
    return undefined;
  }

  private mac(path: string, expires: number | string, nonce: Buffer): Buffer {
    const generations = `${this.generation}.${this.pathGenerations.get(path) ?? 0}`;
    return createHmac('sha256', this.secret)
      .update(`${path}\n${expires}\n${generations}\n`)
      .update(nonce)
      .digest();
  }
}

/** What a recording request hook is told. */
export interface RecordingRequest {
  rid: string;
  /** The `Range` header as sent. */
  range: string | undefined;
  /** Requests the hook was asked about before this one (since it was set). */
  index: number;
}

/** Decides a fault for one download; undefined serves it normally. */
export type RecordingRequestHook = (request: RecordingRequest) => RecordingFault | undefined;

/** How a simulator's recording host is set up. */
export interface RecordingHostOptions {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** When false, URLs carry no query string and are not checked. */
  sign: boolean;
  ttlSeconds: number;
  clock: () => number;
  settings: RecordingHostSettings;
}

/** The simulator's recording host, over the calls in `registry`. */
export class RecordingHost {
  private readonly faults = new RecordingFaults();
  private readonly signer: UrlSigner;
  private settings: RecordingHostSettings;
  private readonly fileSettings = new Map<string, RecordingHostSettings>();
  private hook: { hook: RecordingRequestHook; seen: number } | undefined;

  constructor(
    private readonly registry: CallRegistry,
    private readonly log: RequestLog,
    private readonly options: RecordingHostOptions,
  ) {
    this.signer = new UrlSigner(options.clock);
    this.settings = { ...options.settings };
  }

  /** A URL for `recording`, signed to expire at `expires` (Unix seconds) unless signing is off. */
  url(sessionId: string, recording: StoredRecording, expires: number): string {
    const path = recordingPath(sessionId, recording);
    const url = `${this.options.origin}${path}`;
    return this.options.sign ? `${url}?${this.signer.query(path, expires)}` : url;
  }

  /** A URL for a transcript, signed like a recording's. */
  transcriptUrl(sessionId: string, transcript: StoredTranscript, expires: number): string {
    const path = transcriptPath(sessionId, transcript);
    const url = `${this.options.origin}${path}`;
    return this.options.sign ? `${url}?${this.signer.query(path, expires)}` : url;
  }

  /** Changes how files are served: the whole host, or (with `rid`) one file, over the host's settings. */
  configure(settings: RecordingHostSettings, rid?: string): void {
    if (settings.bytesPerSecond !== undefined && !(settings.bytesPerSecond > 0)) {
      throw new RangeError('bytesPerSecond must be positive');
    }
    if (rid === undefined) this.settings = { ...this.settings, ...settings };
    else this.fileSettings.set(rid, { ...this.fileSettings.get(rid), ...settings });
  }

  /** Every URL issued so far for recording `rid` (or for all recordings) stops working. */
  expire(rid?: string): void {
    if (rid === undefined) {
      this.signer.expire();
      return;
    }
    const found = this.registry.recording(rid);
    if (found) this.signer.expire(recordingPath(found.sessionId, found.recording));
  }

  fail(rid: string, faults: readonly RecordingFault[]): void {
    this.faults.add(rid, faults);
  }

  /** Asked for a fault for each download that found its recording and has no queued fault. */
  onRequest(hook: RecordingRequestHook | undefined): void {
    this.hook = hook ? { hook, seen: 0 } : undefined;
  }

  /** The file behind recording `rid` as served now (size, validators, content). */
  file(rid: string): ServedFile | undefined {
    const found = this.registry.recording(rid);
    return found && servedFile(found.recording);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    const method = req.method ?? 'GET';
    const range = req.headers.range;
    let rid: string | undefined;
    let kind: 'recording' | 'transcript' = 'recording';
    const record = (status: number): SimulatorRequest =>
      this.log.add({
        method,
        path,
        status,
        kind,
        ...(rid === undefined ? {} : { rid }),
        ...(range === undefined ? {} : { range }),
        bytes: 0,
      });
    const xml = (status: number, code: string, message: string) => {
      const body = cloudFrontError(code, message);
      res.writeHead(status, {
        'content-type': 'text/xml',
        'content-length': String(Buffer.byteLength(body)),
      });
      res.end(method === 'HEAD' ? undefined : body);
      record(status);
    };
    if (method !== 'GET' && method !== 'HEAD') {
      xml(405, 'MethodNotAllowed', 'Only GET and HEAD are supported');
      return;
    }
    const problem = this.options.sign ? this.signer.problem(path, query) : undefined;
    if (problem) {
      xml(403, 'AccessDenied', problem);
      return;
    }
    const transcript = this.findTranscript(path);
    if (transcript) {
      kind = 'transcript';
      // Faults queued under the transcript's file name (failNextRecording(name)) apply here too.
      const fault = this.faults.take(transcript.file.name);
      if (fault?.kind === 'status' || fault?.kind === 'expire') {
        if (fault.kind === 'expire') this.signer.expire(path);
        const status = fault.kind === 'status' ? fault.status : 403;
        xml(status, status === 403 ? 'AccessDenied' : 'SimulatedFailure', 'Simulated failure');
        return;
      }
      const body = transcriptContent(transcript.sessionId, transcript.file.name);
      serveFile(
        req,
        res,
        {
          size: body.length,
          contentType: 'application/json',
          etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`,
          lastModified: transcript.file.availableFrom ?? 0,
          read: (start, end) => Readable.from([body.subarray(start, end)]),
        },
        { onStatus: (status) => record(status) },
      );
      return;
    }
    const recording = this.find(path);
    if (!recording) {
      xml(404, 'NoSuchKey', 'The specified key does not exist.');
      return;
    }
    rid = recording.rid;
    const fault = this.faults.take(rid) ?? this.askHook({ rid, range, index: this.hook?.seen ?? 0 });
    if (fault?.kind === 'status') {
      xml(fault.status, fault.status === 403 ? 'AccessDenied' : 'SimulatedFailure', 'Simulated failure');
      return;
    }
    if (fault?.kind === 'expire') {
      this.signer.expire(path);
      xml(403, 'AccessDenied', 'Access denied');
      return;
    }
    if (fault?.kind === 'redirect') {
      res.writeHead(302, { location: fault.location, 'content-length': '0' });
      res.end();
      record(302);
      return;
    }
    let entry: SimulatorRequest | undefined;
    serveFile(req, res, servedFile(recording), {
      ...this.settings,
      ...this.fileSettings.get(rid),
      ...(fault?.kind === 'truncate' ? { truncateAfter: fault.afterBytes } : {}),
      ...(fault?.kind === 'stall' ? { stallAfter: fault.afterBytes } : {}),
      onStatus: (status) => {
        entry = record(status);
        if (method === 'HEAD') return;
        // Counted until the connection is done with the body, however it ends.
        this.log.bodyStarted();
        res.once('close', () => this.log.bodyEnded());
      },
      onBytes: (bytes) => {
        if (entry) this.log.addBytes(entry, bytes);
      },
    });
  }

  private askHook(request: RecordingRequest): RecordingFault | undefined {
    if (!this.hook) return undefined;
    this.hook.seen += 1;
    return this.hook.hook(request);
  }

  /** The available transcript at `path` (`/recordings/<session>/transcripts/<name>`), if any. */
  private findTranscript(path: string): { sessionId: string; file: StoredTranscript } | undefined {
    const match = /^\/recordings\/([^/]+)\/transcripts\/([^/]+)$/.exec(path);
    const sessionId = match?.[1] === undefined ? undefined : safeDecode(match[1]);
    const stored: StoredCall | undefined = sessionId === undefined ? undefined : this.registry.get(sessionId);
    if (!stored || sessionId === undefined) return undefined;
    const file = this.registry
      .availableTranscripts(stored, this.options.clock())
      .find((t) => transcriptPath(sessionId, t) === path);
    return file && { sessionId, file };
  }

  private find(path: string): StoredRecording | undefined {
    const match = /^\/recordings\/([^/]+)\/([^/]+)$/.exec(path);
    if (!match?.[1] || !match[2]) return undefined;
    const sessionId = safeDecode(match[1]);
    if (sessionId === undefined) return undefined;
    return this.registry.get(sessionId)?.recordings.find((r) => recordingPath(sessionId, r) === path);
  }
}

function recordingPath(sessionId: string, recording: StoredRecording): string {
  const ext = encodeURIComponent(recording.ext ?? 'mp4');
  return `/recordings/${encodeURIComponent(sessionId)}/${encodeURIComponent(recording.rid)}.${ext}`;
}

function transcriptPath(sessionId: string, transcript: StoredTranscript): string {
  return `/recordings/${encodeURIComponent(sessionId)}/transcripts/${encodeURIComponent(transcript.name)}`;
}

function servedFile(recording: StoredRecording): ServedFile {
  const { rid, bytes, version } = recording;
  return {
    size: bytes,
    contentType: recording.contentType ?? 'video/mp4',
    etag: `"${createHash('sha256').update(`${rid}\n${version}\n${bytes}`).digest('hex').slice(0, 32)}"`,
    lastModified: recording.modifiedAt,
    read: (start, end) => recordingStream(rid, end, { start, version }),
  };
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
