/**
 * Publishing after a commit, through in-memory adapters: what is owed, the order of the writes,
 * and what a run does when another commits while it publishes. The real S3, DynamoDB and
 * EventBridge paths are in test/integration/archive.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { CallItem } from '../../../lib/calls/types.ts';
import { isOwed, publishDeadLettered, publishOwed } from '../../../lib/enrich/publish.ts';
import { StorageError } from '../../../lib/errors.ts';
import type { ArchiveEvent } from '../../../lib/events/archive-events.ts';
import type { ManifestStore } from '../../../lib/manifest/manifest-store.ts';
import { rejectionOf } from '../../support/errors.ts';

const call = (revision: number, publishedRevision?: number): CallItem => ({
  pk: 'CALL#s',
  sk: 'CALL',
  entity: 'call',
  sessionId: 's',
  status: 'ended',
  hasRecording: false,
  participants: [],
  recordings: [],
  transcripts: [],
  manifestKey: 'recordings/s/call.json',
  enrichedAt: '2024-01-01T00:00:00.000Z',
  revision,
  ...(publishedRevision !== undefined && { publishedRevision }),
});

function harness(options: { marks?: boolean[]; stored?: CallItem; put?: Error; analytics?: Error } = {}) {
  const steps: string[] = [];
  const events: ArchiveEvent[] = [];
  const marks = [...(options.marks ?? [true])];
  const manifests: ManifestStore = {
    bucket: 'b',
    async put(key, manifest) {
      if (options.put) throw options.put;
      steps.push(`manifest ${key} r${manifest.call.revision}`);
    },
    keys: () => {
      throw new Error('unused');
    },
    get: async () => undefined,
  };
  const deps = {
    store: {
      async load() {
        steps.push('load');
        return options.stored && { call: options.stored, index: [] };
      },
      async markPublished(_sessionId: string, revision: number) {
        steps.push(`mark r${revision}`);
        return marks.shift() ?? true;
      },
    },
    manifests: async () => manifests,
    analytics: async () => async (written: CallItem) => {
      if (options.analytics) throw options.analytics;
      steps.push(`analytics r${written.revision}`);
      return `analytics/calls/day=1970-01-01/${written.sessionId}.json`;
    },
    events: async () => ({
      async put(batch: readonly ArchiveEvent[]) {
        events.push(...batch);
        steps.push(`event ${batch.map((e) => e.detailType).join()}`);
      },
    }),
  };
  return { deps, steps, events };
}

describe('publishOwed', () => {
  it('writes the manifest and the analytics record, sends the event, then marks the revision published', async () => {
    const h = harness();

    const revision = await publishOwed(call(3, 2), { sessionId: 's' }, h.deps);

    expect(revision).toBe(3);
    expect(h.steps).toEqual([
      'manifest recordings/s/call.json r3',
      'analytics r3',
      'event CallArchived',
      'mark r3',
    ]);
    expect(h.events[0]?.detail).toMatchObject({
      sessionId: 's',
      manifest: { bucket: 'b', key: 'recordings/s/call.json' },
    });
  });

  it('sends nothing when nothing is owed', async () => {
    const h = harness();

    expect(isOwed(call(3, 3))).toBe(false);
    expect(await publishOwed(call(3, 3), {}, h.deps)).toBeUndefined();
    expect(h.steps).toEqual([]);
  });

  it('publishes the newer revision too when another run committed meanwhile', async () => {
    const h = harness({ marks: [false, true], stored: call(4, 4) });

    const revision = await publishOwed(call(3), {}, h.deps);

    expect(revision).toBe(4);
    expect(h.steps).toEqual([
      'manifest recordings/s/call.json r3',
      'analytics r3',
      'event CallArchived',
      'mark r3',
      'load',
      'manifest recordings/s/call.json r4',
      'analytics r4',
      'event CallArchived',
      'mark r4',
    ]);
  });

  it("fails with the manifest store's StorageError and marks nothing", async () => {
    const h = harness({ put: new StorageError('PutObject failed') });

    const error = await rejectionOf(publishOwed(call(1), {}, h.deps));

    expect(error).toBeInstanceOf(StorageError);
    expect(h.steps).toEqual([]);
  });

  it('fails when the analytics record is not written, leaving the revision owed for the retry', async () => {
    const h = harness({ analytics: new StorageError('could not write the analytics record') });

    const error = await rejectionOf(publishOwed(call(2, 1), {}, h.deps));

    expect(error).toBeInstanceOf(StorageError);
    expect(h.steps).toEqual(['manifest recordings/s/call.json r2']);
    expect(h.events).toEqual([]);
  });
});

describe('publishDeadLettered', () => {
  it('names the session of the parked message, whatever else its body holds', async () => {
    const h = harness();

    await publishDeadLettered(h.deps.events, { body: '{"sessionId":"s1","x":1}' }, new StorageError('boom'));
    await publishDeadLettered(h.deps.events, { body: 'not json' }, new Error('bad'));

    expect(h.events.map((e) => e.detail)).toEqual([
      { sessionId: 's1', errorName: 'StorageError', errorMessage: 'boom' },
      { errorName: 'Error', errorMessage: 'bad' },
    ]);
  });

  it('sends nothing without a bus', async () => {
    await expect(publishDeadLettered(undefined, { body: '{}' }, new Error('x'))).resolves.toBeUndefined();
  });
});
