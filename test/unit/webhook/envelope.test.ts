import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideWebhook, parseEnvelope } from '../../../lib/webhook/envelope.ts';
import { eventKeyOf } from '../../../lib/webhook/event-key.ts';
import { thrownBy } from '../../support/errors.ts';

// Any UTF-16 code unit, lone surrogates and control characters included (fast-check's
// 'binary' unit costs seconds to set up).
const CODE_UNIT = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

const APP_ID = '2f6c81d0a9e4b357';
const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8');
const fixtureObject = (name: string) => JSON.parse(fixture(name)) as Record<string, unknown>;
const decide = (body: string) => decideWebhook(body, { appId: APP_ID });

describe('decideWebhook', () => {
  it('queues call_ended with its session id and documented idempotency key', () => {
    const decision = decide(fixture('call-ended'));

    expect(decision).toEqual({
      kind: 'enqueue',
      message: {
        sessionId: 'v1.us.2f6c81d0a9e4b357.1696934199a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4',
        trigger: 'call_ended',
        eventKey: eventKeyOf(
          fixtureObject('call-ended') as { trigger: string },
          'v1.us.2f6c81d0a9e4b357.1696934199a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4',
        ),
      },
    });
  });

  it('queues meeting_ended', () => {
    const decision = decide(fixture('meeting-ended'));

    expect(decision.kind).toBe('enqueue');
  });

  it('queues two recording_generated for different files of one session with different keys', () => {
    const first = fixtureObject('recording-generated');
    const second = structuredClone(first);
    (second.data as Record<string, unknown>).recording_url =
      'https://recordings-us.cometchat.io/x/second.mp4';

    const keys = [first, second].map((envelope) => {
      const decision = decide(JSON.stringify(envelope));
      return decision.kind === 'enqueue' ? decision.message.eventKey : undefined;
    });

    expect(keys[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(keys[1]).toMatch(/^[0-9a-f]{64}$/);
    expect(keys[1]).not.toBe(keys[0]);
  });

  it.each([
    ['call-initiated', 'call_initiated'],
    ['call-busy', 'call_busy'],
  ])('ignores %s, which carries no data.sessionId', (name, trigger) => {
    const decision = decide(fixture(name));

    expect(decision).toEqual({ kind: 'ignore', trigger, reason: `trigger "${trigger}" is not archived` });
  });

  it('ignores a trigger it does not archive even when it has a session id', () => {
    const body = JSON.stringify({ ...fixtureObject('meeting-ended'), trigger: 'meeting_started' });

    expect(decide(body).kind).toBe('ignore');
  });

  it('refuses an envelope for another app before looking at its trigger', () => {
    const ignoredTrigger = JSON.stringify({ ...fixtureObject('call-busy'), appId: 'someone-else' });

    expect(thrownBy(() => decide(fixture('foreign-app'))).name).toBe('ForeignAppError');
    expect(thrownBy(() => decide(ignoredTrigger)).name).toBe('ForeignAppError');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 42],
    ['over 256 characters', 'v'.repeat(257)],
    ['with a control character', 'v1.us.a\u0000b'],
    ['"."', '.'],
    ['".."', '..'],
  ])('throws InvalidInputError naming data.sessionId when it is %s', (_label, sessionId) => {
    const envelope = fixtureObject('call-ended');
    (envelope.data as Record<string, unknown>).sessionId = sessionId;

    const error = thrownBy(() => decide(JSON.stringify(envelope)));

    expect(error.name).toBe('InvalidInputError');
    expect(error.message).toMatch(/^data\.sessionId/);
  });

  it('throws InvalidInputError for an archived trigger without data', () => {
    const body = JSON.stringify({ trigger: 'call_ended', appId: APP_ID });

    expect(thrownBy(() => decide(body)).name).toBe('InvalidInputError');
  });

  it('does not take sessionId from the prototype chain', () => {
    const body = `{"trigger":"call_ended","appId":"${APP_ID}","data":{"__proto__":{"sessionId":"v1.us.x"}}}`;

    expect(thrownBy(() => decide(body)).name).toBe('InvalidInputError');
  });

  it('quotes a strange trigger safely in its reason', () => {
    const body = JSON.stringify({ trigger: 'evil"\n<trigger>', appId: APP_ID, data: {} });

    const decision = decide(body);

    expect(decision.kind === 'ignore' && decision.reason).toBe(
      'trigger "evil\\"\\u000a<trigger>" is not archived',
    );
  });
});

describe('parseEnvelope', () => {
  it.each([
    ['not JSON', '{"trigger":'],
    ['empty', ''],
    ['a JSON array', '[]'],
    ['a JSON string', '"call_ended"'],
    ['null', 'null'],
    ['without a trigger', `{"appId":"${APP_ID}","data":{}}`],
    ['with a non-string trigger', `{"trigger":1,"appId":"${APP_ID}"}`],
    ['without an appId', '{"trigger":"call_ended","data":{"sessionId":"s"}}'],
    ['with a non-string appId', '{"trigger":"call_ended","appId":7}'],
  ])('throws MalformedWebhookError for a body that is %s', (_label, body) => {
    expect(thrownBy(() => parseEnvelope(body)).name).toBe('MalformedWebhookError');
  });
});

describe('decideWebhook on any input', () => {
  const TYPED = ['MalformedWebhookError', 'ForeignAppError', 'InvalidInputError'];
  const outcome = (body: string) => {
    try {
      return decide(body).kind;
    } catch (error) {
      return (error as Error).name;
    }
  };

  it('throws nothing but its typed errors for any JSON value', () => {
    fc.assert(
      fc.property(fc.json(), (body) => {
        expect(['enqueue', 'ignore', ...TYPED]).toContain(outcome(body));
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but its typed errors for envelope-shaped JSON with arbitrary parts', () => {
    const envelope = fc.record(
      {
        trigger: fc.oneof(
          fc.constantFrom('call_ended', 'meeting_ended', 'recording_generated', 'call_busy'),
          fc.jsonValue(),
        ),
        appId: fc.oneof(fc.constant(APP_ID), fc.jsonValue()),
        data: fc.oneof(
          fc.record({ sessionId: fc.oneof(fc.string(), fc.jsonValue()), destroyed_at: fc.jsonValue() }),
          fc.jsonValue(),
        ),
        webhook: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(envelope, (value) => {
        expect(['enqueue', 'ignore', ...TYPED]).toContain(outcome(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but its typed errors for arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: CODE_UNIT }), (body) => {
        expect(['enqueue', 'ignore', ...TYPED]).toContain(outcome(body));
      }),
    );
  });

  it('queues only sessions whose id would pass the consumer', () => {
    fc.assert(
      fc.property(fc.string({ unit: CODE_UNIT, maxLength: 300 }), (sessionId) => {
        const body = JSON.stringify({ trigger: 'call_ended', appId: APP_ID, data: { sessionId } });
        const result = outcome(body);
        expect(['enqueue', 'InvalidInputError']).toContain(result);
        if (result === 'enqueue') expect(sessionId.length).toBeLessThanOrEqual(256);
      }),
    );
  });
});
