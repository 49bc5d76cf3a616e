/**
 * A pass-through HTTP proxy in front of a local service that counts requests by DynamoDB
 * operation (the `X-Amz-Target` header) or by method, so tests can assert "no writes" on the
 * real server rather than on a mock.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running proxy: its endpoint, counts, and how to stop it. */
export interface CountingProxy {
  readonly endpoint: string;
  /** Requests seen, keyed by DynamoDB operation (e.g. `PutItem`) or HTTP method. */
  readonly counts: Map<string, number>;
  count(...operations: string[]): number;
  reset(): void;
  close(): Promise<void>;
}

/** DynamoDB operations that write. */
export const DYNAMODB_WRITES = [
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
];

/** Passes one request through to `upstream` and its answer back, as is. */
export function forwardRequest(upstream: URL, req: IncomingMessage, res: ServerResponse): void {
  const forward = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on('error', () => res.destroy());
  req.pipe(forward);
}

/** Starts a proxy on 127.0.0.1 forwarding everything to `target` (an http:// endpoint). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const amzTarget = req.headers['x-amz-target'];
    const key =
      typeof amzTarget === 'string' ? (amzTarget.split('.').pop() ?? amzTarget) : (req.method ?? '?');
    counts.set(key, (counts.get(key) ?? 0) + 1);
    forwardRequest(upstream, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    count: (...operations) => operations.reduce((sum, op) => sum + (counts.get(op) ?? 0), 0),
    reset: () => counts.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
