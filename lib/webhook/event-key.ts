/**
 * CometChat's documented idempotency key for the webhook events we archive:
 * `webhook + trigger + data.sessionId + data.destroyed_at` for `call_ended` / `meeting_ended`,
 * `… + data.startTime` for `recording_generated`. Parts are joined with `:`; a part that is
 * missing (or not a string or finite number) is rendered as empty, so a redelivery of the same
 * envelope always yields the same key.
 */
import { field, isObject } from '../calls/coerce.ts';

/** Which `data` field completes the key, per trigger. */
const DISTINGUISHING_FIELD: Readonly<Record<string, string>> = {
  call_ended: 'destroyed_at',
  meeting_ended: 'destroyed_at',
  recording_generated: 'startTime',
};

function part(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

/** The idempotency key of an envelope whose session id is `sessionId`. */
export function eventKeyOf(
  envelope: { trigger: string; data?: unknown; webhook?: unknown },
  sessionId: string,
): string {
  const { trigger } = envelope;
  const data = isObject(envelope.data) ? envelope.data : {};
  const distinguishing = DISTINGUISHING_FIELD[trigger];
  const last = distinguishing === undefined ? '' : part(field(data, distinguishing));
  return [part(envelope.webhook), trigger, sessionId, last].join(':');
}
