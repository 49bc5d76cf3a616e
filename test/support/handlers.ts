/**
 * Loading a Lambda handler the way a cold start does. The handlers read their configuration
 * when first imported, so apply the environment before calling {@link importHandler}.
 */
import { vi } from 'vitest';

/** Options for {@link importHandler}. */
export interface ImportHandlerOptions {
  /**
   * Start from a fresh module registry (`vi.resetModules()`), so the handler and everything it
   * imports read the current environment. Default true; false to load a second handler into the
   * registry of the one just imported, sharing its modules.
   */
  fresh?: boolean;
}

/** The `handler` export of `path` (relative to the repository root, e.g. `functions/webhook.ts`). */
export async function importHandler<T>(path: string, options: ImportHandlerOptions = {}): Promise<T> {
  if (options.fresh ?? true) vi.resetModules();
  const module = (await import(new URL(`../../${path}`, import.meta.url).href)) as { handler: unknown };
  return module.handler as T;
}
