/**
 * The idempotency key of a webhook delivery, from CometChat's documented parts:
 * `webhook + trigger + data.sessionId + data.destroyed_at` for `call_ended` / `meeting_ended`,
 * `… + data.startTime` for `recording_generated`, to which we add the recording URL's path:
 * CometChat's key alone would merge two files of one call with the same (or no) start time.
 *
 * The parts are hashed as a JSON array, so no two different part lists share a key (a joined
 * string would make `S` + `1:x` and `S:1` + `x` one), and the key is 64 hex characters: fit for
 * an SQS MessageDeduplicationId and for logs, whatever the parts hold.
 */
import { createHash } from 'node:crypto';
import { field, isObject, type JsonObject } from '../calls/coerce.ts';

/** The signed query of a recording URL may change per delivery; its path names the file. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.replace(/[?#].*$/s, '');
  }
}

/** A key part: strings and finite numbers as they are, anything else as absent (`null`). */
function part(value: unknown): string | number | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return null;
}

/** The `data` fields that complete the key, per trigger. */
function distinguishing(trigger: string, data: JsonObject): (string | number | null)[] {
  switch (trigger) {
    case 'call_ended':
    case 'meeting_ended':
      return [part(field(data, 'destroyed_at'))];
    case 'recording_generated': {
      const url = part(field(data, 'recording_url') ?? field(data, 'recordingUrl'));
      return [part(field(data, 'startTime')), typeof url === 'string' ? pathOf(url) : url];
    }
    default:
      return [];
  }
}

/** The idempotency key of an envelope whose session id is `sessionId`: 64 lower-case hex characters. */
export function eventKeyOf(
  envelope: { trigger: string; data?: unknown; webhook?: unknown },
  sessionId: string,
): string {
  const data = isObject(envelope.data) ? envelope.data : {};
  const parts = [
    part(envelope.webhook),
    envelope.trigger,
    sessionId,
    ...distinguishing(envelope.trigger, data),
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
