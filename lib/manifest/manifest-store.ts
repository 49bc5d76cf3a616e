/**
 * Manifests in S3: written whole with one PutObject (S3 never shows a partial object), then
 * tagged with their sha256 like every archived object, keeping a legal hold; read back for a
 * rebuild. Every S3 failure is a `StorageError` with S3's own error as the cause.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InvalidCallDataError } from '../errors.ts';
import { MANIFEST_NAME } from '../recordings/object-key.ts';
import { SHA256_TAG, s3Call, s3Missing } from '../recordings/s3-object.ts';
import { HOLD_TAG_KEY, HOLD_TAG_VALUES } from '../retention/retention.ts';
import type { Manifest } from './manifest.ts';

/** Per-request options. */
export interface ManifestRequestOptions {
  signal?: AbortSignal;
}

/** Where manifests are kept. */
export interface ManifestStore {
  readonly bucket: string;
  /** Writes `manifest` at `key` (replacing any earlier one), keeping a legal hold set on it. */
  put(key: string, manifest: Manifest, options?: ManifestRequestOptions): Promise<void>;
  /** Every key under `prefix` named like a manifest (`…/call.json`), page by page. */
  keys(prefix: string, options?: ManifestRequestOptions): AsyncIterable<string>;
  /**
   * The parsed JSON at `key` (`InvalidCallDataError` when it is not JSON), or undefined when the
   * object is a transcript that happens to be named `call.json` (its `tid` metadata says so).
   */
  get(key: string, options?: ManifestRequestOptions): Promise<unknown>;
}

/** A manifest store over one bucket. */
export function createManifestStore(options: { s3: S3Client; bucket: string }): ManifestStore {
  const { s3, bucket } = options;

  /** The hold tag the manifest at `key` carries now: a rewrite must not lift a legal hold. */
  async function currentHold(key: string, signal: AbortSignal | undefined): Promise<string> {
    try {
      const { TagSet } = await s3Call(`GetObjectTagging of s3://${bucket}/${key}`, () =>
        s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      );
      return TagSet?.find((tag) => tag.Key === HOLD_TAG_KEY)?.Value ?? HOLD_TAG_VALUES.notHeld;
    } catch (error) {
      if (s3Missing(error)) return HOLD_TAG_VALUES.notHeld;
      throw error;
    }
  }

  return {
    bucket,

    async put(key, manifest, { signal } = {}) {
      const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
      const sha256 = createHash('sha256').update(body).digest('hex');
      const hold = await currentHold(key, signal);
      await s3Call(`PutObject of manifest s3://${bucket}/${key}`, () =>
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentLength: body.byteLength,
            ContentType: 'application/json',
            Metadata: { 'session-id': encodeURIComponent(manifest.call.sessionId) },
          }),
          { abortSignal: signal },
        ),
      );
      // Tagged afterwards, as the copier tags recordings (s3rver ignores tags sent with PutObject).
      // Untagged for that moment, the manifest is not one the lifecycle rule expires.
      await s3Call(`PutObjectTagging of manifest s3://${bucket}/${key}`, () =>
        s3.send(
          new PutObjectTaggingCommand({
            Bucket: bucket,
            Key: key,
            Tagging: {
              TagSet: [
                { Key: SHA256_TAG, Value: sha256 },
                { Key: HOLD_TAG_KEY, Value: hold },
              ],
            },
          }),
          { abortSignal: signal },
        ),
      );
    },

    async *keys(prefix, { signal } = {}) {
      let ContinuationToken: string | undefined;
      do {
        const page = await s3Call(`ListObjectsV2 of s3://${bucket}/${prefix}`, () =>
          s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }), {
            abortSignal: signal,
          }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key?.endsWith(`/${MANIFEST_NAME}`)) yield object.Key;
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },

    async get(key, { signal } = {}) {
      const text = await s3Call(`GetObject of s3://${bucket}/${key}`, async () => {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        if (object.Metadata?.tid !== undefined) {
          await object.Body?.transformToByteArray();
          return undefined;
        }
        return (await object.Body?.transformToString('utf-8')) ?? '';
      });
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text);
      } catch (cause) {
        throw new InvalidCallDataError(`s3://${bucket}/${key} is not JSON`, { cause });
      }
    },
  };
}
