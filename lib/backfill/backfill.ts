/**
 * The backfill use case: hands to enrichment every call of a time window that the archive does
 * not hold whole, so calls whose webhooks were lost still arrive, and files CometChat produced
 * after a call was archived are fetched. docs/architecture.md ("The backfill") tells the steps:
 * window, paced walk, reconciliation, late transcripts, queue or manifest, forward-only checkpoint.
 */
import { randomBytes } from 'node:crypto';
import { STATUS_RANK } from '../calls/types.ts';
import type { CometChatClient } from '../cometchat/client.ts';
import type { EnrichmentMessage } from '../queue/message.ts';
import type { CallStore, CallSummary } from '../store/call-store.ts';
import {
  LATE_TRANSCRIPTS_CHECKPOINT,
  listsTranscripts,
  mayLackTranscripts,
  watchWindow,
} from './late-transcripts.ts';
import {
  type IncompleteReason,
  type ListedCall,
  type WalkLimits,
  type WalkObservation,
  type WalkSettings,
  walkCalls,
} from './list-walk.ts';
import type { ManifestSink, ManifestWriter, WrittenManifest } from './manifest.ts';
import type { Pacer } from './pacer.ts';
import { isoOf, parseBackfillInput, resolveWindow, type TimeWindow } from './window.ts';

/** The checkpoint this use case keeps (pk `BACKFILL`, sk `CHECKPOINT#list-calls`). */
export const BACKFILL_CHECKPOINT = 'list-calls';
/** Session ids a dry run returns at most (the Lambda response must stay small). */
export const DRY_RUN_SAMPLE = 1000;

/** The adapters the backfill works through. */
export interface BackfillDependencies {
  cometChat: Pick<CometChatClient, 'listCalls'>;
  store: Pick<CallStore, 'getCheckpoint' | 'putCheckpoint' | 'getSummaries'>;
  /** Sends messages to the enrichment queue; resolves once every one was accepted, else throws. */
  enqueue(messages: readonly EnrichmentMessage[], options?: { signal?: AbortSignal }): Promise<void>;
  /** Paces the List Calls requests to the request budget. */
  pacer: Pacer;
  /** The large-backlog path; without it every call goes to the queue. */
  manifests?: ManifestSink;
  /** Epoch ms; default `Date.now` (the pacer's clock). */
  now?: () => number;
  observe?: (observation: BackfillObservation) => void;
}

/** How a run goes: {@link BACKFILL_DEFAULTS} and the few variables a user tunes (lib/config.ts). */
export interface BackfillSettings {
  /** Seconds taken off the checkpoint when `from` is not given. */
  overlapSeconds: number;
  /** How far back a run with no checkpoint (and no `from`) goes. */
  lookbackSeconds: number;
  /**
   * A call still in progress holds the checkpoint back only this long after it was initiated,
   * so one stuck in `initiated` cannot pin it for ever.
   */
  holdSeconds: number;
  /** List Calls page size asked for. */
  perPage: number;
  /** Full walks when pages shift under one. */
  maxPasses: number;
  /** List Calls requests per run. */
  maxPages: number;
  /** Calls above this go to a manifest and the state machine (when `manifests` is given). */
  queueThreshold: number;
}

/** The settings no user needs to tune. */
export const BACKFILL_DEFAULTS = {
  /** A first run looks back one day. */
  lookbackSeconds: 86_400,
  holdSeconds: 86_400,
  // List Calls documents no paging parameters; the sibling Get Call Transcriptions documents
  // `page` and `perPage` (default 100, at most 1,000): ../shared/cometchat/api-facts.md.
  perPage: 100,
  maxPasses: 3,
  maxPages: 10_000,
} as const satisfies Partial<BackfillSettings>;

/** Per-invocation limits. */
export interface BackfillOptions {
  /** Epoch ms by which the run must be over (the Lambda's own deadline). */
  deadline?: number;
  signal?: AbortSignal;
  /** Names the manifest and the execution; default `backfill-<to>-<random>`. */
  runId?: string;
}

/** What a run did. `from`, `to` and `checkpoint` are ISO-8601 (UTC, second precision). */
export interface BackfillResult {
  from: string;
  to: string;
  /** List Calls pages read. */
  pages: number;
  /** Distinct calls of the window that List Calls returned. */
  listed: number;
  /** Calls sent to the enrichment queue (0 on a dry run and on the manifest path). */
  enqueued: number;
  /** The stored checkpoint after the run; null when there is none. */
  checkpoint: string | null;
  /** Whether this run moved the checkpoint. */
  checkpointAdvanced: boolean;
  /** Calls skipped because they are stored with a terminal status and every file listed. */
  skipped: number;
  /** Calls stored with a terminal status, enqueued again for files the listing shows and the archive lacks. */
  reconciled: number;
  /** Calls that need enrichment: `listed - skipped + transcriptRechecked` (`reconciled` included). */
  eligible: number;
  /**
   * The late-transcript walk (lib/backfill/late-transcripts.ts) looked at calls with transcripts
   * that ended from then on (ISO-8601): a day before its last complete walk, at most two before now.
   */
  transcriptFrom: string;
  /** List Calls pages read by the late-transcript walk (`hasTranscription=true`), besides `pages`. */
  transcriptPages: number;
  /** Calls with transcripts, ended since `transcriptFrom`, that the late-transcript walk found. */
  transcriptListed: number;
  /** Of those, calls enqueued for transcripts the archive lacks or may lack (not already taken above). */
  transcriptRechecked: number;
  /** Whether the late-transcript walk read every page; only then does its own checkpoint move. */
  transcriptComplete: boolean;
  dryRun: boolean;
  /** Whether the walk covered the whole window; when false the checkpoint stays where it was. */
  complete: boolean;
  incompleteReason?: IncompleteReason;
  /** Dry run only: the calls that would be enqueued (at most {@link DRY_RUN_SAMPLE}). */
  sessionIds?: string[];
  /** Manifest path only. */
  manifest?: WrittenManifest;
  /** Manifest path only: the state machine execution ARN. */
  execution?: string;
}

/** What a run reports as it goes (logged by the handler). */
export type BackfillObservation =
  | { kind: 'window'; from: string; to: string; defaultFrom: boolean; clamped: boolean }
  | (WalkObservation & { walk?: 'transcripts' })
  | { kind: 'too-large'; estimatedPages: number; pagesThatFit: number }
  | { kind: 'manifest'; bucket: string; key: string; count: number; execution: string }
  | { kind: 'enqueued'; count: number }
  | { kind: 'incomplete'; reason: IncompleteReason; walk?: 'transcripts' }
  | { kind: 'checkpoint'; mark: string; advanced: boolean };

/** Time kept back from the walk for enqueueing and the checkpoint: at least this much… */
const MIN_RESERVE_MS = 10_000;
/** …or this share of what is left, whichever is more. */
const RESERVE_SHARE = 0.2;

/** The enrichment work for one listed call. */
function messageFor(call: ListedCall): EnrichmentMessage {
  return {
    sessionId: call.sessionId,
    trigger: 'backfill',
    eventKey: `backfill:${call.sessionId}:${call.listedStatus}`,
  };
}

function defaultRunId(window: TimeWindow): string {
  const stamp = isoOf(window.to)
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `backfill-${stamp}-${randomBytes(4).toString('hex')}`;
}

/**
 * Where the work goes: kept in memory up to the threshold (for the queue), streamed into a
 * manifest beyond it. A dry run only counts, keeping a sample.
 */
class Backlog {
  readonly messages: EnrichmentMessage[] = [];
  count = 0;
  writer: ManifestWriter | undefined;
  /** Calls added that list transcripts: the only ones the late-transcript walk could add twice. */
  readonly withTranscripts = new Set<string>();

  constructor(
    private readonly threshold: number,
    private readonly manifests: ManifestSink | undefined,
    private readonly runId: string,
    private readonly dryRun: boolean,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async add(call: ListedCall): Promise<void> {
    const message = messageFor(call);
    this.count += 1;
    if (listsTranscripts(call.files)) this.withTranscripts.add(call.sessionId);
    if (this.dryRun) {
      if (this.messages.length < DRY_RUN_SAMPLE) this.messages.push(message);
      return;
    }
    if (this.writer) {
      await this.writer.write(message.sessionId);
      return;
    }
    this.messages.push(message);
    if (this.manifests && this.messages.length > this.threshold) {
      this.writer = this.manifests.open(this.runId, { signal: this.signal });
      for (const held of this.messages.splice(0)) await this.writer.write(held.sessionId);
    }
  }
}

/**
 * Runs one backfill. `event` is the invocation's input (`{from?, to?, dryRun?}`, or a Scheduled
 * Event). Throws `BackfillInputError` for a bad input, the client's errors for a CometChat
 * failure, `StorageError` when DynamoDB, SQS, S3 or Step Functions fail; on any throw the
 * checkpoint has not moved.
 */
export async function backfill(
  event: unknown,
  deps: BackfillDependencies,
  settings: BackfillSettings,
  options: BackfillOptions = {},
): Promise<BackfillResult> {
  const input = parseBackfillInput(event);
  const now = deps.now ?? Date.now;
  const signalOption = options.signal ? { signal: options.signal } : {};
  const stored = await deps.store.getCheckpoint(BACKFILL_CHECKPOINT, signalOption);
  const window = resolveWindow(input, {
    now: now(),
    checkpoint: stored?.highWaterMark,
    overlapSeconds: settings.overlapSeconds,
    lookbackSeconds: settings.lookbackSeconds,
  });
  deps.observe?.({
    kind: 'window',
    from: isoOf(window.from),
    to: isoOf(window.to),
    defaultFrom: window.defaultFrom,
    clamped: window.clamped,
  });

  const runId = options.runId ?? defaultRunId(window);
  const backlog = new Backlog(settings.queueThreshold, deps.manifests, runId, input.dryRun, options.signal);
  const holdFrom = Math.floor(now() / 1000) - settings.holdSeconds;
  let oldestInProgress: number | undefined;
  let skipped = 0;
  let reconciled = 0;

  const stopBy =
    options.deadline === undefined
      ? undefined
      : options.deadline - Math.max(MIN_RESERVE_MS, (options.deadline - now()) * RESERVE_SHARE);
  const walkSettings: WalkSettings = {
    perPage: settings.perPage,
    maxPasses: settings.maxPasses,
    maxPages: settings.maxPages,
  };
  const limits: WalkLimits = {
    ...(stopBy === undefined ? {} : { stopBy, deadline: (stopBy + (options.deadline ?? stopBy)) / 2 }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const observeWalk = (observation: WalkObservation) => {
    deps.observe?.(observation);
    if (
      observation.kind === 'page' &&
      observation.pass === 1 &&
      observation.page === 1 &&
      observation.totalPages !== undefined &&
      stopBy !== undefined
    ) {
      const pagesThatFit = Math.floor((stopBy - now()) / deps.pacer.intervalMs) + 1;
      if (observation.totalPages > pagesThatFit) {
        deps.observe?.({ kind: 'too-large', estimatedPages: observation.totalPages, pagesThatFit });
      }
    }
  };

  let walk: Awaited<ReturnType<typeof walkCalls>>;
  try {
    walk = await walkCalls(
      window,
      walkSettings,
      { listCalls: deps.cometChat.listCalls, pacer: deps.pacer, now, observe: observeWalk },
      async (calls) => {
        const summaries = await deps.store.getSummaries(
          calls.map((c) => c.sessionId),
          signalOption,
        );
        for (const call of calls) {
          const archived = summaries.get(call.sessionId);
          if (archived !== undefined && STATUS_RANK[archived.status] === 2) {
            if (!lacksFiles(call, archived)) {
              skipped += 1;
              continue;
            }
            reconciled += 1;
          }
          const inProgress = call.status === undefined || STATUS_RANK[call.status] < 2;
          if (inProgress && call.time !== undefined && call.time >= holdFrom) {
            oldestInProgress = Math.min(oldestInProgress ?? call.time, call.time);
          }
          await backlog.add(call);
        }
      },
      limits,
    );
  } catch (error) {
    await backlog.writer?.abort();
    throw error;
  }
  if (!walk.complete && walk.incompleteReason) {
    deps.observe?.({ kind: 'incomplete', reason: walk.incompleteReason });
  }

  // Transcripts appear hours after a call the window has long left: a second walk, filtered to
  // calls with transcripts, looks at those that ended within the watch (its cost: docs/operations.md).
  const lastWalk = await deps.store.getCheckpoint(LATE_TRANSCRIPTS_CHECKPOINT, signalOption);
  const watch = watchWindow(Math.floor(now() / 1000), lastWalk?.highWaterMark);
  let transcriptListed = 0;
  let transcriptRechecked = 0;
  let late: Awaited<ReturnType<typeof walkCalls>>;
  try {
    late = await walkCalls(
      watch,
      {
        ...walkSettings,
        maxPages: Math.max(0, settings.maxPages - walk.pages),
        filters: { hasTranscription: 'true' },
        placeBy: 'end',
      },
      {
        listCalls: deps.cometChat.listCalls,
        pacer: deps.pacer,
        now,
        observe: (observation) => deps.observe?.({ ...observation, walk: 'transcripts' }),
      },
      async (calls) => {
        const transcribed = calls.filter((c) => listsTranscripts(c.files));
        transcriptListed += transcribed.length;
        const candidates = transcribed.filter((c) => !backlog.withTranscripts.has(c.sessionId));
        if (candidates.length === 0) return;
        const summaries = await deps.store.getSummaries(
          candidates.map((c) => c.sessionId),
          signalOption,
        );
        for (const call of candidates) {
          if (!mayLackTranscripts(call.files, summaries.get(call.sessionId))) continue;
          transcriptRechecked += 1;
          await backlog.add(call);
        }
      },
      limits,
    );
  } catch (error) {
    await backlog.writer?.abort();
    throw error;
  }
  if (!late.complete && late.incompleteReason) {
    deps.observe?.({ kind: 'incomplete', reason: late.incompleteReason, walk: 'transcripts' });
  }

  const result: BackfillResult = {
    from: isoOf(window.from),
    to: isoOf(window.to),
    pages: walk.pages,
    listed: walk.listed,
    enqueued: 0,
    checkpoint: stored ? isoOf(stored.highWaterMark) : null,
    checkpointAdvanced: false,
    skipped,
    reconciled,
    eligible: backlog.count,
    transcriptFrom: isoOf(watch.from),
    transcriptPages: late.pages,
    transcriptListed,
    transcriptRechecked,
    transcriptComplete: late.complete,
    dryRun: input.dryRun,
    complete: walk.complete,
    ...(walk.incompleteReason ? { incompleteReason: walk.incompleteReason } : {}),
  };
  if (input.dryRun) return { ...result, sessionIds: backlog.messages.map((m) => m.sessionId) };

  if (backlog.writer && deps.manifests) {
    const manifest = await backlog.writer.close();
    const execution = await deps.manifests.start(manifest, runId, signalOption);
    deps.observe?.({ kind: 'manifest', ...manifest, execution });
    result.manifest = manifest;
    result.execution = execution;
  } else if (backlog.messages.length > 0) {
    await deps.enqueue(backlog.messages, signalOption);
    result.enqueued = backlog.messages.length;
    deps.observe?.({ kind: 'enqueued', count: result.enqueued });
  }

  // Everything the late-transcript walk found is enqueued: the next run may watch from here.
  if (late.complete) {
    await deps.store.putCheckpoint(LATE_TRANSCRIPTS_CHECKPOINT, watch.to, new Date(now()), signalOption);
  }

  // A window that starts after the checkpoint leaves a gap it must not paper over.
  const contiguous = stored === undefined || window.from <= stored.highWaterMark;
  if (walk.complete && contiguous) {
    const mark = Math.min(window.to, oldestInProgress ?? window.to);
    const advanced = await deps.store.putCheckpoint(BACKFILL_CHECKPOINT, mark, new Date(now()), signalOption);
    deps.observe?.({ kind: 'checkpoint', mark: isoOf(mark), advanced });
    result.checkpoint = isoOf(Math.max(mark, stored?.highWaterMark ?? mark));
    result.checkpointAdvanced = advanced;
  }
  return result;
}

/**
 * Whether the listing shows files the stored call lacks: more recordings (or `hasRecording` with
 * none stored), more transcripts (or `hasTranscription` with none). A listing that matches what
 * is stored, or shows less (the archive keeps what it once had), asks for nothing.
 */
export function lacksFiles(call: ListedCall, stored: CallSummary): boolean {
  const { files } = call;
  const recordings = Math.max(files.recordings ?? 0, files.hasRecording ? 1 : 0);
  const transcripts = Math.max(files.transcripts ?? 0, files.hasTranscription ? 1 : 0);
  return recordings > stored.recordings || transcripts > stored.transcripts;
}
