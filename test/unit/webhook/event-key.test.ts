import { describe, expect, it } from 'vitest';
import { eventKeyOf } from '../../../lib/webhook/event-key.ts';

describe('eventKeyOf', () => {
  it('joins webhook, trigger, session id and destroyed_at for call_ended', () => {
    const key = eventKeyOf(
      { trigger: 'call_ended', webhook: 'wh_1', data: { sessionId: 'v1.us.a', destroyed_at: 1696934553 } },
      'v1.us.a',
    );

    expect(key).toBe('wh_1:call_ended:v1.us.a:1696934553');
  });

  it('uses destroyed_at for meeting_ended too', () => {
    const key = eventKeyOf(
      { trigger: 'meeting_ended', webhook: 'wh_1', data: { destroyed_at: 1696934730, startTime: '9' } },
      's',
    );

    expect(key).toBe('wh_1:meeting_ended:s:1696934730');
  });

  it('uses startTime for recording_generated, so two recordings of one call differ', () => {
    const first = eventKeyOf(
      { trigger: 'recording_generated', webhook: 'wh_1', data: { startTime: '1696937627', destroyed_at: 1 } },
      's',
    );
    const second = eventKeyOf(
      { trigger: 'recording_generated', webhook: 'wh_1', data: { startTime: '1696937999' } },
      's',
    );

    expect(first).toBe('wh_1:recording_generated:s:1696937627');
    expect(second).not.toBe(first);
  });

  it('renders missing or unusable parts as empty', () => {
    expect(eventKeyOf({ trigger: 'call_ended', data: { destroyed_at: { nested: 1 } } }, 's')).toBe(
      ':call_ended:s:',
    );
    expect(eventKeyOf({ trigger: 'call_ended', webhook: 42, data: null }, 's')).toBe('42:call_ended:s:');
    expect(eventKeyOf({ trigger: 'call_ended', data: { destroyed_at: Number.NaN } }, 's')).toBe(
      ':call_ended:s:',
    );
  });

  it('is the same for a redelivery of the same envelope', () => {
    const envelope = { trigger: 'call_ended', webhook: 'wh', data: { destroyed_at: 5 } };

    expect(eventKeyOf(structuredClone(envelope), 's')).toBe(eventKeyOf(envelope, 's'));
  });
});
