/**
 * Retention and legal holds as the stack applies them (infra/calls-table.yml, infra/recordings-
 * bucket.yml): DynamoDB TTL reads `expiresAt` on call and index items, and the S3 lifecycle rule
 * expires only objects tagged `hold=false`. Writers use these so the attribute and the tag can
 * never drift from what the template filters on. Pure: no I/O.
 */
import { RETENTION_TTL_ATTRIBUTE, type RetentionConfig } from '../config.ts';

/** The object tag the lifecycle rule filters on. */
export const HOLD_TAG_KEY = 'hold';

/** The tag value of an object that may expire (every object, as written) and of a held one. */
export const HOLD_TAG_VALUES = { notHeld: 'false', held: 'true' } as const;

/** The TTL attribute (Unix seconds) on call and participant index items. */
export const EXPIRES_AT_ATTRIBUTE = RETENTION_TTL_ATTRIBUTE;

/**
 * `hold=false` as a URL-encoded tag set, to append to PutObject's / CreateMultipartUpload's
 * `Tagging` (e.g. `sha256=<hex>&hold=false`): every archived object must carry it.
 */
export function notHeldTagging(): string {
  return `${HOLD_TAG_KEY}=${HOLD_TAG_VALUES.notHeld}`;
}

/**
 * When a call's items expire: `retention.days` after the call was initiated (else when it was
 * committed), in Unix seconds; undefined without retention or for a held call, so the item
 * carries no `expiresAt` and TTL never removes it.
 */
export function expiresAt(
  call: { initiatedAt?: number; enrichedAt: string },
  retention: RetentionConfig | undefined,
  options: { held?: boolean } = {},
): number | undefined {
  if (retention === undefined || options.held === true) return undefined;
  const committed = Math.floor(Date.parse(call.enrichedAt) / 1000);
  const from =
    call.initiatedAt !== undefined && Number.isFinite(call.initiatedAt) ? call.initiatedAt : committed;
  if (!Number.isFinite(from)) return undefined;
  return Math.floor(from) + retention.days * 86_400;
}
