/** Simulators a test file starts, each closed after its test. */
import { afterEach } from 'vitest';
import {
  type CometChatSimulator,
  type CometChatSimulatorOptions,
  startCometChatSimulator,
} from '../../../../dev/simulator/index.ts';

const running: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** Closes `server` after the current test. */
export function closeAfterTest(server: { close(): Promise<void> }): void {
  running.push(server);
}

/** Starts a simulator that is closed after the current test. */
export async function start(options: CometChatSimulatorOptions = {}): Promise<CometChatSimulator> {
  const sim = await startCometChatSimulator(options);
  closeAfterTest(sim);
  return sim;
}
