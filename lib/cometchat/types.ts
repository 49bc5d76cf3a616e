/**
 * The CometChat Calls REST client's public types. The call payload stays raw here: validating
 * and normalising it is lib/calls' job, which has to accept every documented variant anyway.
 */

/** Raw call object as CometChat sends it (validated later by lib/calls normalisation). */
export type RawCall = Record<string, unknown>;

/** List Calls' `meta.pagination`, camelCased; a field CometChat left out is absent. */
export interface Pagination {
  total?: number;
  count?: number;
  perPage?: number;
  currentPage?: number;
  totalPages?: number;
}

/** One page of List Calls. */
export interface ListCallsResult {
  calls: RawCall[];
  pagination: Pagination;
}

/** List Calls query: page, page size and CometChat's filters (`type`, `status`, `startedAt`, …). */
export interface ListCallsParams {
  page?: number;
  perPage?: number;
  /** Sent as query parameters; they cannot override the page parameters. */
  filters?: Record<string, string | number | boolean>;
}

/** Per-call limits. */
export interface RequestOptions {
  /** Epoch ms by which the whole call, retries included, must finish. */
  deadline?: number;
  /** Aborts the call (and any wait between attempts). */
  signal?: AbortSignal;
}

/** How to reach CometChat and how hard to try. */
export interface CometChatClientOptions {
  /** e.g. `https://{appId}.call-{region}.cometchat.io/v3`, or a simulator's `http://127.0.0.1:port/v3`. */
  baseUrl: string;
  /** The REST key, or a provider called once per request (the deployed one caches an SSM value). */
  apiKey: string | (() => Promise<string>);
  /** Sent as the `onBehalfOf` header when set. */
  onBehalfOf?: string;
  /** Per attempt; default 5000. */
  requestTimeoutMs?: number;
  /** Attempts in all (1 try + retries); default 4. */
  maxAttempts?: number;
  /** Full-jitter exponential backoff: default 250. */
  baseDelayMs?: number;
  /** Cap of one backoff delay: default 8000. */
  maxDelayMs?: number;
  /**
   * Longest wait CometChat may ask for (Retry-After, rate-limit reset) that the client will sit
   * through; a longer one ends the call at once with the typed error, so the queue or workflow
   * retries later instead of a Lambda idling. Default 60000.
   */
  maxServerWaitMs?: number;
  /** List Calls' page query parameter; default `page`. */
  pageParam?: string;
  /** List Calls' page-size query parameter; default `perPage`. */
  perPageParam?: string;
  /** Injectable for tests; default the global fetch. */
  fetch?: typeof fetch;
  /** Injectable for tests; must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injectable for tests; a number in [0, 1). */
  random?: () => number;
  /** Injectable for tests; epoch ms. */
  now?: () => number;
}

/** One page of a call's transcripts (`GET /calls/{sessionId}/transcriptions`), newest first. */
export interface ListTranscriptionsResult {
  /** Raw transcript items as sent (validated later by lib/calls normalisation). */
  transcripts: unknown[];
  pagination: Pagination;
}

/** The Calls API reads the pipeline needs. */
export interface CometChatClient {
  /** Get Call: the call object, whether CometChat wraps it in an array or not. */
  getCall(sessionId: string, options?: RequestOptions): Promise<RawCall>;
  /** List Calls: one page of raw calls and its pagination. */
  listCalls(params?: ListCallsParams, options?: RequestOptions): Promise<ListCallsResult>;
  /** List Transcriptions: one page (`page`, `perPage`, max 1000) of a call's transcripts. */
  listTranscriptions(
    sessionId: string,
    params?: { page?: number; perPage?: number },
    options?: RequestOptions,
  ): Promise<ListTranscriptionsResult>;
}
