/**
 * Legal holds: `hold` keeps a call whatever its age, `release` hands it back to retention. The
 * call item (and through it its index items) gains or loses `expiresAt` (DynamoDB TTL), and
 * every object of the call is retagged `hold=true` / `hold=false` (the S3 lifecycle rule expires
 * only `hold=false`), keeping its other tags (`sha256`): PutObjectTagging replaces the whole set.
 */
import {
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { CallItem } from '../calls/types.ts';
import { StorageError } from '../errors.ts';
import { s3Code, s3Status } from '../recordings/s3-object.ts';
import { HOLD_TAG_KEY, HOLD_TAG_VALUES } from '../retention/retention.ts';
import type { CallStore } from '../store/call-store.ts';
import { type CallRow, rowOf } from './find.ts';

/** What a hold needs. */
export interface HoldDependencies {
  store: Pick<CallStore, 'setHeld'>;
  s3: Pick<S3Client, 'send'>;
  /** The archive bucket (where the manifest is). */
  bucket: string;
}

/** What `setHold` did. */
export interface HoldResult {
  sessionId: string;
  held: boolean;
  /** The call item's TTL after the change; absent while held or without retention. */
  expiresAt?: number;
  /** Objects retagged. */
  objects: number;
  /** Objects the call names that S3 no longer has (expired or erased): nothing to tag. */
  missing: string[];
}

/** Every object of a call: recordings, transcripts, manifest. */
export function objectsOf(call: CallItem, bucket: string): { bucket: string; key: string }[] {
  return [
    ...call.recordings.map(({ bucket: b, key }) => ({ bucket: b, key })),
    ...(call.transcripts ?? []).map(({ bucket: b, key }) => ({ bucket: b, key })),
    ...(call.manifestKey ? [{ bucket, key: call.manifestKey }] : []),
  ];
}

/** Sets the hold tag of one object, keeping its other tags; false when the object is gone. */
async function tagHold(
  s3: HoldDependencies['s3'],
  object: { bucket: string; key: string },
  held: boolean,
  signal?: AbortSignal,
): Promise<boolean> {
  const where = `s3://${object.bucket}/${object.key}`;
  let tags: Tag[];
  try {
    const current = await s3.send(new GetObjectTaggingCommand({ Bucket: object.bucket, Key: object.key }), {
      abortSignal: signal,
    });
    tags = current.TagSet ?? [];
  } catch (error) {
    if (s3Status(error) === 404) return false;
    throw new StorageError(`GetObjectTagging of ${where} failed (${s3Code(error)})`, { cause: error });
  }
  const value = held ? HOLD_TAG_VALUES.held : HOLD_TAG_VALUES.notHeld;
  const TagSet = [...tags.filter((tag) => tag.Key !== HOLD_TAG_KEY), { Key: HOLD_TAG_KEY, Value: value }];
  try {
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: object.bucket, Key: object.key, Tagging: { TagSet } }),
      { abortSignal: signal },
    );
  } catch (error) {
    throw new StorageError(`PutObjectTagging of ${where} failed (${s3Code(error)})`, { cause: error });
  }
  return true;
}

/**
 * Puts `sessionId` under legal hold (`held: true`) or takes it off. The item first, so no
 * enrichment stamps an expiry meanwhile, then the objects. Undefined when no call is stored.
 * Running it again finishes what a failed run left.
 */
export async function setHold(
  deps: HoldDependencies,
  sessionId: string,
  held: boolean,
  options: { signal?: AbortSignal } = {},
): Promise<HoldResult | undefined> {
  const { signal } = options;
  const call = await deps.store.setHeld(sessionId, held, { signal });
  if (!call) return undefined;
  let objects = 0;
  const missing: string[] = [];
  for (const object of objectsOf(call, deps.bucket)) {
    if (await tagHold(deps.s3, object, held, signal)) objects += 1;
    else missing.push(object.key);
  }
  return {
    sessionId,
    held,
    ...(call.expiresAt !== undefined && { expiresAt: call.expiresAt }),
    objects,
    missing,
  };
}

/**
 * Every call under legal hold, newest first. A Scan of the whole table with a filter: fine for
 * an operator's occasional question, too costly for automation on a large table.
 */
export async function listHeld(
  deps: { client: DynamoDBDocumentClient; tableName: string },
  options: { signal?: AbortSignal } = {},
): Promise<CallRow[]> {
  const rows: CallRow[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    let page: ScanCommandOutput;
    try {
      page = await deps.client.send(
        new ScanCommand({
          TableName: deps.tableName,
          FilterExpression: 'sk = :call AND held = :held',
          ExpressionAttributeValues: { ':call': 'CALL', ':held': true },
          ExclusiveStartKey,
        }),
        { abortSignal: options.signal },
      );
    } catch (cause) {
      throw new StorageError(`DynamoDB Scan on table ${deps.tableName} failed`, { cause });
    }
    rows.push(...(page.Items ?? []).map(rowOf));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return rows.sort((a, b) => (b.initiatedAt ?? 0) - (a.initiatedAt ?? 0));
}
