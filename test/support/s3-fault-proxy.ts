/**
 * An HTTP proxy in front of s3rver that names each S3 call it forwards, keeps the order in which
 * calls were sent and answered, and can fail chosen calls with S3's own error document, so a
 * test sees exactly which call failed and what came after it (e.g. no abort before every part
 * in flight has settled).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardRequest } from './forward-request.ts';

/** S3 operations, as far as the copier uses them. */
export type S3Operation =
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'PutObject'
  | 'PutObjectTagging'
  | 'GetObjectTagging'
  | 'HeadObject'
  | 'GetObject'
  | 'CopyObject'
  | 'Other';

/** What the proxy saw: a call sent (`>`) or answered (`<`). */
export interface S3Event {
  op: S3Operation;
  phase: '>' | '<';
  status?: number;
}

/** A running proxy. */
export interface S3FaultProxy {
  readonly endpoint: string;
  readonly events: S3Event[];
  /** Fail the `nth` (1-based) call of `op` from now on with `status` and S3 error `code`. */
  failOn(op: S3Operation, nth?: number, status?: number, code?: string): void;
  /** Hold every call of `op` (not forwarded) until the returned function is called. */
  holdOn(op: S3Operation): () => void;
  /** Calls of `op` being held right now. */
  holding(op: S3Operation): number;
  count(op: S3Operation): number;
  reset(): void;
  close(): Promise<void>;
}

/** Names the S3 call of one request (path-style). */
export function s3Operation(method: string, url: string, headers: Record<string, unknown>): S3Operation {
  const query = new URL(url, 'http://x').searchParams;
  if (query.has('tagging')) return method === 'PUT' ? 'PutObjectTagging' : 'GetObjectTagging';
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'PUT' && query.has('partNumber')) return 'UploadPart';
  if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'PUT') return 'x-amz-copy-source' in headers ? 'CopyObject' : 'PutObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'GET') return 'GetObject';
  return 'Other';
}

/** Starts a proxy forwarding to `target` (s3rver's endpoint). */
export async function startS3FaultProxy(target: string): Promise<S3FaultProxy> {
  const upstream = new URL(target);
  const events: S3Event[] = [];
  const seen = new Map<S3Operation, number>();
  const faults = new Map<S3Operation, { nth: number; status: number; code: string }>();
  const holds = new Map<S3Operation, { released: Promise<void>; waiting: number }>();
  const server = createServer((req, res) => {
    const op = s3Operation(req.method ?? '', req.url ?? '/', req.headers);
    const n = (seen.get(op) ?? 0) + 1;
    seen.set(op, n);
    events.push({ op, phase: '>' });
    res.on('finish', () => events.push({ op, phase: '<', status: res.statusCode }));
    const fault = faults.get(op);
    if (fault && n >= fault.nth) {
      // Read the body first, as S3 would, so the client is not cut off mid-send.
      req.resume();
      req.on('end', () => {
        const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected</Message><RequestId>test</RequestId></Error>`;
        res.writeHead(fault.status, {
          'content-type': 'application/xml',
          'content-length': String(body.length),
        });
        res.end(body);
      });
      return;
    }
    const hold = holds.get(op);
    if (hold) {
      hold.waiting += 1;
      void hold.released.then(() => {
        hold.waiting -= 1;
        forwardRequest(upstream, req, res);
      });
      return;
    }
    forwardRequest(upstream, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    events,
    failOn: (op, nth = 1, status = 403, code = 'AccessDenied') => {
      faults.set(op, { nth: (seen.get(op) ?? 0) + nth, status, code });
    },
    holdOn: (op) => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.set(op, { released, waiting: 0 });
      return () => {
        holds.delete(op);
        release();
      };
    },
    holding: (op) => holds.get(op)?.waiting ?? 0,
    count: (op) => events.filter((e) => e.op === op && e.phase === '>').length,
    reset: () => {
      events.length = 0;
      faults.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
