import { describe, expect, it } from 'vitest';
import { applyErasure } from '../../../lib/erase/apply.ts';
import { parseEraseInput } from '../../../lib/erase/erase.ts';
import { redactCall, redactRaw, uidHash } from '../../../lib/erase/redact.ts';
import { EraseInputError } from '../../../lib/errors.ts';
import { fullCallItem } from '../../support/call-items.ts';

const SALT = 'a-salt-of-sixteen-or-more';

describe('uidHash', () => {
  it('is a keyed hash: the same uid and salt agree, another salt does not', () => {
    expect(uidHash(SALT, 'alice')).toMatch(/^[0-9a-f]{64}$/);
    expect(uidHash(SALT, 'alice')).toBe(uidHash(SALT, 'alice'));
    expect(uidHash(`${SALT}x`, 'alice')).not.toBe(uidHash(SALT, 'alice'));
  });
});

describe('redactCall', () => {
  it('replaces the user’s uid, name and avatar, and as initiator, and leaves the others', () => {
    const hashes = new Map([['alice', 'h1']]);
    const call = redactCall(fullCallItem(), hashes);

    expect(call.participants[0]).toMatchObject({
      uid: 'erased:h1',
      name: 'erased:h1',
      avatar: 'erased:h1',
      redacted: true,
    });
    expect(call.participants[1]).toMatchObject({ uid: 'bob', name: 'Bob' });
    expect(call.participants[1]).not.toHaveProperty('redacted');
    expect(call.initiator).toBe('erased:h1');
    expect(call.receiver).toBe('bob');
    expect(JSON.stringify(call)).not.toMatch(/alice|Alice/);
  });
});

describe('redactRaw', () => {
  it('redacts every object naming the user and every string that is their uid, at any depth', () => {
    const raw = {
      initiator: 'alice',
      data: { entities: { by: { uid: 'alice', name: 'Alice', avatar: 'https://a/x.png' } } },
      participants: [
        { uid: 'alice', name: 'Alice' },
        { uid: 'bob', name: 'Bob' },
      ],
    };

    const redacted = redactRaw(raw, new Map([['alice', 'h1']]));

    expect(JSON.stringify(redacted)).not.toMatch(/alice|Alice/);
    expect(redacted).toMatchObject({
      initiator: 'erased:h1',
      participants: [
        { uid: 'erased:h1', name: 'erased:h1' },
        { uid: 'bob', name: 'Bob' },
      ],
    });
  });
});

describe('applyErasure', () => {
  it('changes nothing to keep, and redacts both the call and the raw response to redact', () => {
    const normalised = { call: fullCallItem(), recordings: [], transcripts: [] };
    const raw = { participants: [{ uid: 'bob', name: 'Bob' }] };

    expect(applyErasure(normalised, raw, { action: 'keep' })).toEqual({ normalised, raw });
    const applied = applyErasure(normalised, raw, { action: 'redact', hashes: new Map([['bob', 'h2']]) });
    expect(JSON.stringify(applied)).not.toMatch(/"bob"|Bob/);
  });
});

describe('parseEraseInput', () => {
  it.each([
    [{ mode: 'delete' }, 'uid'],
    [{ uid: '', mode: 'delete' }, 'uid'],
    [{ uid: 'a', mode: 'forget' }, 'mode'],
    [{ uid: 'a', mode: 'redact', dryRun: 'yes' }, 'dryRun'],
    [{ uid: 'a', mode: 'redact', includeHeld: 1 }, 'includeHeld'],
  ])('refuses %j, naming %s', (event, field) => {
    expect(() => parseEraseInput(event)).toThrow(EraseInputError);
    expect(() => parseEraseInput(event)).toThrow(field);
  });

  it('never puts the uid in its message', () => {
    expect(() => parseEraseInput({ uid: 'secret-uid', mode: 'x' })).not.toThrow(/secret-uid/);
  });
});
