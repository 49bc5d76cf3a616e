/**
 * What the webhook makes of a CometChat envelope `{ trigger, data, appId, region, webhook }`:
 * enqueue the session (for the triggers we archive), or ignore it. Everything else is one of
 * the typed errors, so no input makes it throw anything unexpected.
 *
 * Decisions (see docs): an envelope for another app is refused (403) before its trigger is
 * looked at; a trigger we do not archive is acknowledged with `accepted: false` whatever its
 * data (CometChat retries anything but 200, and `call_initiated`/`call_busy`/… carry no
 * `data.sessionId` at all); only for the archived triggers is a missing or unusable
 * `data.sessionId` a 400.
 */
import { field, isObject, type JsonObject, quoteForMessage } from '../calls/coerce.ts';
import { parseSessionId } from '../calls/session-id.ts';
import { InvalidInputError } from '../errors.ts';
import type { EnrichmentMessage } from '../queue/message.ts';
import { ForeignAppError, MalformedWebhookError } from './errors.ts';
import { eventKeyOf } from './event-key.ts';

/** Triggers whose session the archive enriches. */
export const ACCEPTED_TRIGGERS = ['call_ended', 'meeting_ended', 'recording_generated'] as const;
export type AcceptedTrigger = (typeof ACCEPTED_TRIGGERS)[number];

/** The envelope's fields as CometChat documents them. */
export interface WebhookEnvelope {
  trigger: string;
  data: unknown;
  appId: string;
  region?: unknown;
  webhook?: unknown;
}

/** What to do with a delivery. */
export type WebhookDecision =
  | { kind: 'enqueue'; message: EnrichmentMessage }
  | { kind: 'ignore'; trigger: string; reason: string };

const MAX_TRIGGER_LENGTH = 128;

function isAccepted(trigger: string): trigger is AcceptedTrigger {
  return (ACCEPTED_TRIGGERS as readonly string[]).includes(trigger);
}

/** Parses the body into an envelope. Throws `MalformedWebhookError` for anything else. */
export function parseEnvelope(text: string): WebhookEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new MalformedWebhookError('the body is not valid JSON', { cause });
  }
  if (!isObject(parsed)) throw new MalformedWebhookError('the body is not a JSON object');
  const trigger = field(parsed, 'trigger');
  if (typeof trigger !== 'string' || trigger === '' || trigger.length > MAX_TRIGGER_LENGTH) {
    throw new MalformedWebhookError('the envelope has no usable "trigger"');
  }
  const appId = field(parsed, 'appId');
  if (typeof appId !== 'string' || appId === '') {
    throw new MalformedWebhookError('the envelope has no "appId"');
  }
  return {
    trigger,
    appId,
    data: field(parsed, 'data'),
    region: field(parsed, 'region'),
    webhook: field(parsed, 'webhook'),
  };
}

/**
 * Decides what to do with a webhook body for app `appId`. Throws `MalformedWebhookError`
 * (not an envelope), `ForeignAppError` (another app's) or `InvalidInputError` (an archived
 * trigger without a usable `data.sessionId`).
 */
export function decideWebhook(text: string, options: { appId: string }): WebhookDecision {
  const envelope = parseEnvelope(text);
  if (envelope.appId !== options.appId) {
    throw new ForeignAppError('the envelope is for another CometChat app');
  }
  const { trigger } = envelope;
  if (!isAccepted(trigger)) {
    return { kind: 'ignore', trigger, reason: `trigger ${quoteForMessage(trigger)} is not archived` };
  }
  let sessionId: string;
  try {
    sessionId = parseSessionId(
      isObject(envelope.data) ? field(envelope.data as JsonObject, 'sessionId') : undefined,
    );
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidInputError(`data.${error.message}`, { cause: error });
  }
  return { kind: 'enqueue', message: { sessionId, trigger, eventKey: eventKeyOf(envelope, sessionId) } };
}
