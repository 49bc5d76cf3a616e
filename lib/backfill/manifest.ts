/**
 * The large-backlog path: a JSON Lines manifest (`{"sessionId":"…"}` per line) streamed into the
 * recordings bucket under `backfill/manifests/`, then one execution of the backfill state
 * machine (infra/backfill.asl.json), whose Distributed Map reads it. The manifest is streamed
 * through lib-storage's Upload, so memory stays bounded however many calls it lists.
 */
import { PassThrough } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Upload } from '@aws-sdk/lib-storage';
import { StorageError } from '../errors.ts';

/** Where manifests go; the state machine's role may read only under it. */
export const MANIFEST_PREFIX = 'backfill/manifests/';

/** A manifest in S3. */
export interface ManifestLocation {
  bucket: string;
  key: string;
}

/** A manifest written whole. */
export interface WrittenManifest extends ManifestLocation {
  /** Lines (session ids) written. */
  count: number;
}

/** A manifest being written. */
export interface ManifestWriter {
  /** Appends one line; resolves when the stream can take more (backpressure). */
  write(sessionId: string): Promise<void>;
  /** Ends the stream and waits for S3 to have the whole object. */
  close(): Promise<WrittenManifest>;
  /** Gives up: aborts the upload (a multipart upload leaves no parts behind). */
  abort(): Promise<void>;
}

/** The invocation's abort signal: the upload and the start stop with it. */
export interface SignalOption {
  signal?: AbortSignal;
}

/** Where the backfill sends a large backlog. */
export interface ManifestSink {
  /** Starts streaming a manifest named after the run. */
  open(runId: string, options?: SignalOption): ManifestWriter;
  /** Starts the backfill state machine on a written manifest; returns the execution ARN. */
  start(manifest: WrittenManifest, runId: string, options?: SignalOption): Promise<string>;
}

/** Options for {@link createManifestSink}. */
export interface ManifestSinkOptions {
  s3: S3Client;
  sfn: Pick<SFNClient, 'send'>;
  /** The recordings bucket (the state machine reads manifests from there). */
  bucket: string;
  stateMachineArn: string;
}

/** Step Functions execution names: 1..80 of these characters. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** Streams `{"sessionId":"…"}` lines into `s3://bucket/key`. */
export function openManifest(
  s3: S3Client,
  location: ManifestLocation,
  { signal }: SignalOption = {},
): ManifestWriter {
  const body = new PassThrough();
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: location.bucket,
      Key: location.key,
      Body: body,
      ContentType: 'application/x-ndjson',
    },
    ...(signal && { abortController: abortControllerFor(signal) }),
  });
  let failure: unknown;
  const done = upload.done().then(
    () => undefined,
    (error: unknown) => {
      failure = error;
      // A writer waiting for 'drain' would otherwise wait forever.
      body.destroy();
    },
  );
  let count = 0;
  const failed = () =>
    new StorageError(`could not write the backfill manifest s3://${location.bucket}/${location.key}`, {
      cause: failure,
    });

  return {
    async write(sessionId) {
      if (failure !== undefined || body.destroyed) throw failed();
      count += 1;
      if (!body.write(`${JSON.stringify({ sessionId })}\n`)) {
        await new Promise<void>((resolve) => {
          const settle = () => {
            body.off('drain', settle);
            body.off('close', settle);
            resolve();
          };
          body.on('drain', settle);
          body.on('close', settle);
        });
        if (failure !== undefined) throw failed();
      }
    },
    async close() {
      body.end();
      await done;
      if (failure !== undefined) throw failed();
      return { ...location, count };
    },
    async abort() {
      await upload.abort().catch(() => undefined);
      body.destroy();
      await done;
    },
  };
}

/** lib-storage's Upload takes a controller, not a signal. */
function abortControllerFor(signal: AbortSignal): AbortController {
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller;
}

/** The S3 + Step Functions adapter for the large-backlog path. */
export function createManifestSink(options: ManifestSinkOptions): ManifestSink {
  return {
    open(runId, signalOption) {
      return openManifest(
        options.s3,
        { bucket: options.bucket, key: `${MANIFEST_PREFIX}${runId}.jsonl` },
        signalOption,
      );
    },
    async start(manifest, runId, { signal } = {}) {
      if (!EXECUTION_NAME.test(runId)) throw new TypeError(`"${runId}" is not a valid execution name`);
      let executionArn: string | undefined;
      try {
        ({ executionArn } = await options.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: options.stateMachineArn,
            name: runId,
            // `manifestKey` is what infra/backfill.asl.json reads; `manifest` says it in full.
            input: JSON.stringify({
              manifestKey: manifest.key,
              manifest: { bucket: manifest.bucket, key: manifest.key },
            }),
          }),
          { abortSignal: signal },
        ));
      } catch (cause) {
        throw new StorageError(`could not start the backfill state machine on ${manifest.key}`, { cause });
      }
      if (!executionArn) throw new StorageError('StartExecution returned no execution ARN');
      return executionArn;
    },
  };
}
