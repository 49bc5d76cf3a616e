/**
 * Erasure's pure half: the salted hash a uid is known by once erased, and a call (or a raw Get
 * Call response) with erased users redacted out of it: uid, name and avatar become that hash,
 * and the participant is marked `redacted`, so no `byUser` index item names them. No I/O.
 */
import { createHmac } from 'node:crypto';
import { isObject } from '../calls/coerce.ts';
import type { CallDraft, Participant } from '../calls/types.ts';

/** HMAC-SHA256 of `uid` under the stack's salt, hex: the only name an erased user keeps. */
export function uidHash(salt: string, uid: string): string {
  return createHmac('sha256', salt).update(uid, 'utf8').digest('hex');
}

/** What an erased user's uid, name and avatar read after redaction. */
export function redactedValue(hash: string): string {
  return `erased:${hash}`;
}

/** `participant` redacted when its uid is in `hashes` (uid -> hash), else as it was. */
function redactParticipant(participant: Participant, hashes: ReadonlyMap<string, string>): Participant {
  const hash = hashes.get(participant.uid);
  if (hash === undefined) return participant;
  const value = redactedValue(hash);
  return {
    ...participant,
    uid: value,
    ...(participant.name !== undefined && { name: value }),
    ...(participant.avatar !== undefined && { avatar: value }),
    redacted: true,
  };
}

/** `call` with every user in `hashes` (uid -> hash) redacted: participants, initiator, receiver. */
export function redactCall<T extends CallDraft>(call: T, hashes: ReadonlyMap<string, string>): T {
  if (hashes.size === 0) return call;
  const swap = (uid: string | undefined) => {
    const hash = uid === undefined ? undefined : hashes.get(uid);
    return hash === undefined ? uid : redactedValue(hash);
  };
  const redacted: T = { ...call, participants: call.participants.map((p) => redactParticipant(p, hashes)) };
  const initiator = swap(call.initiator);
  const receiver = swap(call.receiver);
  if (initiator !== undefined) redacted.initiator = initiator;
  if (receiver !== undefined) redacted.receiver = receiver;
  return redacted;
}

/**
 * A deep copy of a raw Get Call response (or a manifest) with the users in `hashes` redacted: any
 * object whose `uid` is one of them has its uid, name and avatar replaced, and any string that
 * is exactly such a uid (an initiator, a receiver) too.
 */
export function redactRaw(value: unknown, hashes: ReadonlyMap<string, string>): unknown {
  if (hashes.size === 0) return value;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const hash = hashes.get(node);
      return hash === undefined ? node : redactedValue(hash);
    }
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const hash = typeof node.uid === 'string' ? hashes.get(node.uid) : undefined;
    return Object.fromEntries(
      Object.entries(node).map(([name, inner]) => {
        if (hash !== undefined && (name === 'name' || name === 'avatar') && inner !== undefined) {
          return [name, redactedValue(hash)];
        }
        return [name, walk(inner)];
      }),
    );
  };
  return walk(value);
}
