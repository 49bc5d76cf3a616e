/**
 * The enrichment use case's orchestration, driven through small in-memory adapters. The real
 * CometChat client, DynamoDB store and S3 copier are exercised together in
 * test/integration/enrich-call.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import type { CallDraft, CallItem, RecordingEntry, RecordingSource } from '../../../lib/calls/types.ts';
import type { RawCall, RequestOptions } from '../../../lib/cometchat/types.ts';
import { type EnrichDependencies, type EnrichObservation, enrichCall } from '../../../lib/enrich/enrich.ts';
import {
  CallNotFoundError,
  CometChatUnavailableError,
  InvalidCallDataError,
  InvalidInputError,
  RecordingDownloadError,
  RecordingRejectedError,
  StorageError,
} from '../../../lib/errors.ts';
import type {
  CopyRecordingInput,
  CopyRecordingResult,
  RecordingCopier,
} from '../../../lib/recordings/copy-recording.ts';
import type { SaveOutcome, StoredCall } from '../../../lib/store/call-store.ts';
import { rejectionOf } from '../../support/errors.ts';

const SESSION = 'v1.us.31780434a95d45.unit-test-session';
const BUCKET = 'call-recordings';
const NOW = new Date('2024-05-06T07:08:09.000Z');

interface RecordingSpec {
  rid: string;
  /** Distinguishes one signed URL from its refreshed replacement. */
  version?: string;
}

/** A Get Call `data` object as CometChat sends it. */
function rawCall(
  options: { status?: string; recordings?: RecordingSpec[]; participants?: number } = {},
): RawCall {
  const { status = 'ended', recordings = [], participants = 2 } = options;
  return {
    sessionId: SESSION,
    type: 'video',
    mode: 'call',
    status,
    initiatedAt: 1_715_932_000,
    startedAt: 1_715_932_004,
    endedAt: 1_715_932_316,
    participants: Array.from({ length: participants }, (_, i) => ({ uid: `user-${i + 1}`, isJoined: true })),
    hasRecording: recordings.length > 0,
    recordings: recordings.map(({ rid, version = 'v1' }, i) => ({
      rid,
      recording_url: signedUrl(rid, version),
      startTime: 1_715_932_010 + i,
      endTime: 1_715_932_300 + i,
    })),
  };
}

function signedUrl(rid: string, version: string): string {
  return `https://recordings.cometchat.io/${rid}.mp4?Expires=1&Signature=${version}`;
}

/** Everything the adapters were asked, in order. */
type Step =
  | { op: 'getCall'; sessionId: string; options: RequestOptions | undefined }
  | { op: 'load'; sessionId: string }
  | { op: 'recordings' }
  | {
      op: 'copy';
      rid: string;
      url: string;
      existing: RecordingEntry | undefined;
      signal: AbortSignal | undefined;
    }
  | { op: 'manifest'; key: string; revision: number }
  | { op: 'markPublished'; revision: number }
  | {
      op: 'save';
      input: CallDraft;
      previous: StoredCall | undefined;
      now: Date | undefined;
      signal: AbortSignal | undefined;
    };

type CopyBehaviour = (input: CopyRecordingInput) => CopyRecordingResult | Error;

interface Harness {
  deps: EnrichDependencies;
  steps: Step[];
  observed: EnrichObservation[];
  ops(): Step['op'][];
  copies(): { rid: string; url: string }[];
  /** What save() was handed; fails the test when it was not called. */
  saved(): Extract<Step, { op: 'save' }>;
}

function copiedItem(
  input: Pick<CopyRecordingInput, 'sessionId' | 'source'>,
  bytes = 1000,
): CopyRecordingResult {
  const { sessionId, source } = input;
  return {
    copied: true,
    entry: {
      rid: source.rid,
      sourceUrl: source.sourceUrl,
      bucket: BUCKET,
      key: `recordings/${sessionId}/${source.rid}.mp4`,
      bytes,
      sha256: `sha-of-${source.rid}`,
      contentType: 'video/mp4',
      copiedAt: NOW.toISOString(),
    },
  };
}

function storedFrom(draft: CallDraft, overrides: Partial<CallDraft> = {}): StoredCall {
  return { call: { ...draft, ...overrides, enrichedAt: NOW.toISOString(), revision: 1 }, index: [] };
}

/** A stored call with nothing in it but `overrides`. */
function storedCall(overrides: Partial<CallDraft>): StoredCall {
  return storedFrom({
    pk: `CALL#${SESSION}`,
    sk: 'CALL',
    entity: 'call',
    sessionId: SESSION,
    status: 'ended',
    hasRecording: false,
    participants: [],
    recordings: [],
    transcripts: [],
    ...overrides,
  });
}

/**
 * In-memory adapters. `calls` are Get Call answers in order (the last one repeats); `copy`
 * decides each copy attempt in order (the last one repeats; default: copied).
 */
function harness(
  options: {
    calls?: (RawCall | Error)[];
    copy?: CopyBehaviour[];
    previous?: StoredCall;
    load?: Error;
    save?: (input: CallDraft) => { outcome: SaveOutcome; call: CallItem } | Error;
  } = {},
): Harness {
  const steps: Step[] = [];
  const observed: EnrichObservation[] = [];
  const calls = options.calls ?? [rawCall()];
  const behaviours = options.copy ?? [(input) => copiedItem(input)];
  let callIndex = 0;
  let copyIndex = 0;

  const attempt = (input: CopyRecordingInput, source: RecordingSource, signal?: AbortSignal) => {
    steps.push({ op: 'copy', rid: source.rid, url: source.url, existing: input.existing, signal });
    const behaviour = behaviours[Math.min(copyIndex++, behaviours.length - 1)] as CopyBehaviour;
    const outcome = behaviour({ ...input, source });
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  // As the real copier does: after a 401/403, once, with the source refreshSource gives.
  const copier: RecordingCopier = {
    async copy(input, copyOptions) {
      try {
        return attempt(input, input.source, copyOptions?.signal);
      } catch (error) {
        const status = error instanceof RecordingDownloadError ? error.statusCode : undefined;
        const fresh = status === 401 || status === 403 ? await input.refreshSource?.() : undefined;
        if (!fresh) throw error;
        return attempt(input, fresh, copyOptions?.signal);
      }
    },
  };

  const deps: EnrichDependencies = {
    cometChat: {
      async getCall(sessionId, requestOptions) {
        steps.push({ op: 'getCall', sessionId, options: requestOptions });
        const answer = calls[Math.min(callIndex++, calls.length - 1)] as RawCall | Error;
        if (answer instanceof Error) throw answer;
        return structuredClone(answer);
      },
      async listTranscriptions() {
        throw new Error('no call in these tests has transcripts');
      },
    },
    store: {
      async load(sessionId) {
        steps.push({ op: 'load', sessionId });
        if (options.load) throw options.load;
        return options.previous;
      },
      async save(input, saveOptions) {
        const { previous, now, signal } = saveOptions;
        steps.push({ op: 'save', input, previous, now, signal });
        const result = options.save?.(input) ?? { outcome: 'created' as const, call: storedFrom(input).call };
        if (result instanceof Error) throw result;
        return result;
      },
      async markPublished(_sessionId, revision) {
        steps.push({ op: 'markPublished', revision });
        return true;
      },
    },
    manifests: async () => ({
      bucket: BUCKET,
      async put(key, manifest) {
        steps.push({ op: 'manifest', key, revision: manifest.call.revision });
      },
      keys: () => {
        throw new Error('not used by enrichment');
      },
      get: async () => {
        throw new Error('not used by enrichment');
      },
    }),
    // Analytics writes are ordered with the manifest in publish.test.ts.
    analytics: async () => async () => undefined,
    recordings: vi.fn(async () => {
      steps.push({ op: 'recordings' });
      return copier;
    }),
    transcripts: async () => {
      throw new Error('no call in these tests has transcripts');
    },
    folderOf: ({ sessionId }) => `recordings/${sessionId}/`,
    now: () => NOW,
    observe: (event) => observed.push(event),
  };

  return {
    deps,
    steps,
    observed,
    ops: () => steps.map((step) => step.op),
    copies: () => steps.flatMap((step) => (step.op === 'copy' ? [{ rid: step.rid, url: step.url }] : [])),
    saved: () => {
      const save = steps.find((step) => step.op === 'save');
      if (!save) throw new Error('save() was not called');
      return save;
    },
  };
}

function downloadError(statusCode: number): RecordingDownloadError {
  return new RecordingDownloadError(`recording download answered ${statusCode}`, { statusCode });
}

describe('enrichCall', () => {
  it.each([
    ['no event', undefined],
    ['a null event', null],
    ['no sessionId', {}],
    ['an empty sessionId', { sessionId: '' }],
    ['a numeric sessionId', { sessionId: 42 }],
    ['an over-long sessionId', { sessionId: 'x'.repeat(257) }],
    ['a sessionId with a control character', { sessionId: 'v1.us.a\nb' }],
  ])('throws InvalidInputError before calling any adapter for %s', async (_, event) => {
    const h = harness();

    const error = await rejectionOf(enrichCall(event, h.deps));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(h.steps).toEqual([]);
    expect(h.observed).toEqual([]);
  });

  it('fetches, loads, copies, saves, then writes the manifest and marks it written, in that order', async () => {
    const h = harness({ calls: [rawCall({ recordings: [{ rid: 'r1' }, { rid: 'r2' }] })] });

    await enrichCall({ sessionId: SESSION }, h.deps);

    expect(h.ops()).toEqual([
      'getCall',
      'load',
      'recordings',
      'copy',
      'copy',
      'save',
      'manifest',
      'markPublished',
    ]);
    expect(h.steps).toContainEqual({ op: 'manifest', key: `recordings/${SESSION}/call.json`, revision: 1 });
    expect(h.saved().input.manifestKey).toBe(`recordings/${SESSION}/call.json`);
  });

  it('sends nothing when the call is unchanged and its manifest was written', async () => {
    const draft = storedCall({}).call;
    const h = harness({
      save: () => ({ outcome: 'unchanged', call: { ...draft, revision: 3, publishedRevision: 3 } }),
    });

    await enrichCall({ sessionId: SESSION }, h.deps);

    expect(h.ops()).toEqual(['getCall', 'load', 'save']);
  });

  it('writes the manifest an earlier run owed, though the call is unchanged', async () => {
    const draft = storedCall({ manifestKey: `recordings/${SESSION}/call.json` }).call;
    const h = harness({
      save: () => ({ outcome: 'unchanged', call: { ...draft, revision: 3, publishedRevision: 2 } }),
    });

    await enrichCall({ sessionId: SESSION }, h.deps);

    expect(h.ops()).toEqual(['getCall', 'load', 'save', 'manifest', 'markPublished']);
    expect(h.steps.at(-1)).toEqual({ op: 'markPublished', revision: 3 });
  });

  it('returns the contract EnrichmentResult', async () => {
    const h = harness({ calls: [rawCall({ participants: 3, recordings: [{ rid: 'r1' }, { rid: 'r2' }] })] });

    const result = await enrichCall({ sessionId: SESSION, trigger: 'call_ended' }, h.deps);

    expect(result).toStrictEqual({
      sessionId: SESSION,
      status: 'ended',
      participants: 3,
      recordings: [
        {
          rid: 'r1',
          bucket: BUCKET,
          key: `recordings/${SESSION}/r1.mp4`,
          bytes: 1000,
          sha256: 'sha-of-r1',
          copied: true,
        },
        {
          rid: 'r2',
          bucket: BUCKET,
          key: `recordings/${SESSION}/r2.mp4`,
          bytes: 1000,
          sha256: 'sha-of-r2',
          copied: true,
        },
      ],
      transcripts: [],
    });
  });

  it('never loads the recordings adapter for a call without recordings', async () => {
    const h = harness({ calls: [rawCall({ recordings: [] })] });

    const result = await enrichCall({ sessionId: SESSION }, h.deps);

    expect(h.deps.recordings).not.toHaveBeenCalled();
    expect(h.ops()).toEqual(['getCall', 'load', 'save', 'manifest', 'markPublished']);
    expect(result.recordings).toEqual([]);
  });

  it('hands the store what it fetched, the previous version and the clock', async () => {
    const previous = storedCall({ status: 'ongoing' });
    const h = harness({ calls: [rawCall({ recordings: [{ rid: 'r1' }] })], previous });

    await enrichCall({ sessionId: SESSION }, h.deps);

    const save = h.saved();
    expect(save).toMatchObject({ previous, now: NOW });
    expect(save.input).toMatchObject({ sessionId: SESSION, status: 'ended' });
    expect(save.input.participants.map((p) => p.uid)).toEqual(['user-1', 'user-2']);
    expect(save.input.recordings.map((r) => r.rid)).toEqual(['r1']);
  });

  it('passes each recording its stored item, so an unchanged one is not downloaded again', async () => {
    const existing = copiedItem({
      sessionId: SESSION,
      source: { rid: 'r1', url: signedUrl('r1', 'v1'), sourceUrl: 'https://recordings.cometchat.io/r1.mp4' },
    }).entry;
    const previous = storedCall({ hasRecording: true, recordings: [existing] });
    const h = harness({
      calls: [rawCall({ recordings: [{ rid: 'r1' }, { rid: 'r2' }] })],
      previous,
      copy: [(input) => ({ ...copiedItem(input), copied: input.existing === undefined })],
    });

    const result = await enrichCall({ sessionId: SESSION }, h.deps);

    const copies = h.steps.filter((step) => step.op === 'copy');
    expect(copies.map((step) => step.op === 'copy' && step.existing)).toEqual([existing, undefined]);
    expect(result.recordings.map((r) => [r.rid, r.copied])).toEqual([
      ['r1', false],
      ['r2', true],
    ]);
  });

  it('reports the call as stored after the merge: status, participants and every recording kept', async () => {
    const kept = copiedItem({
      sessionId: SESSION,
      source: { rid: 'r0', url: signedUrl('r0', 'v1'), sourceUrl: 'https://recordings.cometchat.io/r0.mp4' },
    }).entry;
    const h = harness({
      calls: [rawCall({ status: 'ongoing', participants: 1, recordings: [{ rid: 'r1' }] })],
      save: (input) => ({
        outcome: 'updated',
        call: storedFrom(input, {
          status: 'ended',
          participants: [...input.participants, ...input.participants],
          recordings: [kept, ...input.recordings],
        }).call,
      }),
    });

    const result = await enrichCall({ sessionId: SESSION }, h.deps);

    expect(result.status).toBe('ended');
    expect(result.participants).toBe(2);
    expect(result.recordings.map((r) => [r.rid, r.copied])).toEqual([
      ['r0', false],
      ['r1', true],
    ]);
    expect(h.observed.at(-2)).toEqual({ kind: 'saved', sessionId: SESSION, outcome: 'updated' });
  });

  it('refuses a call the table cannot hold before copying or saving anything', async () => {
    const raw = rawCall({ recordings: [{ rid: 'r1' }] });
    raw.participants = Array.from({ length: 1000 }, (_, i) => ({
      uid: `${i}`.padStart(250, 'u'),
      name: 'n'.repeat(200),
    }));
    const h = harness({ calls: [raw] });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBeInstanceOf(InvalidCallDataError);
    expect((error as Error).message).toMatch(/400 KB item limit/);
    expect(h.ops()).toEqual(['getCall', 'load']);
  });

  it('refuses a recording with a relative URL before touching the store', async () => {
    const raw = rawCall();
    raw.recordings = [{ rid: 'r1', recording_url: '/r1.mp4' }];
    const h = harness({ calls: [raw] });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBeInstanceOf(RecordingRejectedError);
    expect(h.ops()).toEqual(['getCall']);
  });

  it('passes the deadline and signal to CometChat and the signal to the copier and the store', async () => {
    const signal = new AbortController().signal;
    const h = harness({ calls: [rawCall({ recordings: [{ rid: 'r1' }] })] });

    await enrichCall({ sessionId: SESSION }, h.deps, { deadline: 1234, signal });

    expect(h.steps[0]).toEqual({ op: 'getCall', sessionId: SESSION, options: { deadline: 1234, signal } });
    expect(h.steps.find((step) => step.op === 'copy')).toMatchObject({ signal });
    expect(h.saved().signal).toBe(signal);
  });

  it.each([401, 403])(
    'fetches the call once more after a %i and retries with the fresh URL, later recordings too',
    async (statusCode) => {
      const h = harness({
        calls: [
          rawCall({ recordings: [{ rid: 'r1' }, { rid: 'r2' }, { rid: 'r3' }] }),
          rawCall({
            recordings: [
              { rid: 'r1', version: 'v2' },
              { rid: 'r2', version: 'v2' },
              { rid: 'r3', version: 'v2' },
            ],
          }),
        ],
        copy: [() => downloadError(statusCode), (input) => copiedItem(input)],
      });

      const result = await enrichCall({ sessionId: SESSION }, h.deps);

      expect(h.ops()).toEqual([
        'getCall',
        'load',
        'recordings',
        'copy',
        'getCall',
        'copy',
        'copy',
        'copy',
        'save',
        'manifest',
        'markPublished',
      ]);
      expect(h.copies()).toEqual([
        { rid: 'r1', url: signedUrl('r1', 'v1') },
        { rid: 'r1', url: signedUrl('r1', 'v2') },
        { rid: 'r2', url: signedUrl('r2', 'v2') },
        { rid: 'r3', url: signedUrl('r3', 'v2') },
      ]);
      expect(result.recordings.map((r) => r.rid)).toEqual(['r1', 'r2', 'r3']);
      expect(h.observed).toContainEqual({ kind: 'url-refreshed', sessionId: SESSION, rid: 'r1' });
    },
  );

  it('refreshes when a later recording is the first to fail, keeping the ones already copied', async () => {
    const h = harness({
      calls: [
        rawCall({ recordings: [{ rid: 'r1' }, { rid: 'r2' }] }),
        rawCall({
          recordings: [
            { rid: 'r1', version: 'v2' },
            { rid: 'r2', version: 'v2' },
          ],
        }),
      ],
      copy: [(input) => copiedItem(input), () => downloadError(403), (input) => copiedItem(input)],
    });

    const result = await enrichCall({ sessionId: SESSION }, h.deps);

    expect(h.copies()).toEqual([
      { rid: 'r1', url: signedUrl('r1', 'v1') },
      { rid: 'r2', url: signedUrl('r2', 'v1') },
      { rid: 'r2', url: signedUrl('r2', 'v2') },
    ]);
    const save = h.saved();
    expect(save.input.recordings.map((r) => r.rid)).toEqual(['r1', 'r2']);
    expect(result.recordings.map((r) => r.rid)).toEqual(['r1', 'r2']);
  });

  it('saves the call as first fetched, with the recording copied from the refreshed URL', async () => {
    const h = harness({
      calls: [
        rawCall({ status: 'ongoing', recordings: [{ rid: 'r1' }] }),
        rawCall({ status: 'ended', participants: 3, recordings: [{ rid: 'r1', version: 'v2' }] }),
      ],
      copy: [() => downloadError(403), (input) => copiedItem(input)],
    });

    const result = await enrichCall({ sessionId: SESSION }, h.deps);

    const save = h.saved();
    expect(save.input.status).toBe('ongoing');
    expect(save.input.recordings.map((r) => r.rid)).toEqual(['r1']);
    expect(result).toMatchObject({ status: 'ongoing', participants: 2 });
  });

  it('lets a second 403 on the same recording after the refresh propagate', async () => {
    const second = downloadError(403);
    const h = harness({
      calls: [
        rawCall({ recordings: [{ rid: 'r1' }] }),
        rawCall({ recordings: [{ rid: 'r1', version: 'v2' }] }),
      ],
      copy: [() => downloadError(403), () => second],
    });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBe(second);
    expect(h.ops()).toEqual(['getCall', 'load', 'recordings', 'copy', 'getCall', 'copy']);
  });

  it('refreshes at most once per call: a 403 on a later recording then propagates', async () => {
    const later = downloadError(403);
    const h = harness({
      calls: [
        rawCall({ recordings: [{ rid: 'r1' }, { rid: 'r2' }] }),
        rawCall({
          recordings: [
            { rid: 'r1', version: 'v2' },
            { rid: 'r2', version: 'v2' },
          ],
        }),
      ],
      copy: [() => downloadError(403), (input) => copiedItem(input), () => later],
    });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBe(later);
    expect(h.ops().filter((op) => op === 'getCall')).toHaveLength(2);
    expect(h.ops()).not.toContain('save');
  });

  it('propagates the original 403 when the refreshed call no longer lists the recording', async () => {
    const original = downloadError(403);
    const h = harness({
      calls: [
        rawCall({ recordings: [{ rid: 'r1' }, { rid: 'r2' }] }),
        rawCall({ recordings: [{ rid: 'r2', version: 'v2' }] }),
      ],
      copy: [() => original],
    });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBe(original);
    expect(h.ops()).toEqual(['getCall', 'load', 'recordings', 'copy', 'getCall']);
  });

  it('propagates a failure of the refreshing fetch itself', async () => {
    const unavailable = new CometChatUnavailableError('Get Call answered 503');
    const h = harness({
      calls: [rawCall({ recordings: [{ rid: 'r1' }] }), unavailable],
      copy: [() => downloadError(403)],
    });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBe(unavailable);
  });

  it.each([500, 404, 0])('does not refresh after a download error with status %i', async (statusCode) => {
    const failure = statusCode === 0 ? new RecordingDownloadError('truncated') : downloadError(statusCode);
    const h = harness({ calls: [rawCall({ recordings: [{ rid: 'r1' }] })], copy: [() => failure] });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBe(failure);
    expect(h.ops()).toEqual(['getCall', 'load', 'recordings', 'copy']);
    expect(h.observed.map((event) => event.kind)).not.toContain('url-refreshed');
  });

  it.each([
    ['a refused URL', new RecordingRejectedError('recording URL refused: host not allowed')],
    ['an S3 failure', new StorageError('could not upload')],
    ['a plain Error', new Error('unexpected')],
  ])('propagates %s from the copier untouched, without refreshing', async (_, failure) => {
    const h = harness({ calls: [rawCall({ recordings: [{ rid: 'r1' }] })], copy: [() => failure] });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBe(failure);
    expect(h.ops()).toEqual(['getCall', 'load', 'recordings', 'copy']);
  });

  it('propagates a CometChat failure untouched, without touching the store', async () => {
    const notFound = new CallNotFoundError('Get Call: no such session');
    const h = harness({ calls: [notFound] });

    const error = await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps));

    expect(error).toBe(notFound);
    expect(h.ops()).toEqual(['getCall']);
  });

  it('propagates store failures untouched', async () => {
    const loadFailure = new StorageError('query failed');
    const saveFailure = new StorageError('put failed');
    const loading = harness({ load: loadFailure, calls: [rawCall({ recordings: [{ rid: 'r1' }] })] });
    const saving = harness({ save: () => saveFailure });

    expect(await rejectionOf(enrichCall({ sessionId: SESSION }, loading.deps))).toBe(loadFailure);
    expect(loading.ops()).toEqual(['getCall', 'load']);
    expect(await rejectionOf(enrichCall({ sessionId: SESSION }, saving.deps))).toBe(saveFailure);
  });

  it('propagates the recordings adapter failing to load', async () => {
    const failure = new StorageError('could not create the S3 client');
    const h = harness({ calls: [rawCall({ recordings: [{ rid: 'r1' }] })] });
    h.deps.recordings = async () => {
      throw failure;
    };

    expect(await rejectionOf(enrichCall({ sessionId: SESSION }, h.deps))).toBe(failure);
    expect(h.ops()).toEqual(['getCall', 'load']);
  });

  it('tells the observer what happened, in order, with no URL in any event', async () => {
    const h = harness({
      calls: [
        rawCall({ status: 'ended', recordings: [{ rid: 'r1' }, { rid: 'r2' }] }),
        rawCall({
          recordings: [
            { rid: 'r1', version: 'v2' },
            { rid: 'r2', version: 'v2' },
          ],
        }),
      ],
      copy: [
        () => downloadError(403),
        (input) => copiedItem(input, 2048),
        (input) => ({ ...copiedItem(input), copied: false }),
      ],
    });

    await enrichCall({ sessionId: SESSION }, h.deps);

    expect(h.observed).toEqual([
      { kind: 'fetched', sessionId: SESSION, status: 'ended', participants: 2, recordings: 2 },
      { kind: 'url-refreshed', sessionId: SESSION, rid: 'r1' },
      { kind: 'recording', sessionId: SESSION, rid: 'r1', copied: true, bytes: 2048 },
      { kind: 'recording', sessionId: SESSION, rid: 'r2', copied: false, bytes: 0 },
      { kind: 'saved', sessionId: SESSION, outcome: 'created' },
      { kind: 'published', sessionId: SESSION, revision: 1 },
    ]);
    expect(JSON.stringify(h.observed)).not.toContain('Signature');
  });

  it('works without an observer or a clock', async () => {
    const h = harness({ calls: [rawCall({ recordings: [{ rid: 'r1' }] })] });
    delete h.deps.observe;
    delete h.deps.now;

    const result = await enrichCall({ sessionId: SESSION }, h.deps);

    expect(result.recordings).toHaveLength(1);
    expect(h.saved().now).toBeUndefined();
  });
});
