/**
 * Plays CometChat's part locally: builds webhook envelopes shaped like the documented ones
 * (`calls/webhooks-ringing`, `calls/webhooks-call-session`) and POSTs them with Basic auth, so
 * a developer (or a test) can fire `call_ended` at the local webhook and watch the call appear.
 */
import { SAMPLE_APP_ID } from './simulator/sample-calls.ts';

/** Triggers the sender knows how to shape. */
export type SimulatedTrigger =
  | 'call_ended'
  | 'meeting_ended'
  | 'recording_generated'
  | 'call_started'
  | 'meeting_started';

/** Options for an envelope. */
export interface EnvelopeOptions {
  /** Default {@link SAMPLE_APP_ID} (the simulator's). */
  appId?: string;
  /** Default `us`. */
  region?: string;
  /** The webhook's id in CometChat. Default `local-webhook`. */
  webhook?: string;
  /** Unix seconds for `created_at` / `destroyed_at` / `startTime`; default now. */
  at?: number;
  /** `recording_generated` only: the recording's URL. */
  recordingUrl?: string;
}

/** A CometChat webhook envelope for `trigger` about `sessionId`. */
export function webhookEnvelope(
  trigger: SimulatedTrigger,
  sessionId: string,
  options: EnvelopeOptions = {},
): Record<string, unknown> {
  const at = options.at ?? Math.floor(Date.now() / 1000);
  const type = trigger.startsWith('meeting_') ? 'meet' : 'call';
  let data: Record<string, unknown>;
  switch (trigger) {
    case 'call_ended':
    case 'meeting_ended':
      data = {
        all_occupants: [{ joined_at: at - 60, audio_call: 'true', left_at: at, name: 'Andrew Joseph' }],
        destroyed_at: at,
        created_at: at - 60,
        sessionId,
      };
      break;
    case 'recording_generated':
      data = {
        recordingDate: new Date(at * 1000).toISOString().slice(0, 10),
        duration: '21.433000',
        startTime: String(at),
        sessionId,
        recording_url: options.recordingUrl ?? `https://recordings.cometchat.io/${sessionId}.mp4`,
      };
      break;
    default:
      data = { created_at: at, sessionId };
  }
  return {
    trigger,
    data,
    // recording_generated carries no `type` in CometChat's example.
    ...(trigger !== 'recording_generated' && { type }),
    appId: options.appId ?? SAMPLE_APP_ID,
    region: options.region ?? 'us',
    webhook: options.webhook ?? 'local-webhook',
  };
}

/** The webhook's answer. */
export interface WebhookAnswer {
  status: number;
  body: unknown;
}

/**
 * POSTs a `trigger` envelope for `sessionId` to `url` with Basic auth `auth` (`user:password`),
 * as CometChat does, and returns the answer.
 */
export async function fireWebhook(
  url: string,
  trigger: SimulatedTrigger,
  sessionId: string,
  auth: string,
  options: EnvelopeOptions = {},
): Promise<WebhookAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(auth, 'utf8').toString('base64')}`,
    },
    body: JSON.stringify(webhookEnvelope(trigger, sessionId, options)),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body };
}
