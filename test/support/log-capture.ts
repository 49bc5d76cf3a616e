/**
 * Captures everything written to stdout/stderr (where Powertools Logger writes its JSON lines),
 * still passing it through. Patched by hand rather than with vi.spyOn so that it outlives
 * vitest's per-test mock restoration and sees a whole suite's output.
 */

/** A running capture. */
export interface OutputCapture {
  text(): string;
  lines(): string[];
  stop(): void;
}

/** Starts capturing stdout and stderr until `stop()`. */
export function captureOutput(): OutputCapture {
  const chunks: string[] = [];
  const restores = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  return {
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter(Boolean),
    stop: () => {
      for (const restore of restores) restore();
    },
  };
}
