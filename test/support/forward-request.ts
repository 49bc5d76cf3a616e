/** Passing one request through a test proxy to the real local service behind it. */
import { type IncomingMessage, request, type ServerResponse } from 'node:http';

/**
 * Passes one request through to `upstream` and its answer back, as is. A client that gives up (an
 * aborted upload) is passed on too: s3rver would otherwise wait for the rest of the body and keep
 * its connection open.
 */
export function forwardRequest(upstream: URL, req: IncomingMessage, res: ServerResponse): void {
  const onward = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: false,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  onward.on('error', () => res.destroy());
  req.on('close', () => {
    if (!req.complete) onward.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) onward.destroy();
  });
  req.pipe(onward);
}
