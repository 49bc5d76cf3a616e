/**
 * Fetches one part of a recording by HTTP Range into a buffer, vetted, pinned and
 * redirect-checked like every download (range-read.ts). A part that fails or arrives short is
 * fetched again alone (bounded attempts, backoff); a 401/403 asks for a fresh URL first, since
 * signed media URLs can expire in the middle of a long copy.
 */
import { backoffDelayMs, sleep } from '../backoff.ts';
import { RecordingDownloadError, RecordingRejectedError } from '../errors.ts';
import { type RangeHead, readRange } from './range-read.ts';
import type { UrlPolicy } from './url-policy.ts';

/** The file's identity as first seen: a part that disagrees means the file changed underneath. */
export interface SourceIdentity {
  totalBytes: number;
  etag?: string;
  lastModified?: string;
}

/** The file changed between two requests (length or validators differ): starting over is the only fix. */
export class SourceChangedError extends RecordingDownloadError {}

/** Where the download currently points; `refresh` moves it to a fresh URL or throws. */
export interface UrlSource {
  current(): { url: string; generation: number };
  /** Called with the generation that was refused; resolves once a newer URL is current. */
  refresh(refused: number, error: RecordingDownloadError): Promise<void>;
}

/** How parts are fetched. */
export interface PartFetcherOptions {
  policy: UrlPolicy;
  urls: UrlSource;
  identity: SourceIdentity;
  timeoutMs?: number;
  /** Tries per part, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

/** Default tries per part. */
export const DEFAULT_PART_ATTEMPTS = 4;
/** Fresh URLs one part may ask for before its 401/403 counts as final. */
const MAX_REFRESHES_PER_PART = 2;

/** Fetches byte range `[start, end]` into `buffer` (from offset 0). */
export type PartFetcher = (
  range: { start: number; end: number },
  buffer: Buffer,
  options: { signal?: AbortSignal },
) => Promise<void>;

function sameValidator(first: string | undefined, now: string | undefined): boolean {
  // A host may drop a validator on one answer; only two different values prove a change.
  return first === undefined || now === undefined || first.replace(/^W\//, '') === now.replace(/^W\//, '');
}

/** Checks that an answer is exactly the asked-for range of the same file. */
export function checkPartResponse(
  head: RangeHead,
  range: { start: number; end: number },
  identity: SourceIdentity,
): void {
  const host = head.finalUrl.host;
  const { contentRange } = head;
  if (head.status !== 206 || !contentRange) {
    throw new RecordingDownloadError(
      `recording host ${host} ignored the Range of a part (HTTP ${head.status})`,
    );
  }
  if (
    (contentRange.total !== undefined && contentRange.total !== identity.totalBytes) ||
    !sameValidator(identity.etag, head.etag) ||
    !sameValidator(identity.lastModified, head.lastModified)
  ) {
    throw new SourceChangedError(`the recording at host ${host} changed during the copy`);
  }
  if (contentRange.start !== range.start || contentRange.end !== range.end) {
    throw new RecordingDownloadError(
      `recording host ${host} answered bytes ${contentRange.start}-${contentRange.end} for ${range.start}-${range.end}`,
    );
  }
}

/** A fetcher with retries and URL refresh. */
export function createPartFetcher(options: PartFetcherOptions): PartFetcher {
  const attempts = Math.max(1, options.attempts ?? DEFAULT_PART_ATTEMPTS);
  const random = options.random ?? Math.random;
  return async (range, buffer, { signal }) => {
    let refreshes = 0;
    for (let attempt = 1; ; attempt += 1) {
      const { url, generation } = options.urls.current();
      try {
        const head = await readRange(
          url,
          {
            policy: options.policy,
            range,
            ...(signal && { signal }),
            ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
          },
          buffer,
          (answer) => checkPartResponse(answer, range, options.identity),
        );
        // A 200 is returned unread: the host stopped honouring Range.
        checkPartResponse(head, range, options.identity);
        return;
      } catch (error) {
        if (
          error instanceof SourceChangedError ||
          error instanceof RecordingRejectedError ||
          !(error instanceof RecordingDownloadError) ||
          signal?.aborted
        ) {
          throw error;
        }
        if ((error.statusCode === 401 || error.statusCode === 403) && refreshes < MAX_REFRESHES_PER_PART) {
          // Not a failed attempt of the part: the URL expired. `refresh` throws when there is no newer one.
          refreshes += 1;
          attempt -= 1;
          await options.urls.refresh(generation, error);
          continue;
        }
        if (attempt >= attempts) throw error;
        await sleep(
          backoffDelayMs(attempt - 1, options.baseDelayMs ?? 200, options.maxDelayMs ?? 3_000, random),
          signal,
        );
      }
    }
  };
}
