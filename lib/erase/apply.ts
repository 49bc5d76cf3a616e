/**
 * Enrichment's half of an erasure: applied to each Get Call response before anything is stored,
 * so a redacted user is stored redacted (call item, index, manifest) however the call came in.
 */
import type { CallDraft, NormalisedCall } from '../calls/types.ts';
import type { Erasure } from './erased-set.ts';
import { redactCall, redactedValue, redactRaw } from './redact.ts';

/** `normalised` and `raw` with the users `erasure` redacts redacted; as they were otherwise. */
export function applyErasure<R>(
  normalised: NormalisedCall,
  raw: R,
  erasure: Erasure,
): { normalised: NormalisedCall; raw: R } {
  if (erasure.action !== 'redact') return { normalised, raw };
  return {
    normalised: { ...normalised, call: redactCall(normalised.call, erasure.hashes) },
    raw: redactRaw(raw, erasure.hashes) as R,
  };
}

/**
 * The erasure a call under legal hold takes: only what an erasure already did to the stored call
 * (`--include-held`), so a hold wins over later erasures and the held call stays as it was. A
 * tombstone still skips it (an erasure deleted it on purpose).
 */
export function erasureForHeld(erasure: Erasure, stored: CallDraft): Erasure {
  if (erasure.action !== 'redact') return erasure;
  const already = new Set(
    [...stored.participants.map((p) => p.uid), stored.initiator, stored.receiver].filter(
      (uid): uid is string => uid !== undefined,
    ),
  );
  const hashes = new Map([...erasure.hashes].filter(([, hash]) => already.has(redactedValue(hash))));
  return hashes.size === 0 ? { action: 'keep' } : { action: 'redact', hashes };
}
