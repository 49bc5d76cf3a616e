/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) standing in for a recording host, plus a
 * deterministic byte pattern to serve, so tests can compute the expected digest on their own.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What the server saw of one request. */
export interface SeenRequest {
  url: string;
  host: string | undefined;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A running recording host: routes are set per path; unrouted paths answer 404. */
export interface RecordingServer {
  readonly port: number;
  readonly requests: SeenRequest[];
  readonly routes: Map<string, Route>;
  close(): Promise<void>;
}

/** Starts the server. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: SeenRequest[] = [];
  const routes = new Map<string, Route>();
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', host: req.headers.host });
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes.get(path);
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    requests,
    routes,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const CHUNK = 64 * 1024;

/** `total` deterministic, non-repeating-per-chunk bytes, in chunks of 64 KiB. */
export function* patternChunks(total: number, onChunk?: () => void): Generator<Buffer> {
  for (let offset = 0, index = 0; offset < total; offset += CHUNK, index += 1) {
    const chunk = Buffer.alloc(Math.min(CHUNK, total - offset));
    for (let i = 0; i < chunk.length; i += 1) chunk[i] = (index * 131 + i * 7 + (i >> 9)) & 0xff;
    onChunk?.();
    yield chunk;
  }
}

/** The SHA-256 (hex) of `patternChunks(total)`, computed independently of the code under test. */
export function patternDigest(total: number): string {
  const hash = createHash('sha256');
  for (const chunk of patternChunks(total)) hash.update(chunk);
  return hash.digest('hex');
}

/** A route serving `total` pattern bytes with a Content-Length. */
export function servePattern(
  total: number,
  headers: Record<string, string> = {},
  onChunk?: () => void,
): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(total), ...headers });
    pipeline(Readable.from(patternChunks(total, onChunk)), res).catch(() => {});
  };
}

/** A route announcing `announced` bytes, sending only the first `sent`, then cutting the socket. */
export function serveTruncated(announced: number, sent: number): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(announced), 'content-type': 'video/mp4' });
    void (async () => {
      // Each write's callback means the bytes reached the socket, so the cut comes after them.
      for (const chunk of patternChunks(sent)) {
        await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      }
      res.socket?.destroy();
    })();
  };
}
