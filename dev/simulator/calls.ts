/**
 * The calls a simulator serves: their shape as tests and sample data write them, and the
 * registry the API and the recording host both read.
 */

/** A recording of a simulated call; its URL is minted at request time. */
export interface SimulatedRecording {
  rid: string;
  bytes: number;
  /** Default `video/mp4`. */
  contentType?: string;
  /** Default `mp4`. */
  ext?: string;
  /** Unix seconds; default the call's `startedAt` (or `initiatedAt`). */
  startTime?: number;
  /** Unix seconds; default the call's `endedAt`. */
  endTime?: number;
  /** Which documented spelling carries the URL; default `recording_url`. */
  urlField?: 'recording_url' | 'recordingUrl';
  /** Render `startTime`, `endTime`, `duration` as numeric strings, webhook style. Default false. */
  numbersAsStrings?: boolean;
}

/**
 * A transcript of a simulated call (JSON), served by the recording host at a signed URL minted at
 * request time. Get Call lists the 5 newest that are available; the transcriptions endpoint all.
 */
export interface SimulatedTranscript {
  /** Absent: the item carries no `tid` (the archive then derives one from the URL's path). */
  tid?: string;
  /** Unix seconds; the newest (latest `startTime`) are listed first. */
  startTime?: number;
  endTime?: number;
  /**
   * Milliseconds since the epoch on the simulator's clock before which the transcript does not
   * exist yet (CometChat produces transcripts after the call, and no webhook says so).
   */
  availableFrom?: number;
  /** Which documented spelling carries the URL: `transcriptUrl` (REST, default) or `url` (SDK). */
  urlField?: 'transcriptUrl' | 'url';
  /** Listed instead of the host's own URL (e.g. one on a host the URL policy refuses). */
  url?: string;
}

/** A call the simulator serves. */
export interface SimulatedCall {
  /** The call object as CometChat returns it, without `recordings` (built per request). */
  raw: Record<string, unknown>;
  recordings?: SimulatedRecording[];
  /** Rendered as `transcriptions[]` (the 5 newest) and served by the transcriptions endpoint. */
  transcripts?: SimulatedTranscript[];
  /** How Get Call wraps it: `{"data": call}` (default) or `{"data": [call]}`. */
  dataShape?: 'object' | 'array';
}

/** A recording as stored: its content changes version when a test replaces it. */
export interface StoredRecording extends SimulatedRecording {
  /** 0 for the content a rid starts with; each replacement adds one. */
  version: number;
  /** Milliseconds since the epoch, whole seconds (HTTP dates have no finer grain). */
  modifiedAt: number;
}

/** A transcript as stored: `name` is its file name on the host. */
export interface StoredTranscript extends SimulatedTranscript {
  name: string;
}

/** A call as stored. */
export interface StoredCall {
  raw: Record<string, unknown>;
  recordings: StoredRecording[];
  transcripts: StoredTranscript[];
  dataShape: 'object' | 'array';
}

/** The simulator's calls by session id, in the order they were added. */
export class CallRegistry {
  private readonly calls = new Map<string, StoredCall>();

  constructor(private readonly clock: () => number) {}

  add(call: SimulatedCall): void {
    const sessionId = call.raw.sessionId;
    if (typeof sessionId !== 'string' || sessionId === '') {
      throw new TypeError('a simulated call needs raw.sessionId (a non-empty string)');
    }
    for (const recording of call.recordings ?? []) {
      if (!Number.isSafeInteger(recording.bytes) || recording.bytes < 0) {
        throw new RangeError('bytes must be a non-negative integer');
      }
    }
    const modifiedAt = wholeSeconds(this.clock());
    // Deleted first so a replaced call moves to the end of the insertion order.
    this.calls.delete(sessionId);
    this.calls.set(sessionId, {
      raw: structuredClone(call.raw),
      recordings: structuredClone(call.recordings ?? []).map((r) => ({ ...r, version: 0, modifiedAt })),
      transcripts: structuredClone(call.transcripts ?? []).map((t, i) => ({
        ...t,
        name: `${t.tid ?? `untitled-${i}`}.json`,
      })),
      dataShape: call.dataShape ?? 'object',
    });
  }

  update(sessionId: string, raw: Partial<Record<string, unknown>>): void {
    const stored = this.calls.get(sessionId);
    if (!stored) throw new Error(`no simulated call ${sessionId}`);
    for (const [key, value] of Object.entries(raw)) {
      if (value === undefined) delete stored.raw[key];
      else stored.raw[key] = structuredClone(value);
    }
    stored.raw.sessionId = sessionId;
  }

  remove(sessionId: string): void {
    this.calls.delete(sessionId);
  }

  get(sessionId: string): StoredCall | undefined {
    return this.calls.get(sessionId);
  }

  sessionIds(): string[] {
    return [...this.calls.keys()];
  }

  entries(): [string, StoredCall][] {
    return [...this.calls.entries()];
  }

  /** Adds transcripts to a call (they may be available only later: `availableFrom`). */
  addTranscripts(sessionId: string, transcripts: readonly SimulatedTranscript[]): void {
    const stored = this.calls.get(sessionId);
    if (!stored) throw new Error(`no simulated call ${sessionId}`);
    const start = stored.transcripts.length;
    stored.transcripts.push(
      ...structuredClone([...transcripts]).map((t, i) => ({
        ...t,
        name: `${t.tid ?? `untitled-${start + i}`}.json`,
      })),
    );
  }

  /** The transcripts of a call that exist at `now` (ms), newest first. */
  availableTranscripts(stored: StoredCall, now: number): StoredTranscript[] {
    return stored.transcripts
      .filter((t) => t.availableFrom === undefined || t.availableFrom <= now)
      .sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0) || (a.name < b.name ? -1 : 1));
  }

  /** The first recording with this rid, and its call's session id. */
  recording(rid: string): { sessionId: string; recording: StoredRecording } | undefined {
    for (const [sessionId, stored] of this.calls) {
      const recording = stored.recordings.find((r) => r.rid === rid);
      if (recording) return { sessionId, recording };
    }
    return undefined;
  }

  /**
   * Gives a recording new content (and optionally a new size): a new version, so a new ETag, and
   * a Last-Modified at least a second later, since HTTP dates cannot tell apart two in one second.
   */
  replaceContent(rid: string, bytes?: number): StoredRecording {
    const found = this.recording(rid);
    if (!found) throw new Error(`no simulated recording ${rid}`);
    const { recording } = found;
    if (bytes !== undefined) {
      if (!Number.isSafeInteger(bytes) || bytes < 0)
        throw new RangeError('bytes must be a non-negative integer');
      recording.bytes = bytes;
    }
    recording.version += 1;
    recording.modifiedAt = Math.max(wholeSeconds(this.clock()), recording.modifiedAt + 1000);
    return recording;
  }
}

function wholeSeconds(ms: number): number {
  return ms - (ms % 1000);
}
