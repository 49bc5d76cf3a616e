/**
 * One ended one-to-one video call with a single recording, as the simulator serves it: the call
 * the integration tests enrich, archive and then erase or count.
 */
import type { SimulatedCall } from '../../dev/simulator/index.ts';

/** What varies between the tests that add such a call. */
export interface EndedCallOptions {
  sessionId: string;
  /** Initiator first, receiver second; every uid joins. */
  uids: string[];
  /** `initiatedAt`, Unix seconds; the call starts 2 s later and lasts 60 s. */
  initiatedAt: number;
  /** Size of the one recording. */
  recordingBytes: number;
  recordingId: string;
  /** Give every participant an avatar URL (erasure must remove it). */
  avatars?: boolean;
}

/** The ended call described by `options`, with participants named `Full Name Of <uid>`. */
export function endedCall(options: EndedCallOptions): SimulatedCall {
  const { sessionId, uids, initiatedAt } = options;
  const startedAt = initiatedAt + 2;
  const endedAt = initiatedAt + 62;
  return {
    raw: {
      sessionId,
      type: 'video',
      mode: 'call',
      status: 'ended',
      receiverType: 'user',
      initiator: uids[0],
      receiver: uids[1],
      initiatedAt,
      startedAt,
      endedAt,
      hasRecording: true,
      participants: uids.map((uid) => ({
        uid,
        name: `Full Name Of ${uid}`,
        ...(options.avatars ? { avatar: `https://avatars.example.test/${uid}.png` } : {}),
        isJoined: true,
        joinedAt: startedAt,
        leftAt: endedAt,
      })),
    },
    recordings: [{ rid: options.recordingId, bytes: options.recordingBytes }],
  };
}
