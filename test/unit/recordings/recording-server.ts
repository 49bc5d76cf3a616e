/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) with a route per path, for tests that need
 * answers the simulator's recording host does not give (redirects, odd headers, the Host seen);
 * what it serves is the simulator's deterministic recording content.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { recordingStream } from '../../../dev/simulator/index.ts';
import { digestOf } from '../../support/s3.ts';

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

/** The rid whose simulated recording content every route serves. */
const CONTENT_RID = 'recording-server';

/** sha256 (hex) of the first `total` bytes the routes serve, computed apart from the code under test. */
export async function contentDigest(total: number): Promise<string> {
  return (await digestOf(recordingStream(CONTENT_RID, total))).sha256;
}

/** A route serving `total` bytes of content with a Content-Length. */
export function serveContent(total: number, headers: Record<string, string> = {}): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(total), ...headers });
    pipeline(recordingStream(CONTENT_RID, total), res).catch(() => {});
  };
}

/** A route announcing `announced` bytes, sending only the first `sent`, then cutting the socket. */
export function serveTruncated(announced: number, sent: number): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(announced), 'content-type': 'video/mp4' });
    void (async () => {
      // Each write's callback means the bytes reached the socket, so the cut comes after them.
      for await (const chunk of recordingStream(CONTENT_RID, sent)) {
        await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      }
      res.socket?.destroy();
    })();
  };
}
