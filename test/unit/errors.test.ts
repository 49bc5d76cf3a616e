import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as errors from '../../lib/errors.ts';
import {
  CallNotFoundError,
  CometChatAuthError,
  CometChatRateLimitError,
  CometChatUnavailableError,
  ConfigError,
  EnrichmentError,
  InvalidCallDataError,
  InvalidInputError,
  isPermanent,
  RecordingDownloadError,
  RecordingRejectedError,
  StorageError,
} from '../../lib/errors.ts';

type ErrorClass = new (message: string, options?: { cause?: unknown }) => Error;

/** Every concrete error class errors.ts exports, keyed by its export name (picks up additions too). */
function errorClasses(module: Record<string, unknown>): [string, ErrorClass][] {
  return Object.entries(module).filter(
    (entry): entry is [string, ErrorClass] =>
      typeof entry[1] === 'function' &&
      entry[1].prototype instanceof Error &&
      // The abstract base is never thrown; it has no name of its own.
      entry[0] !== 'EnrichmentError',
  );
}

/** Every exported EnrichmentError subclass, including ones added after this test was written. */
function enrichmentErrors(): [string, new (message: string) => EnrichmentError][] {
  return errorClasses(errors).filter(
    (entry): entry is [string, new (message: string) => EnrichmentError] =>
      entry[1].prototype instanceof EnrichmentError,
  );
}

/** The contract's table (plus the project's additions): may retrying the same input later help? */
const RETRYABLE = {
  InvalidInputError: false,
  CallNotFoundError: false,
  CometChatAuthError: false,
  CometChatRateLimitError: true,
  CometChatUnavailableError: true,
  InvalidCallDataError: false,
  RecordingDownloadError: true,
  RecordingRejectedError: false,
  StorageError: true,
} as const;

/** The contract's "never" rows: the queue consumer dead-letters these at once. */
const PERMANENT_ERROR_NAMES = [
  'InvalidInputError',
  'CallNotFoundError',
  'CometChatAuthError',
  'CometChatRequestError',
  'InvalidCallDataError',
  'RecordingRejectedError',
] as const;

const ENRICHMENT_ERRORS: Record<keyof typeof RETRYABLE, new (message: string) => EnrichmentError> = {
  InvalidInputError,
  CallNotFoundError,
  CometChatAuthError,
  CometChatRateLimitError,
  CometChatUnavailableError,
  InvalidCallDataError,
  RecordingDownloadError,
  RecordingRejectedError,
  StorageError,
};

describe('errors', () => {
  let minified: Record<string, unknown>;
  let directory: string;

  beforeAll(async () => {
    // Bundle and minify the module the way the deployed functions are built, minus keepNames,
    // so the class names really are mangled and only the explicit `name` fields are left.
    directory = await mkdtemp(join(tmpdir(), 'errors-minified-'));
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../../lib/errors.ts', import.meta.url))],
      bundle: true,
      minify: true,
      keepNames: false,
      format: 'esm',
      platform: 'node',
      write: false,
    });
    const file = join(directory, 'errors.mjs');
    await writeFile(file, result.outputFiles[0]?.text ?? '');
    minified = await import(pathToFileURL(file).href);
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('exports every error class the contract names', () => {
    const names = errorClasses(errors).map(([name]) => name);

    expect(names).toEqual(expect.arrayContaining([...Object.keys(RETRYABLE), 'ConfigError']));
  });

  it('gives each instance a name equal to its class name', () => {
    for (const [exportName, ErrorClass] of errorClasses(errors)) {
      const error = new ErrorClass('m');

      expect(error.name, exportName).toBe(exportName);
      expect(error.message).toBe('m');
      expect(error).toBeInstanceOf(Error);
      expect(String(error)).toBe(`${exportName}: m`);
    }
  });

  it('keeps each name when a minifier has renamed the classes', () => {
    const classes = errorClasses(minified);
    const names = (list: [string, ErrorClass][]) => list.map(([name]) => name).sort();
    expect(names(classes)).toEqual(names(errorClasses(errors)));
    // Proves the minifier did rename them, so the check below means something.
    expect(classes.some(([exportName, ErrorClass]) => ErrorClass.name !== exportName)).toBe(true);

    for (const [exportName, ErrorClass] of classes) {
      expect(new ErrorClass('m').name, exportName).toBe(exportName);
    }
  });

  it('says whether retrying can help as the contract table does', () => {
    for (const [name, ErrorClass] of Object.entries(ENRICHMENT_ERRORS)) {
      const error = new ErrorClass('m');

      expect(error).toBeInstanceOf(EnrichmentError);
      expect(error.retryable, name).toBe(RETRYABLE[name as keyof typeof RETRYABLE]);
    }
  });

  it('keeps the cause it was given', () => {
    const cause = new Error('underlying');

    for (const [exportName, ErrorClass] of errorClasses(errors)) {
      expect(new ErrorClass('m', { cause }).cause, exportName).toBe(cause);
    }
  });

  it('keeps the extra detail of the rate-limit and download errors alongside the cause', () => {
    const cause = new Error('underlying');

    const rateLimited = new CometChatRateLimitError('slow down', { cause, retryAfterSeconds: 30 });
    const download = new RecordingDownloadError('gone', { cause, statusCode: 403 });

    expect(rateLimited).toMatchObject({ cause, retryAfterSeconds: 30, name: 'CometChatRateLimitError' });
    expect(download).toMatchObject({ cause, statusCode: 403, name: 'RecordingDownloadError' });
    expect(new CometChatRateLimitError('m').retryAfterSeconds).toBeUndefined();
    expect(new RecordingDownloadError('m').statusCode).toBeUndefined();
  });

  it('lists as permanent exactly the exported errors that are not retryable', () => {
    const permanent = enrichmentErrors()
      .filter(([, ErrorClass]) => !new ErrorClass('m').retryable)
      .map(([name]) => name);

    expect([...PERMANENT_ERROR_NAMES].sort()).toEqual(permanent.sort());
  });

  it('calls an error permanent exactly when it is not retryable and its name is listed', () => {
    for (const [name, ErrorClass] of enrichmentErrors()) {
      const error = new ErrorClass('m');

      expect(isPermanent(error), name).toBe(!error.retryable);
      expect(isPermanent(error), name).toBe(
        (PERMANENT_ERROR_NAMES as readonly string[]).includes(error.name),
      );
    }
  });

  it('treats unknown errors and non-errors as retryable', () => {
    expect(isPermanent(new Error('boom'))).toBe(false);
    expect(isPermanent(new TypeError('boom'))).toBe(false);
    expect(isPermanent(new ConfigError('missing'))).toBe(false);
    expect(isPermanent('InvalidInputError')).toBe(false);
    expect(isPermanent({ name: 'InvalidInputError', retryable: false })).toBe(false);
    expect(isPermanent(undefined)).toBe(false);
  });
});
