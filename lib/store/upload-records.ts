/**
 * Where an unfinished recording copy is remembered so the next run can resume it: one item per
 * object in the call's partition (`pk = CALL#<sessionId>`, `sk = UPLOAD#<hash of the key>`),
 * holding the multipart upload, the parts done and the hash state. The call store's load ignores
 * these items. `expiresAt` (Unix seconds, the table's TTL attribute) lets DynamoDB drop a record
 * about when the bucket's lifecycle rule aborts the upload it names.
 */
import { createHash } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { callPk } from '../calls/types.ts';
import { StorageError } from '../errors.ts';

/** A part already in the upload: `[ETag, checksum?]` of part `index + 1`. */
export type RecordedPart = readonly [etag: string, checksumCrc32?: string];

/** An unfinished copy of one recording. */
export interface UploadRecord {
  key: string;
  uploadId: string;
  partSize: number;
  totalBytes: number;
  /** The source's validators when the upload began: a different one means the file changed. */
  sourceEtag?: string;
  sourceLastModified?: string;
  /** The content type the upload was created with. */
  contentType?: string;
  /** Parts 1..n, all uploaded and hashed, in order. */
  parts: RecordedPart[];
  /** The SHA-256 state after exactly those parts (base64). */
  hashState: string;
  /** When the multipart upload was created (ms since the epoch). */
  startedAt: number;
}

/** Reading and writing upload records. */
export interface UploadRecords {
  get(sessionId: string, key: string, options?: { signal?: AbortSignal }): Promise<UploadRecord | undefined>;
  put(sessionId: string, record: UploadRecord, options?: { signal?: AbortSignal }): Promise<void>;
  delete(sessionId: string, key: string, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Name of the TTL attribute (Unix seconds) on records. */
export const UPLOAD_TTL_ATTRIBUTE = 'expiresAt';
/** Records (and the uploads they name) older than this are not resumed. */
export const UPLOAD_RECORD_MAX_AGE_MS = 20 * 60 * 60 * 1000;

/** `UPLOAD#` and 32 hex characters of the key's sha256: fixed length whatever the key holds. */
export function uploadSk(key: string): string {
  return `UPLOAD#${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** Upload records in `tableName`. */
export function createUploadRecords(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): UploadRecords {
  const { client, tableName } = options;
  const keyOf = (sessionId: string, key: string) => ({ pk: callPk(sessionId), sk: uploadSk(key) });

  async function send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new StorageError(`${what} of an upload record failed`, { cause: error });
    }
  }

  return {
    async get(sessionId, key, { signal } = {}) {
      const answer = await send('GetItem', () =>
        client.send(
          new GetCommand({ TableName: tableName, Key: keyOf(sessionId, key), ConsistentRead: true }),
          {
            abortSignal: signal,
          },
        ),
      );
      const item = answer.Item;
      // A hash collision of two keys is not worth trusting, however unlikely.
      if (!item || item.key !== key) return undefined;
      return {
        key,
        uploadId: String(item.uploadId),
        partSize: Number(item.partSize),
        totalBytes: Number(item.totalBytes),
        ...(typeof item.sourceEtag === 'string' && { sourceEtag: item.sourceEtag }),
        ...(typeof item.sourceLastModified === 'string' && { sourceLastModified: item.sourceLastModified }),
        ...(typeof item.contentType === 'string' && { contentType: item.contentType }),
        parts: JSON.parse(String(item.parts ?? '[]')) as RecordedPart[],
        hashState: String(item.hashState),
        startedAt: Number(item.startedAt),
      };
    },
    async put(sessionId, record, { signal } = {}) {
      await send('PutItem', () =>
        client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...keyOf(sessionId, record.key),
              entity: 'upload',
              ...record,
              // One string rather than a list of maps: a tenth of the size, for thousands of parts.
              parts: JSON.stringify(record.parts),
              [UPLOAD_TTL_ATTRIBUTE]: Math.ceil((record.startedAt + UPLOAD_RECORD_MAX_AGE_MS) / 1000),
            },
          }),
          { abortSignal: signal },
        ),
      );
    },
    async delete(sessionId, key, { signal } = {}) {
      await send('DeleteItem', () =>
        client.send(new DeleteCommand({ TableName: tableName, Key: keyOf(sessionId, key) }), {
          abortSignal: signal,
        }),
      );
    },
  };
}
