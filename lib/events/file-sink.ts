/**
 * The local sink (`npm start`): each event becomes one JSON line in a file, shaped as EventBridge
 * would deliver it (`source`, `detail-type`, `time`, `detail`), so a local run shows exactly what
 * a deployed one would send.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageError } from '../errors.ts';
import { type ArchiveEvent, EVENT_SOURCE, type EventSink } from './archive-events.ts';

/** The file `npm start` writes its events to, relative to the repository root. */
export const LOCAL_EVENTS_FILE = '.local/events.jsonl';

/** A sink appending events to `path` as JSON Lines (the folder is created when missing). */
export function createFileEventSink(path: string, now: () => Date = () => new Date()): EventSink {
  return {
    async put(events: readonly ArchiveEvent[]) {
      const time = now().toISOString();
      const lines = events.map((event) =>
        JSON.stringify({ source: EVENT_SOURCE, 'detail-type': event.detailType, time, detail: event.detail }),
      );
      try {
        await mkdir(dirname(path), { recursive: true });
        // One write per put, so a reader never sees half of a batch.
        await appendFile(path, lines.map((line) => `${line}\n`).join(''));
      } catch (cause) {
        throw new StorageError(`could not write events to ${path}`, { cause });
      }
    },
  };
}
