/**
 * Generates many simulator calls for List Calls tests: deterministic ids shaped like
 * CometChat's, distinct `initiatedAt`s (so the simulator's newest-first order is fixed), a mix
 * of final statuses, and the newest few still in progress, as a live app's listing looks.
 */
import { createHash } from 'node:crypto';
import type { SimulatedCall } from '../../dev/simulator/index.ts';
import { SAMPLE_APP_ID } from '../../dev/simulator/sample-calls.ts';

/** What to generate. */
export interface GeneratedCallsOptions {
  count: number;
  /** `initiatedAt` of the newest call, Unix seconds. */
  newest: number;
  /** Seconds between one call and the next older one; default 60. */
  spacingSeconds?: number;
  /** How many of the newest calls are still in progress (`ongoing` or `initiated`); default 0. */
  inProgress?: number;
  /** Makes the ids of one batch differ from another's; default `call`. */
  label?: string;
}

const FINAL = ['ended', 'ended', 'ended', 'unanswered', 'rejected', 'canceled', 'busy'] as const;

/** `v1.us.<appId>.<initiatedAt><40 hex>`, like every published example. */
export function generatedSessionId(initiatedAt: number, label: string): string {
  const hex = createHash('sha256').update(`${label}:${initiatedAt}`).digest('hex').slice(0, 40);
  return `v1.us.${SAMPLE_APP_ID}.${initiatedAt}${hex}`;
}

/** `count` calls, newest first. */
export function generateCalls(options: GeneratedCallsOptions): SimulatedCall[] {
  const spacing = options.spacingSeconds ?? 60;
  const label = options.label ?? 'call';
  return Array.from({ length: options.count }, (_, i) => {
    const initiatedAt = options.newest - i * spacing;
    const inProgress = i < (options.inProgress ?? 0);
    const status = inProgress ? (i % 2 === 0 ? 'ongoing' : 'initiated') : FINAL[i % FINAL.length];
    const answered = status === 'ended' || status === 'ongoing';
    const startedAt = answered ? initiatedAt + 5 : undefined;
    const endedAt =
      status === 'ended' ? initiatedAt + 65 : status === 'ongoing' ? undefined : initiatedAt + 30;
    const initiator = `cometchat-uid-${(i % 5) + 1}`;
    const receiver = `cometchat-uid-${((i + 1) % 5) + 1}`;
    const raw: Record<string, unknown> = {
      sessionId: generatedSessionId(initiatedAt, label),
      type: i % 3 === 0 ? 'video' : 'audio',
      mode: 'call',
      status,
      receiverType: 'user',
      initiator,
      receiver,
      initiatedAt,
      totalParticipants: 2,
      hasRecording: false,
      participants: [
        {
          uid: initiator,
          isJoined: answered,
          ...(answered ? { deviceId: `${initiator}-device`, joinedAt: startedAt } : {}),
        },
        { uid: receiver, isJoined: answered, state: answered ? status : 'unanswered' },
      ],
    };
    if (startedAt !== undefined) raw.startedAt = startedAt;
    if (endedAt !== undefined) raw.endedAt = endedAt;
    return { raw };
  });
}

/** The session id of a generated call. */
export function sessionIdOf(call: SimulatedCall): string {
  return call.raw.sessionId as string;
}
