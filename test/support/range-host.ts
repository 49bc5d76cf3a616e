/**
 * A recording host for the copier's tests, over real HTTP on 127.0.0.1: files of any size with
 * deterministic content (any byte range is produced without the bytes before it), `Range`
 * support that can be turned off, no-length answers, ETag and Last-Modified, content
 * replacement, scripted faults per request, and a count of body bytes served.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/** Bytes `[start, end)` of the file named `name` at `version`: AES-CTR keystream, so seekable. */
export function contentStream(name: string, version: number, start: number, end: number): Readable {
  const seed = createHash('sha256').update(`${name}#${version}`).digest();
  const block = Math.floor(start / 16);
  const iv = BigInt(`0x${seed.subarray(16).toString('hex')}`) + BigInt(block);
  const counter = Buffer.from((iv % 2n ** 128n).toString(16).padStart(32, '0'), 'hex');
  const cipher = createCipheriv('aes-128-ctr', seed.subarray(0, 16), counter);
  let skip = start - block * 16;
  let remaining = end - start;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const out = cipher.update(ZEROS.subarray(0, Math.min(CHUNK, remaining + skip))).subarray(skip);
      skip = 0;
      remaining -= out.length;
      this.push(out);
    },
  });
}

/** sha256 (hex) of a whole file, computed apart from the code under test. */
export async function contentDigest(name: string, version: number, size: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of contentStream(name, version, 0, size)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A file the host serves at `/<name>`. */
export interface HostedFile {
  size: number;
  /** Changing it changes the bytes, the ETag and Last-Modified: the file was replaced. */
  version: number;
  contentType?: string;
}

/** What to do with one request instead of serving it normally. */
export type Fault =
  | { status: number }
  /** Promise the whole answer, send this many body bytes, then cut the connection. */
  | { truncateAfter: number };

/** One request as the host saw it. */
export interface HostRequest {
  path: string;
  query: string;
  range: string | undefined;
}

/** A running host. */
export interface RangeHost {
  readonly origin: string;
  readonly files: Map<string, HostedFile>;
  readonly requests: HostRequest[];
  /** Honour Range (default true), send Content-Length (default true), validators (default true). */
  settings: { ranges: boolean; contentLength: boolean; validators: boolean; bytesPerSecond?: number };
  /** Decides a fault per request (in arrival order); undefined serves normally. */
  fault: ((request: HostRequest, index: number) => Fault | undefined) | undefined;
  /** Body bytes written to sockets so far. */
  bytesServed: number;
  /** Responses sending their body right now, and the most there have been at once. */
  sending: number;
  mostSending: number;
  close(): Promise<void>;
}

/** Starts the host. */
export async function startRangeHost(): Promise<RangeHost> {
  const files = new Map<string, HostedFile>();
  const requests: HostRequest[] = [];
  const host: RangeHost = {
    origin: '',
    files,
    requests,
    settings: { ranges: true, contentLength: true, validators: true },
    fault: undefined,
    bytesServed: 0,
    sending: 0,
    mostSending: 0,
    close: async () => {},
  };

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const seen: HostRequest = { path: url.pathname, query: url.search, range: req.headers.range };
    requests.push(seen);
    const fault = host.fault?.(seen, requests.length - 1);
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, { 'content-length': '0' }).end();
      return;
    }
    const name = url.pathname.slice(1);
    const file = files.get(name);
    if (!file) {
      res.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    const { settings } = host;
    const headers: Record<string, string> = { 'content-type': file.contentType ?? 'video/mp4' };
    if (settings.validators) {
      headers.etag = `"${createHash('md5').update(`${name}#${file.version}`).digest('hex')}"`;
      headers['last-modified'] = new Date(Date.UTC(2026, 0, 1) + file.version * 60_000).toUTCString();
    }
    let start = 0;
    let end = file.size;
    let status = 200;
    const match = settings.ranges ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
    if (match) {
      start = Number(match[1]);
      if (start >= file.size) {
        res.writeHead(416, { 'content-range': `bytes */${file.size}`, 'content-length': '0' }).end();
        return;
      }
      end = match[2] ? Math.min(file.size, Number(match[2]) + 1) : file.size;
      status = 206;
      headers['content-range'] = `bytes ${start}-${end - 1}/${file.size}`;
    }
    if (settings.contentLength) headers['content-length'] = String(end - start);
    res.writeHead(status, headers);
    const stop = fault && 'truncateAfter' in fault ? Math.min(end, start + fault.truncateAfter) : end;
    void pump(res, contentStream(name, file.version, start, stop), settings.bytesPerSecond).then((whole) => {
      if (!whole) return;
      if (stop === end) res.end();
      else res.socket?.destroy();
    });
  };

  const pump = async (res: ServerResponse, body: Readable, bytesPerSecond: number | undefined) => {
    const began = performance.now();
    let sent = 0;
    host.sending += 1;
    host.mostSending = Math.max(host.mostSending, host.sending);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (res.destroyed) return false;
        const ok = await new Promise<boolean>((resolve) => res.write(chunk, (error) => resolve(!error)));
        if (!ok) return false;
        sent += chunk.length;
        host.bytesServed += chunk.length;
        if (bytesPerSecond) {
          const due = began + (sent / bytesPerSecond) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
      return true;
    } finally {
      host.sending -= 1;
      body.destroy();
    }
  };

  const server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(host, {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return host;
}
