/**
 * A CometChat Calls API simulator over real HTTP (node:http), for `npm start` without real
 * credentials, the integration tests and the benchmarks. Not deployed. One server on 127.0.0.1
 * carries both the API (`/v3/calls…`, api.ts) and the recording host (`/recordings/…`,
 * recording-host.ts), over one set of calls (calls.ts). It prints nothing, and never puts the API
 * key or a signed query string in a response body or the request log.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { CallsApi, errorBody, json, type ListCallsRequest } from './api.ts';
import { CallRegistry, type SimulatedCall, type SimulatedTranscript } from './calls.ts';
import type { Fault, FaultMatch, RecordingFault } from './faults.ts';
import { RecordingHost, type RecordingHostSettings, type RecordingRequestHook } from './recording-host.ts';
import { RequestLog, type SimulatorRequest } from './request-log.ts';
import { SAMPLE_API_KEY, SAMPLE_APP_ID } from './sample-calls.ts';

export { LIST_FILTERS, type ListCallsRequest } from './api.ts';
export type { SimulatedCall, SimulatedRecording, SimulatedTranscript } from './calls.ts';
export { type RecordingSlice, recordingStream, transcriptContent } from './content.ts';
export type { Fault, FaultMatch, RecordingFault } from './faults.ts';
export type { RecordingHostSettings, RecordingRequest, RecordingRequestHook } from './recording-host.ts';
export type { SimulatorRequest } from './request-log.ts';
export { SAMPLE_API_KEY, SAMPLE_APP_ID, sampleCalls } from './sample-calls.ts';

/** A recording's file as the host serves it now. */
export interface RecordingFile {
  bytes: number;
  etag: string;
  /** An HTTP date. */
  lastModified: string;
  /** Bytes `[start, end)` of the current content; default the whole file. */
  content(start?: number, end?: number): Readable;
}

/** A running simulator. */
export interface CometChatSimulator {
  /** `http://127.0.0.1:<port>/v3`. */
  readonly baseUrl: string;
  /** `127.0.0.1:<port>`: what RECORDING_ALLOWED_HOSTS must list. */
  readonly recordingsHost: string;
  readonly appId: string;
  readonly apiKey: string;
  readonly region: 'us' | 'eu' | 'in';
  /** Adds a call, replacing any call with the same session id. */
  addCall(call: SimulatedCall): void;
  /** Merges fields into a call's raw object (e.g. status ongoing -> ended); `undefined` deletes. */
  updateCall(sessionId: string, raw: Partial<Record<string, unknown>>): void;
  removeCall(sessionId: string): void;
  /** Adds transcripts to a call; with `availableFrom`, they appear only from then on. */
  addTranscripts(sessionId: string, transcripts: readonly SimulatedTranscript[]): void;
  /** Session ids in the order they were added. */
  sessionIds(): string[];
  /** Queues one-shot faults for the next API requests matching `match`, used in order. */
  failNext(match: FaultMatch, ...faults: Fault[]): void;
  /** Queues one-shot faults for the next downloads of recording `rid`, used in order. */
  failNextRecording(rid: string, ...faults: RecordingFault[]): void;
  /**
   * Calls `hook` before each List Calls page is built (after auth, faults and rate limits), so
   * it can add, update or remove calls mid-walk. `undefined` removes it.
   */
  onListCalls(hook: ((request: ListCallsRequest) => void) | undefined): void;
  /**
   * Calls `hook` for each download of a known recording that has no queued fault; a fault it returns
   * is applied like a queued one (e.g. 401 for every request). `undefined` removes it.
   */
  onRecordingRequest(hook: RecordingRequestHook | undefined): void;
  /** The most recording bodies streaming at once since the last reset. */
  mostRecordingsAtOnce(): number;
  /** Changes how the recording host serves: every file, or (with `rid`) one file over the host's settings. */
  configureRecordingHost(settings: RecordingHostSettings, rid?: string): void;
  /**
   * Gives recording `rid` new content ("the source changed"), optionally of a new size: a new
   * ETag and a later Last-Modified. URLs already issued still work and serve the new content.
   */
  replaceRecordingContent(rid: string, bytes?: number): void;
  /** Every URL issued so far for recording `rid` (or all) answers 403; Get Call issues fresh ones. */
  expireRecordingUrls(rid?: string): void;
  /** Recording `rid`'s file as served now. Throws for an unknown rid. */
  recordingFile(rid: string): RecordingFile;
  /** Body bytes the recording host handed to connections for `rid` (or all), since the last reset. */
  bytesServed(rid?: string): number;
  /** Resolves once `bytesServed(rid)` reaches `bytes` (rejects if the simulator closes first). */
  waitForBytesServed(bytes: number, rid?: string): Promise<void>;
  /** Every request answered (or reset, or left hanging), oldest first. */
  readonly requests: ReadonlyArray<SimulatorRequest>;
  /** Empties the request log, and with it the byte counts and the most bodies at once. */
  resetRequests(): void;
  /** Resolves once the log holds at least `count` entries (rejects if the simulator closes first). */
  waitForRequests(count: number): Promise<void>;
  /** Stops listening and destroys every socket, hanging and streaming ones included. */
  close(): Promise<void>;
}

/** Options for {@link startCometChatSimulator}. */
export interface CometChatSimulatorOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default {@link SAMPLE_APP_ID}. */
  appId?: string;
  /** Default {@link SAMPLE_API_KEY}. */
  apiKey?: string;
  /** Default `us`. */
  region?: 'us' | 'eu' | 'in';
  calls?: SimulatedCall[];
  /** Default true; when false, recording URLs carry no query string and are not checked. */
  signRecordingUrls?: boolean;
  /** Default 86 400 (CloudFront chat media's one day). */
  recordingUrlTtlSeconds?: number;
  /** How the recording host serves files (ranges, length, speed); default: ranges, lengths, no limit. */
  recordingHost?: RecordingHostSettings;
  /** When set, API requests beyond this many per clock minute get 429. */
  rateLimitPerMinute?: number;
  /** Header family on API answers when rate limiting: documented current (default) or legacy. */
  rateLimitHeaders?: 'X-RateLimit' | 'X-Rate-Limit';
  /** Milliseconds since the epoch; default `Date.now`. Lets tests expire URLs and rate windows. */
  clock?: () => number;
  /**
   * List Calls query parameters read as inclusive bounds (Unix seconds) on `initiatedAt`, e.g.
   * `{ from: 'initiatedAfter', to: 'initiatedBefore' }`. A parameter named here is not also an
   * exact-match filter. Default: none.
   */
  listWindowParams?: { from?: string; to?: string };
}

class Simulator implements CometChatSimulator {
  readonly baseUrl: string;
  readonly recordingsHost: string;
  readonly appId: string;
  readonly apiKey: string;
  readonly region: 'us' | 'eu' | 'in';

  private readonly log = new RequestLog();
  private readonly calls: CallRegistry;
  private readonly host: RecordingHost;
  private readonly api: CallsApi;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: ReturnType<typeof createServer>,
    private readonly sockets: Set<Socket>,
    port: number,
    options: CometChatSimulatorOptions,
  ) {
    this.recordingsHost = `127.0.0.1:${port}`;
    this.baseUrl = `http://${this.recordingsHost}/v3`;
    this.appId = options.appId ?? SAMPLE_APP_ID;
    this.apiKey = options.apiKey ?? SAMPLE_API_KEY;
    this.region = options.region ?? 'us';
    const clock = options.clock ?? Date.now;
    this.calls = new CallRegistry(clock);
    this.host = new RecordingHost(this.calls, this.log, {
      origin: `http://${this.recordingsHost}`,
      sign: options.signRecordingUrls ?? true,
      ttlSeconds: options.recordingUrlTtlSeconds ?? 86_400,
      clock,
      settings: {},
    });
    if (options.recordingHost) this.host.configure(options.recordingHost);
    this.api = new CallsApi(this.calls, this.host, this.log, {
      apiKey: this.apiKey,
      recordingUrlTtlSeconds: options.recordingUrlTtlSeconds ?? 86_400,
      rateLimitPerMinute: options.rateLimitPerMinute,
      rateLimitHeaders: options.rateLimitHeaders ?? 'X-RateLimit',
      clock,
      listWindowParams: { ...options.listWindowParams },
    });
    for (const call of options.calls ?? []) this.addCall(call);
  }

  get requests(): ReadonlyArray<SimulatorRequest> {
    return this.log.entries;
  }

  addCall(call: SimulatedCall): void {
    this.calls.add(call);
  }

  updateCall(sessionId: string, raw: Partial<Record<string, unknown>>): void {
    this.calls.update(sessionId, raw);
  }

  removeCall(sessionId: string): void {
    this.calls.remove(sessionId);
  }

  addTranscripts(sessionId: string, transcripts: readonly SimulatedTranscript[]): void {
    this.calls.addTranscripts(sessionId, transcripts);
  }

  sessionIds(): string[] {
    return this.calls.sessionIds();
  }

  failNext(match: FaultMatch, ...faults: Fault[]): void {
    this.api.fail(match, faults);
  }

  failNextRecording(rid: string, ...faults: RecordingFault[]): void {
    this.host.fail(rid, faults);
  }

  onListCalls(hook: ((request: ListCallsRequest) => void) | undefined): void {
    this.api.onListCalls(hook);
  }

  onRecordingRequest(hook: RecordingRequestHook | undefined): void {
    this.host.onRequest(hook);
  }

  mostRecordingsAtOnce(): number {
    return this.log.mostBodiesAtOnce();
  }

  configureRecordingHost(settings: RecordingHostSettings, rid?: string): void {
    this.host.configure(settings, rid);
  }

  replaceRecordingContent(rid: string, bytes?: number): void {
    this.calls.replaceContent(rid, bytes);
  }

  expireRecordingUrls(rid?: string): void {
    this.host.expire(rid);
  }

  recordingFile(rid: string): RecordingFile {
    const file = this.host.file(rid);
    if (!file) throw new Error(`no simulated recording ${rid}`);
    return {
      bytes: file.size,
      etag: file.etag,
      lastModified: new Date(file.lastModified).toUTCString(),
      content: (start = 0, end = file.size) => file.read(start, end),
    };
  }

  bytesServed(rid?: string): number {
    return this.log.bytesServed(rid);
  }

  waitForBytesServed(bytes: number, rid?: string): Promise<void> {
    return this.log.waitForBytes(bytes, rid);
  }

  resetRequests(): void {
    this.log.reset();
  }

  waitForRequests(count: number): Promise<void> {
    return this.log.waitFor(count);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
      this.log.close();
    });
    return this.closing;
  }

  /** Entry point for every request; never throws (a bug answers 500 rather than crashing a test run). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
    const other = (status: number) =>
      this.log.add({ method: req.method ?? 'GET', path, status, kind: 'other' });
    try {
      if (path.startsWith('/recordings/')) this.host.handle(req, res, path, query);
      else if (path === '/v3/calls' || path.startsWith('/v3/calls/')) this.api.handle(req, res, path, query);
      else {
        json(res, 404, errorBody('ERR_ROUTE_NOT_FOUND', 'No such route.'));
        other(404);
      }
    } catch {
      if (!res.headersSent) json(res, 500, errorBody('ERR_INTERNAL', 'Simulator error.'));
      else res.destroy();
      other(500);
    }
  }
}

/** Starts the simulator on 127.0.0.1 (ephemeral port unless `port` is given). */
export async function startCometChatSimulator(
  options: CometChatSimulatorOptions = {},
): Promise<CometChatSimulator> {
  const sockets = new Set<Socket>();
  let simulator: Simulator | undefined;
  const server = createServer((req, res) => {
    if (simulator) simulator.handle(req, res);
    else res.destroy();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  try {
    simulator = new Simulator(server, sockets, port, options);
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  return simulator;
}
