/**
 * The enrichment queue's message: `{"sessionId","trigger","eventKey"}` in an SQS FIFO queue,
 * grouped by session (one call's messages are handled in order, other calls' are not held up)
 * and deduplicated by the event key's digest (SQS drops a repeat within its 5-minute window).
 */
import { createHash } from 'node:crypto';
import { field, type JsonObject } from '../calls/coerce.ts';
import { sessionIdFromEvent } from '../calls/session-id.ts';
import { InvalidInputError } from '../errors.ts';

/** What the webhook and the backfill put on the queue. */
export interface EnrichmentMessage {
  sessionId: string;
  /** What caused it: a webhook trigger (`call_ended`, …) or the sender's own name (`backfill`). */
  trigger: string;
  /** Identifies the event the message stands for; equal keys are the same event. */
  eventKey: string;
}

/** The SQS fields of one message: spread into SendMessage input or a SendMessageBatch entry. */
export interface QueueMessage {
  MessageBody: string;
  MessageGroupId: string;
  MessageDeduplicationId: string;
}

/** What the consumer reads back: a valid `sessionId`, and the other fields when present. */
export interface ReceivedMessage {
  sessionId: string;
  trigger?: string;
  eventKey?: string;
}

// SQS allows 1..128 characters of a-z, A-Z, 0-9 and ASCII punctuation in a MessageGroupId.
const GROUP_ID = /^[\x21-\x7e]{1,128}$/;

const sha256Hex = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * The message group for a session: the session id itself when SQS allows it as a group id, else
 * its SHA-256 (a session id may be up to 256 characters and non-ASCII; a group id may not).
 */
export function messageGroupIdFor(sessionId: string): string {
  return GROUP_ID.test(sessionId) ? sessionId : sha256Hex(sessionId);
}

/** The deduplication id for an event: the SHA-256 hex of its key (64 characters; SQS allows 128). */
export function deduplicationIdFor(eventKey: string): string {
  return sha256Hex(eventKey);
}

/** The SQS fields for `message`. */
export function toQueueMessage(message: EnrichmentMessage): QueueMessage {
  const { sessionId, trigger, eventKey } = message;
  return {
    MessageBody: JSON.stringify({ sessionId, trigger, eventKey }),
    MessageGroupId: messageGroupIdFor(sessionId),
    MessageDeduplicationId: deduplicationIdFor(eventKey),
  };
}

/**
 * Parses a message body. Throws `InvalidInputError` when it is not a JSON object with a usable
 * `sessionId` (the contract only requires that field; others are kept when they are strings).
 */
export function parseEnrichmentMessage(body: string): ReceivedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new InvalidInputError('the message body is not JSON', { cause });
  }
  const sessionId = sessionIdFromEvent(parsed);
  const trigger = field(parsed as JsonObject, 'trigger');
  const eventKey = field(parsed as JsonObject, 'eventKey');
  return {
    sessionId,
    ...(typeof trigger === 'string' && { trigger }),
    ...(typeof eventKey === 'string' && { eventKey }),
  };
}
