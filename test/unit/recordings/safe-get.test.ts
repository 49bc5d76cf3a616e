import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RecordingDownloadError, RecordingRejectedError } from '../../../lib/errors.ts';
import { openRecording, parseContentRange } from '../../../lib/recordings/safe-get.ts';
import type { LookupFn, UrlPolicy } from '../../../lib/recordings/url-policy.ts';
import { rejectionOf } from '../../support/errors.ts';
import { type RecordingServer, startRecordingServer } from './recording-server.ts';

const HOST = 'recordings.test';
const SECRET = 'Signature=s3cr3t-token';

let server: RecordingServer;
let base: string;

beforeAll(async () => {
  server = await startRecordingServer();
  base = `http://${HOST}:${server.port}`;
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.routes.clear();
  server.requests.length = 0;
});

/** `recordings.test:<port>` listed exactly; names resolve through `answers` (default: loopback). */
function policyFor(answers: Record<string, string> = {}, extraHosts: string[] = []) {
  const lookup = vi.fn<LookupFn>(async (hostname) => {
    const address = answers[hostname] ?? '127.0.0.1';
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  });
  const policy: UrlPolicy = { allowedHosts: [`${HOST}:${server.port}`, ...extraHosts], lookup };
  return { policy, lookup };
}

function redirectTo(location: string, status = 302) {
  return (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(status, { location }).end();
  };
}

describe('openRecording', () => {
  it('connects to the vetted address while Host stays the listed name (DNS pinned)', async () => {
    // Arrange
    server.routes.set('/calls/r1.mp4', (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '5' }).end('hello');
    });
    const { policy, lookup } = policyFor();

    // Act
    const opened = await openRecording(`${base}/calls/r1.mp4?${SECRET}`, { policy });
    const body = await text(opened.body);

    // Assert
    expect(body).toBe('hello');
    expect(opened.contentLength).toBe(5);
    expect(opened.contentType).toBe('video/mp4');
    expect(opened.finalUrl.pathname).toBe('/calls/r1.mp4');
    expect(server.requests).toEqual([{ url: `/calls/r1.mp4?${SECRET}`, host: `${HOST}:${server.port}` }]);
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(lookup).toHaveBeenCalledWith(HOST);
  });

  it('follows redirects, vetting each hop once', async () => {
    // Arrange
    server.routes.set('/start', redirectTo('/middle', 301));
    server.routes.set('/middle', redirectTo(`${base}/end`, 307));
    server.routes.set('/end', (_req, res) => {
      res.writeHead(200).end('done');
    });
    const { policy, lookup } = policyFor();

    // Act
    const opened = await openRecording(`${base}/start?${SECRET}`, { policy });
    const body = await text(opened.body);

    // Assert
    expect(body).toBe('done');
    expect(opened.finalUrl.pathname).toBe('/end');
    expect(server.requests.map((r) => r.url)).toEqual([`/start?${SECRET}`, '/middle', '/end']);
    expect(lookup).toHaveBeenCalledTimes(3);
  });

  it.each([
    ['a private address literal', 'http://10.0.0.1/'],
    ['the metadata service', 'http://169.254.169.254/latest/meta-data'],
    ['a host that is not listed', 'https://elsewhere.test/r.mp4'],
    ['a wildcard-matched host that resolves to a private address', 'https://evil.cdn.test/r.mp4'],
    ['an IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
    ['a file URL', 'file:///etc/passwd'],
  ])('refuses a redirect to %s without sending anything there', async (_what, location) => {
    // Arrange
    server.routes.set('/start', redirectTo(location));
    const { policy, lookup } = policyFor({ 'evil.cdn.test': '10.0.0.5' }, ['*.cdn.test']);

    // Act
    const error = await rejectionOf(openRecording(`${base}/start?${SECRET}`, { policy }));

    // Assert
    expect(error).toBeInstanceOf(RecordingRejectedError);
    expect(error.message).not.toContain(SECRET);
    expect(server.requests).toHaveLength(1);
    expect(lookup.mock.calls.map(([hostname]) => hostname)).not.toContain('elsewhere.test');
  });

  it('gives up after too many redirects', async () => {
    // Arrange
    server.routes.set('/loop', redirectTo('/loop'));
    const { policy } = policyFor();

    // Act
    const error = await rejectionOf(openRecording(`${base}/loop?${SECRET}`, { policy, maxRedirects: 3 }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).toMatch(/more than 3 redirects/);
    expect(server.requests).toHaveLength(4);
  });

  it.each([401, 403, 404, 500])('reports HTTP %i as a download error with that status', async (status) => {
    // Arrange
    server.routes.set('/r.mp4', (_req, res) => {
      res.writeHead(status).end('nope');
    });
    const { policy } = policyFor();

    // Act
    const error = await rejectionOf(openRecording(`${base}/r.mp4?${SECRET}`, { policy }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect((error as RecordingDownloadError).statusCode).toBe(status);
    expect(error.message).toContain(`${HOST}:${server.port}`);
    expect(error.message).not.toContain(SECRET);
  });

  it('refuses a partial-content answer it never asked for', async () => {
    // Arrange
    server.routes.set('/r.mp4', (_req, res) => {
      res.writeHead(206, { 'content-range': 'bytes 0-1/10' }).end('he');
    });
    const { policy } = policyFor();

    // Act
    const error = await rejectionOf(openRecording(`${base}/r.mp4`, { policy }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect((error as RecordingDownloadError).statusCode).toBe(206);
  });

  it('times out when the host accepts the request but never answers', async () => {
    // Arrange
    server.routes.set('/silent', () => {});
    const { policy } = policyFor();

    // Act
    const error = await rejectionOf(openRecording(`${base}/silent?${SECRET}`, { policy, timeoutMs: 200 }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).not.toContain(SECRET);
  });

  it('fails the body when the host goes quiet mid-download', async () => {
    // Arrange
    server.routes.set('/stall', (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('first bytes');
    });
    const { policy } = policyFor();
    const opened = await openRecording(`${base}/stall`, { policy, timeoutMs: 200 });

    // Act
    const error = await rejectionOf(text(opened.body));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).toMatch(/sent nothing/);
  });

  it('stops when the caller aborts while waiting for the answer', async () => {
    // Arrange
    const controller = new AbortController();
    server.routes.set('/slow', () => controller.abort());
    const { policy } = policyFor();

    // Act
    const error = await rejectionOf(openRecording(`${base}/slow`, { policy, signal: controller.signal }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).toMatch(/aborted/);
  });

  it('fails the body when the caller aborts mid-download', async () => {
    // Arrange
    const controller = new AbortController();
    server.routes.set('/stall', (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('first bytes');
    });
    const { policy } = policyFor();
    const opened = await openRecording(`${base}/stall`, { policy, signal: controller.signal });
    const reading = rejectionOf(text(opened.body));

    // Act
    controller.abort();
    const error = await reading;

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
  });

  it('reports a refused connection as a download error', async () => {
    // Arrange
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const policy: UrlPolicy = {
      allowedHosts: [`${HOST}:${port}`],
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    };

    // Act
    const error = await rejectionOf(openRecording(`http://${HOST}:${port}/r.mp4?${SECRET}`, { policy }));

    // Assert
    expect(error).toBeInstanceOf(RecordingDownloadError);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain(SECRET);
  });

  it('refuses a wildcard-matched first URL that resolves to loopback, before any request', async () => {
    // Arrange
    const { lookup } = policyFor();
    const wildcardOnly: UrlPolicy = { allowedHosts: ['*.test'], lookup };

    // Act
    const error = await rejectionOf(
      openRecording(`https://${HOST}:${server.port}/r.mp4`, { policy: wildcardOnly }),
    );

    // Assert
    expect(error).toBeInstanceOf(RecordingRejectedError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('parseContentRange', () => {
  it('reads a range with or without a total, and refuses anything else', () => {
    expect(parseContentRange('bytes 0-9/100')).toEqual({ start: 0, end: 9, total: 100 });
    expect(parseContentRange('bytes 0-9/*')).toEqual({ start: 0, end: 9 });
    expect(parseContentRange('bytes 10-9/100')).toBeUndefined();
    expect(parseContentRange('bytes 0-100/100')).toBeUndefined();
    expect(parseContentRange('bytes */100')).toBeUndefined();
    expect(parseContentRange('items 0-9/100')).toBeUndefined();
    expect(parseContentRange(undefined)).toBeUndefined();
  });
});
