/**
 * The calls CLI's progress bar: what a child process in the integration suite cannot show
 * (its stderr is never a terminal, so it never draws a progress bar).
 */
import { describe, expect, it } from 'vitest';
import { progressBar } from '../../../../dev/cli/output.ts';

function terminal(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (chunk: string) => writes.push(chunk) > 0 } };
}

describe('progressBar', () => {
  it('draws on a terminal, advancing to a full bar, then clears its line', () => {
    const { writes, stream } = terminal(true);

    const bar = progressBar(2, stream);
    bar.advance('v1.us.a');
    bar.advance('v1.us.b');
    bar.end();

    expect(writes[0]).toBe(`\r[${'.'.repeat(24)}] 0/2 \x1b[K`);
    expect(writes[1]).toBe(`\r[${'#'.repeat(12)}${'.'.repeat(12)}] 1/2 v1.us.a\x1b[K`);
    expect(writes[2]).toBe(`\r[${'#'.repeat(24)}] 2/2 v1.us.b\x1b[K`);
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('fits the line to the terminal width', () => {
    const { writes, stream } = terminal(true, 40);

    progressBar(3, stream).advance(
      'v1.us.2f6c81d0a9e4b357.1795384813fee91a58413abf19281cc19f44518fa794e13e73',
    );

    expect(writes.at(-1)?.replace('\r', '').replace('\x1b[K', '')).toHaveLength(39);
  });

  it.each([
    ['stderr is not a terminal', false, 5],
    ['there is a single item', true, 1],
  ])('draws nothing when %s', (_label, isTTY, total) => {
    const { writes, stream } = terminal(isTTY);

    const bar = progressBar(total, stream);
    bar.advance('v1.us.a');
    bar.end();

    expect(writes).toEqual([]);
  });
});
