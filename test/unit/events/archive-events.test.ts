import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingRejectedError, StorageError } from '../../../lib/errors.ts';
import {
  type ArchiveEvent,
  callArchivedEvent,
  callArchiveFailedEvent,
  type EventSink,
  publishCallArchived,
  publishCallArchiveFailed,
} from '../../../lib/events/archive-events.ts';
import { createFileEventSink } from '../../../lib/events/file-sink.ts';
import { fullCallItem, SIGNED_URL } from '../../support/call-items.ts';

/** A sink that keeps what it is given. */
function memorySink(): EventSink & { events: ArchiveEvent[]; signals: (AbortSignal | undefined)[] } {
  const events: ArchiveEvent[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  return {
    events,
    signals,
    async put(batch, options) {
      events.push(...batch);
      signals.push(options?.signal);
    },
  };
}

describe('callArchivedEvent', () => {
  it('carries exactly the contract fields of the committed call', () => {
    const call = fullCallItem();

    const event = callArchivedEvent(call, 'archive-bucket');

    expect(event).toEqual({
      detailType: 'CallArchived',
      detail: {
        sessionId: call.sessionId,
        status: 'ended',
        initiatedAt: 1_764_500_000,
        participants: 2,
        recordings: [
          {
            rid: 'rec-1',
            bucket: 'archive-bucket',
            key: `recordings/${call.sessionId}/rec-1.mp4`,
            bytes: 10_485_760,
            sha256: 'a'.repeat(64),
          },
        ],
        transcripts: [
          {
            tid: 'tr-1',
            bucket: 'archive-bucket',
            key: `recordings/${call.sessionId}/transcripts/tr-1.json`,
            bytes: 2048,
            sha256: 'b'.repeat(64),
          },
        ],
        manifest: { bucket: 'archive-bucket', key: `recordings/${call.sessionId}/call.json` },
      },
    });
  });

  it('never carries a signed URL, an avatar or anything else the input smuggles in', () => {
    const call = fullCallItem();
    const smuggled = {
      ...call,
      url: SIGNED_URL,
      recordings: call.recordings.map((r) => ({ ...r, url: SIGNED_URL })),
      transcripts: call.transcripts.map((t) => ({ ...t, url: SIGNED_URL })),
    };

    const json = JSON.stringify(callArchivedEvent(smuggled, 'archive-bucket'));

    expect(json).not.toMatch(/X-Amz|Signature|\?|https?:|avatar|sourceUrl|Alice/);
  });

  it('leaves out initiatedAt and manifest when the call has none, never writing null', () => {
    const { initiatedAt: _i, manifestKey: _m, ...call } = fullCallItem();

    const { detail } = callArchivedEvent(call, 'archive-bucket');

    expect(detail).not.toHaveProperty('initiatedAt');
    expect(detail).not.toHaveProperty('manifest');
  });
});

describe('callArchiveFailedEvent', () => {
  it('names the error and strips signed query strings from its message', () => {
    const error = new RecordingRejectedError(`refused ${SIGNED_URL} (host not allowed)`);

    const event = callArchiveFailedEvent('v1.us.abc', error);

    expect(event).toEqual({
      detailType: 'CallArchiveFailed',
      detail: {
        sessionId: 'v1.us.abc',
        errorName: 'RecordingRejectedError',
        errorMessage: 'refused https://recordings.cometchat.io/app/rec-1.mp4?[redacted] (host not allowed)',
      },
    });
    expect(JSON.stringify(event)).not.toMatch(/Signature|X-Amz/);
  });

  it('leaves the session id out when the message had none, and bounds the message', () => {
    const event = callArchiveFailedEvent(undefined, new Error('x'.repeat(5000)));

    expect(event.detail).not.toHaveProperty('sessionId');
    expect((event.detail as { errorMessage: string }).errorMessage).toHaveLength(1024);
  });

  it('describes a thrown non-Error too', () => {
    expect(callArchiveFailedEvent('s', 'boom').detail).toEqual({
      sessionId: 's',
      errorName: 'Error',
      errorMessage: 'boom',
    });
  });
});

describe('publishCallArchived / publishCallArchiveFailed', () => {
  it('hand one event to the sink with the invocation signal', async () => {
    const sink = memorySink();
    const signal = new AbortController().signal;

    await publishCallArchived(sink, fullCallItem(), { bucket: 'archive-bucket', signal });
    await publishCallArchiveFailed(sink, { sessionId: 's1', error: new StorageError('s3 down') }, { signal });

    expect(sink.events.map((e) => e.detailType)).toEqual(['CallArchived', 'CallArchiveFailed']);
    expect(sink.signals).toEqual([signal, signal]);
  });
});

describe('createFileEventSink', () => {
  const folders: string[] = [];
  afterEach(async () => {
    await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
  });

  it('appends one JSON line per event, shaped as EventBridge delivers it, creating the folder', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'events-'));
    folders.push(folder);
    const path = join(folder, '.local', 'events.jsonl');
    const sink = createFileEventSink(path, () => new Date('2025-11-30T12:00:00.000Z'));

    await publishCallArchived(sink, fullCallItem(), { bucket: 'archive-bucket' });
    await publishCallArchiveFailed(sink, { sessionId: 's1', error: new StorageError('s3 down') });

    const lines = (await readFile(path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      source: 'cometchat-call-archive',
      'detail-type': 'CallArchived',
      time: '2025-11-30T12:00:00.000Z',
      detail: { status: 'ended', participants: 2 },
    });
    expect(lines[1]).toEqual({
      source: 'cometchat-call-archive',
      'detail-type': 'CallArchiveFailed',
      time: '2025-11-30T12:00:00.000Z',
      detail: { sessionId: 's1', errorName: 'StorageError', errorMessage: 's3 down' },
    });
  });

  it('fails with StorageError, the file system error as cause, when it cannot write', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'events-'));
    folders.push(folder);
    const sink = createFileEventSink(join(folder, 'events.jsonl', 'nested.jsonl'));
    await createFileEventSink(join(folder, 'events.jsonl')).put([callArchiveFailedEvent('s', 'x')]);

    const error = await sink.put([callArchiveFailedEvent('s', 'x')]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).cause).toMatchObject({ code: expect.stringMatching(/^E/) });
  });
});
