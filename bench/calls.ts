/** Simulated calls for the benchmarks: big group calls, and one with a recording. */
import { createHash } from 'node:crypto';
import type { SimulatedCall } from '../dev/simulator/index.ts';
import { SAMPLE_APP_ID } from '../dev/simulator/sample-calls.ts';

function sessionIdFor(initiatedAt: number, label: string): string {
  const hex = createHash('sha256').update(`${label}:${initiatedAt}`).digest('hex').slice(0, 40);
  return `v1.us.${SAMPLE_APP_ID}.${initiatedAt}${hex}`;
}

/**
 * An ended group video call with `participants` people who each joined once, shaped like
 * CometChat's Get Call answer. `recordingBytes` adds one recording of that size.
 */
export function groupCall(
  index: number,
  options: { participants: number; newest: number; label: string; recordingBytes?: number },
): SimulatedCall {
  const initiatedAt = options.newest - index * 600;
  const startedAt = initiatedAt + 5;
  const endedAt = startedAt + 1800;
  const sessionId = sessionIdFor(initiatedAt, options.label);
  const participants = Array.from({ length: options.participants }, (_, p) => {
    const joinedAt = startedAt + p;
    const minutes = (endedAt - joinedAt) / 60;
    return {
      uid: `bench-user-${p}`,
      name: `Bench User ${p}`,
      avatar: `https://assets.example.com/users/bench-user-${p}.webp`,
      deviceId: createHash('sha256').update(`${sessionId}:${p}`).digest('hex').slice(0, 32),
      isJoined: true,
      joinedAt,
      leftAt: endedAt,
      mid: createHash('sha256').update(`${sessionId}:${p}:mid`).digest('hex').slice(0, 32),
      state: 'ended',
      totalAudioMinutes: 0,
      totalVideoMinutes: minutes,
      totalDurationInMinutes: minutes,
    };
  });
  return {
    raw: {
      sessionId,
      type: 'video',
      mode: 'meet',
      status: 'ended',
      receiverType: 'group',
      initiator: 'bench-user-0',
      receiver: 'bench-group',
      initiatedAt,
      startedAt,
      endedAt,
      totalDuration: '00:30:00',
      totalDurationInMinutes: 30,
      totalAudioMinutes: 0,
      totalVideoMinutes: participants.reduce((sum, p) => sum + p.totalVideoMinutes, 0),
      totalParticipants: options.participants,
      hasRecording: options.recordingBytes !== undefined,
      tags: [],
      metaData: [],
      participants,
    },
    ...(options.recordingBytes !== undefined && {
      recordings: [
        {
          rid: createHash('sha256').update(`${sessionId}:rec`).digest('hex').slice(0, 24),
          bytes: options.recordingBytes,
        },
      ],
    }),
  };
}
