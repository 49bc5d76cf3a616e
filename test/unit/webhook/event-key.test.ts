import { describe, expect, it } from 'vitest';
import { eventKeyOf } from '../../../lib/webhook/event-key.ts';

const URL_A = 'https://recordings-us.cometchat.io/app/1696937627-a.mp4';
const URL_B = 'https://recordings-us.cometchat.io/app/1696937627-b.mp4';

const recording = (data: Record<string, unknown>, webhook: unknown = 'wh_1') =>
  eventKeyOf({ trigger: 'recording_generated', webhook, data }, 's');

describe('eventKeyOf', () => {
  it('is 64 lower-case hex characters, a valid SQS deduplication id, whatever the parts hold', () => {
    const key = eventKeyOf(
      { trigger: 'call_ended', webhook: 'ü'.repeat(300), data: { destroyed_at: '\u0000#'.repeat(200) } },
      '#'.repeat(256),
    );

    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for a redelivery of the same envelope', () => {
    const envelope = { trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: 5 } };

    expect(eventKeyOf(structuredClone(envelope), 's')).toBe(eventKeyOf(envelope, 's'));
  });

  it('tells call_ended deliveries apart by destroyed_at, and meeting_ended too', () => {
    const ended = (trigger: string, destroyedAt: number) =>
      eventKeyOf({ trigger, webhook: 'wh', data: { destroyed_at: destroyedAt, startTime: '9' } }, 's');

    expect(ended('call_ended', 1)).not.toBe(ended('call_ended', 2));
    expect(ended('meeting_ended', 1)).not.toBe(ended('meeting_ended', 2));
    expect(ended('call_ended', 1)).not.toBe(ended('meeting_ended', 1));
  });

  it('tells two recordings of one call apart by their file when the startTime is the same', () => {
    expect(recording({ startTime: '1696937627', recording_url: URL_A })).not.toBe(
      recording({ startTime: '1696937627', recording_url: URL_B }),
    );
  });

  it('tells two recordings apart by their file when neither has a startTime', () => {
    expect(recording({ recording_url: URL_A })).not.toBe(recording({ recording_url: URL_B }));
  });

  it('reads the SDK spelling recordingUrl as well', () => {
    expect(recording({ startTime: 1, recordingUrl: URL_A })).not.toBe(
      recording({ startTime: 1, recordingUrl: URL_B }),
    );
    expect(recording({ startTime: 1, recordingUrl: URL_A })).toBe(
      recording({ startTime: 1, recording_url: URL_A }),
    );
  });

  it('tells recordings apart by startTime when the file is the same', () => {
    expect(recording({ startTime: '1', recording_url: URL_A })).not.toBe(
      recording({ startTime: '2', recording_url: URL_A }),
    );
  });

  it("ignores a recording URL's query and fragment (a signature that changes between deliveries)", () => {
    expect(recording({ startTime: '1', recording_url: `${URL_A}?Expires=1&Signature=x` })).toBe(
      recording({ startTime: '1', recording_url: `${URL_A}?Expires=2&Signature=y#t=3` }),
    );
    expect(recording({ recording_url: '/relative/a.mp4?sig=1' })).toBe(
      recording({ recording_url: '/relative/a.mp4' }),
    );
  });

  it('joins its parts without ambiguity', () => {
    // Joined with ":" these were one key, "wh:call_ended:S:1:x".
    expect(eventKeyOf({ trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: '1:x' } }, 'S')).not.toBe(
      eventKeyOf({ trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: 'x' } }, 'S:1'),
    );
  });

  it('treats a missing, null or unusable part alike, and apart from any value', () => {
    const missing = eventKeyOf({ trigger: 'call_ended', webhook: 'wh', data: {} }, 's');

    expect(eventKeyOf({ trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: { n: 1 } } }, 's')).toBe(
      missing,
    );
    expect(
      eventKeyOf({ trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: Number.NaN } }, 's'),
    ).toBe(missing);
    expect(eventKeyOf({ trigger: 'call_ended', webhook: 'wh', data: null }, 's')).toBe(missing);
    expect(eventKeyOf({ trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: '' } }, 's')).not.toBe(
      missing,
    );
    expect(
      eventKeyOf({ trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: 'null' } }, 's'),
    ).not.toBe(missing);
  });

  it('keeps webhook, trigger and session id in the key', () => {
    const base = { trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: 5 } };

    expect(eventKeyOf({ ...base, webhook: 'other' }, 's')).not.toBe(eventKeyOf(base, 's'));
    expect(eventKeyOf(base, 't')).not.toBe(eventKeyOf(base, 's'));
  });
});
