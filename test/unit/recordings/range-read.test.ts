import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingDownloadError, RecordingRejectedError } from '../../../lib/errors.ts';
import { openRange, readRange } from '../../../lib/recordings/range-read.ts';
import type { UrlPolicy } from '../../../lib/recordings/url-policy.ts';
import { rejectionOf } from '../../support/errors.ts';
import { type RecordingServer, startRecordingServer } from './recording-server.ts';

const HOST = 'recordings.test';

let server: RecordingServer;
let base: string;
let policy: UrlPolicy;
let hosts: (string | undefined)[];

beforeAll(async () => {
  server = await startRecordingServer();
  base = `http://${HOST}:${server.port}`;
  // The name resolves to loopback, listed exactly: the socket must go there with Host kept.
  policy = {
    allowedHosts: [`${HOST}:${server.port}`],
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
  };
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.routes.clear();
  server.requests.length = 0;
  hosts = [];
});

const TEN = Buffer.from('0123456789');

/** Serves TEN with ranges, recording the Range asked for. */
function ranged(ranges: (string | undefined)[]) {
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    ranges.push(req.headers.range);
    hosts.push(req.headers.host);
    const [, a, b] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '') ?? [];
    const start = Number(a);
    const end = Number(b);
    res.writeHead(206, {
      'content-range': `bytes ${start}-${end}/10`,
      'content-length': String(end - start + 1),
      etag: '"e1"',
      'content-type': 'video/mp4',
    });
    res.end(TEN.subarray(start, end + 1));
  };
}

describe('readRange', () => {
  it('reads a 206 straight into the target, through the pinned address with Host kept', async () => {
    const ranges: (string | undefined)[] = [];
    server.routes.set('/r', ranged(ranges));
    const target = Buffer.alloc(4);

    const head = await readRange(
      `${base}/r?Signature=secret`,
      { policy, range: { start: 3, end: 6 } },
      target,
    );

    expect(target.toString()).toBe('3456');
    expect(head).toMatchObject({ status: 206, contentRange: { start: 3, end: 6, total: 10 }, etag: '"e1"' });
    expect(ranges).toEqual(['bytes=3-6']);
    expect(hosts).toEqual([`${HOST}:${server.port}`]);
    expect(server.requests[0]?.url).toBe('/r?Signature=secret');
  });

  it('returns the head of a 200 unread, so the caller can fall back to one stream', async () => {
    server.routes.set('/whole', (_req, res) => {
      res.writeHead(200, { 'content-length': '10' }).end(TEN);
    });

    const head = await readRange(`${base}/whole`, { policy, range: { start: 0, end: 3 } }, Buffer.alloc(4));

    expect(head.status).toBe(200);
    expect(head.contentRange).toBeUndefined();
  });

  it('fails the body, not the head, when the range ends short', async () => {
    server.routes.set('/short', (_req, res) => {
      res.writeHead(206, { 'content-range': 'bytes 0-9/10', 'content-length': '10' });
      res.write(TEN.subarray(0, 4), () => res.socket?.destroy());
    });

    const { head, body } = await openRange(
      `${base}/short`,
      { policy, range: { start: 0, end: 9 } },
      Buffer.alloc(10),
    );
    const error = await rejectionOf(body);

    expect(head.status).toBe(206);
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).toContain('4 of the 10');
  });

  it('reports a refused URL with its status, and the check can stop before the body', async () => {
    server.routes.set('/gone', (_req, res) => {
      res.writeHead(403).end();
    });
    server.routes.set('/r', ranged([]));

    const refused = await rejectionOf(
      readRange(`${base}/gone`, { policy, range: { start: 0, end: 1 } }, Buffer.alloc(2)),
    );
    const changed = await rejectionOf(
      readRange(`${base}/r`, { policy, range: { start: 0, end: 1 } }, Buffer.alloc(2), () => {
        throw new RecordingDownloadError('changed');
      }),
    );

    expect((refused as RecordingDownloadError).statusCode).toBe(403);
    expect(changed.message).toBe('changed');
  });

  it('follows a redirect with the same range, and refuses one that leaves the policy', async () => {
    const ranges: (string | undefined)[] = [];
    server.routes.set('/from', (_req, res) => {
      res.writeHead(302, { location: '/to' }).end();
    });
    server.routes.set('/to', ranged(ranges));
    server.routes.set('/away', (_req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/' }).end();
    });
    const target = Buffer.alloc(2);

    await readRange(`${base}/from`, { policy, range: { start: 8, end: 9 } }, target);
    const away = await rejectionOf(
      readRange(`${base}/away`, { policy, range: { start: 0, end: 1 } }, target),
    );

    expect(target.toString()).toBe('89');
    expect(ranges).toEqual(['bytes=8-9']);
    expect(away).toBeInstanceOf(RecordingRejectedError);
  });

  it('refuses a range larger than the target, and gives up on a silent host', async () => {
    server.routes.set('/big', (_req, res) => {
      res.writeHead(206, { 'content-range': 'bytes 0-9/10', 'content-length': '10' }).end(TEN);
    });
    server.routes.set('/silent', () => {});

    const big = await rejectionOf(
      readRange(`${base}/big`, { policy, range: { start: 0, end: 3 } }, Buffer.alloc(4)),
    );
    const silent = await rejectionOf(
      readRange(`${base}/silent`, { policy, range: { start: 0, end: 3 }, timeoutMs: 200 }, Buffer.alloc(4)),
    );

    expect(big).toBeInstanceOf(RecordingDownloadError);
    expect(silent).toBeInstanceOf(RecordingDownloadError);
    expect(silent.message).toMatch(/200 ms/);
  });

  it('stops at once when the signal aborts', async () => {
    server.routes.set('/slow', (_req, res) => {
      res.writeHead(206, { 'content-range': 'bytes 0-9/10', 'content-length': '10' });
      res.write(TEN.subarray(0, 1));
    });
    const stop = new AbortController();

    const { body } = await openRange(
      `${base}/slow`,
      { policy, range: { start: 0, end: 9 }, signal: stop.signal },
      Buffer.alloc(10),
    );
    stop.abort();
    const error = await rejectionOf(body);

    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).toMatch(/aborted/);
  });
});

describe('readRange over TLS', () => {
  let directory: string;
  let https: HttpsServer;
  let port: number;
  const defaults = getCACertificates('default');

  beforeAll(async () => {
    // A throwaway certificate for recordings.test, made here (nothing secret is kept in the repo),
    // trusted for this process only.
    directory = await mkdtemp(join(tmpdir(), 'range-read-tls-'));
    const key = join(directory, 'key.pem');
    const cert = join(directory, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${HOST}`,
        '-addext',
        `subjectAltName=DNS:${HOST}`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const certificate = await readFile(cert, 'utf8');
    setDefaultCACertificates([...defaults, certificate]);
    https = createHttpsServer({ key: await readFile(key), cert: certificate }, (req, res) => {
      hosts.push(req.headers.host);
      res.writeHead(206, { 'content-range': 'bytes 2-5/10', 'content-length': '4' }).end(TEN.subarray(2, 6));
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    port = (https.address() as AddressInfo).port;
  });

  afterAll(async () => {
    setDefaultCACertificates(defaults);
    https.closeAllConnections();
    await new Promise<void>((resolve) => https.close(() => resolve()));
    await rm(directory, { recursive: true, force: true });
  });

  it('checks the certificate against the host name while the socket goes to the vetted address', async () => {
    const tlsPolicy: UrlPolicy = {
      allowedHosts: [`${HOST}:${port}`, `other.test:${port}`],
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    };
    const target = Buffer.alloc(4);

    const head = await readRange(
      `https://${HOST}:${port}/r`,
      { policy: tlsPolicy, range: { start: 2, end: 5 } },
      target,
    );
    const wrongName = await rejectionOf(
      readRange(
        `https://other.test:${port}/r`,
        { policy: tlsPolicy, range: { start: 2, end: 5 } },
        Buffer.alloc(4),
      ),
    );

    expect(target.toString()).toBe('2345');
    expect(head.contentRange).toEqual({ start: 2, end: 5, total: 10 });
    expect(hosts).toEqual([`${HOST}:${port}`]);
    expect(wrongName).toBeInstanceOf(RecordingDownloadError);
  });
});
