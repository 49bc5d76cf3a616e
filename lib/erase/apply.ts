/**
 * Enrichment's half of an erasure: applied to each Get Call response before anything is stored,
 * so a redacted user is stored redacted (call item, index, manifest) however the call came in.
 */
import type { NormalisedCall } from '../calls/types.ts';
import type { Erasure } from './erased-set.ts';
import { redactCall, redactRaw } from './redact.ts';

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
