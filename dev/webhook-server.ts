/**
 * A local stand-in for the HTTP API in front of the `webhook` function, for `npm start` and the
 * tests: a node:http server that turns each request into an API Gateway HTTP API (payload 2.0)
 * event, calls the real handler, and writes its answer back. Like HTTP API, it answers 404 for
 * any route but `POST <path>` and 413 above 10 MB, and base64-encodes bodies that are not text.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

/** The handler the server calls (the webhook's, with a Lambda context bound in). */
export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/** A running server. */
export interface WebhookServer {
  /** `http://127.0.0.1:<port><path>`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Options for {@link startWebhookServer}. */
export interface WebhookServerOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default `/webhooks/cometchat`. */
  path?: string;
}

/** HTTP API's own payload limit. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
// HTTP API passes these as text and base64-encodes everything else (a missing type included).
const TEXT_TYPE = /^(text\/|application\/(json|xml|javascript)\b|[^;]*\+(json|xml)\b)/i;

/** The HTTP API v2 event for a request whose body has been read. */
export function httpApiEvent(
  req: Pick<IncomingMessage, 'method' | 'url' | 'headers' | 'httpVersion' | 'socket'>,
  body: Buffer,
  routeKey: string,
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP API joins repeated headers with commas.
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const contentType = headers['content-type'] ?? '';
  const isText = TEXT_TYPE.test(contentType);
  const now = new Date();
  const query = url.search.slice(1);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: query,
    ...(headers.cookie && { cookies: headers.cookie.split(/;\s*/) }),
    headers,
    ...(query && { queryStringParameters: Object.fromEntries(url.searchParams) }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: isText ? body.toString('utf8') : body.toString('base64') }),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/** Starts the server; the handler is called for `POST <path>` only. */
export async function startWebhookServer(
  handler: HttpApiHandler,
  options: WebhookServerOptions = {},
): Promise<WebhookServer> {
  const path = options.path ?? '/webhooks/cometchat';
  const routeKey = `POST ${path}`;
  const server = createServer(async (req, res) => {
    const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || pathname !== path) {
      req.resume();
      return send(404, JSON.stringify({ message: 'Not Found' }));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD_BYTES) {
        res.setHeader('connection', 'close');
        return send(413, JSON.stringify({ message: 'Request Entity Too Large' }));
      }
      chunks.push(chunk as Buffer);
    }
    try {
      const result = await handler(httpApiEvent(req, Buffer.concat(chunks), routeKey));
      if (typeof result === 'string') return send(200, result);
      const body = result.isBase64Encoded
        ? Buffer.from(result.body ?? '', 'base64')
        : Buffer.from(result.body ?? '', 'utf8');
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
      );
      return send(result.statusCode ?? 200, body, headers);
    } catch {
      // What HTTP API says when the function itself fails.
      return send(500, JSON.stringify({ message: 'Internal Server Error' }));
    }
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
