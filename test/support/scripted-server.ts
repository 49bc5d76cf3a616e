/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) whose answers a test scripts step by step,
 * recording every request it receives. After the last step, the last step repeats.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** How the server answers one request. */
export type Step = (req: IncomingMessage, res: ServerResponse) => void;

/** A running scripted server. */
export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  /** Replaces the script: request n gets step n, later requests the last step. */
  script(...steps: Step[]): void;
  close(): Promise<void>;
}

/** Answers with JSON (an object, or a raw string sent as is). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Step {
  return (_req, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(text);
  };
}

/** The request's body as text, once it has all arrived. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/**
 * Answers as an AWS JSON 1.1 service does (EventBridge's PutEvents), after handing the request's
 * body to `take`.
 */
export function awsJson(
  status: number,
  body: unknown,
  take: (requestBody: string) => void = () => {},
  headers: Record<string, string> = {},
): Step {
  return (req, res) => {
    void readBody(req).then((text) => {
      take(text);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers });
      res.end(JSON.stringify(body));
    });
  };
}

/** Answers with a body of any type. */
export function raw(status: number, body: string, headers: Record<string, string> = {}): Step {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

/** Drops the connection without answering (the client sees a reset / socket hang up). */
export function destroy(): Step {
  return (req) => {
    req.socket.destroy();
  };
}

/** Never answers; the connection stays open until the client gives up or the server closes. */
export function hang(): Step {
  return () => {};
}

/** Sends headers and part of a JSON body, then drops the connection. */
export function truncated(status: number, partialBody: string): Step {
  return (_req, res) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(partialBody.length + 100),
    });
    res.write(partialBody, () => res.socket?.destroy());
  };
}

/** Starts a scripted server; close it in afterEach/afterAll. */
export async function startScriptedServer(): Promise<ScriptedServer> {
  let steps: Step[] = [];
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const step = steps[Math.min(requests.length - 1, steps.length - 1)];
    if (step) step(req, res);
    else raw(500, 'no step scripted')(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    script(...next) {
      steps = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
