import { describe, expect, it } from 'vitest';
import { erasureForHeld } from '../../../lib/erase/apply.ts';
import { redactCall } from '../../../lib/erase/redact.ts';
import { fullCallItem } from '../../support/call-items.ts';

describe('erasureForHeld (a legal hold wins over a later erasure)', () => {
  const redactAlice = { action: 'redact' as const, hashes: new Map([['alice', 'h1']]) };

  it('keeps a held call as it was when the erased user is not yet redacted in it', () => {
    expect(erasureForHeld(redactAlice, fullCallItem())).toEqual({ action: 'keep' });
  });

  it('keeps applying what an erasure already did to the held call (includeHeld)', () => {
    const stored = redactCall(fullCallItem(), new Map([['alice', 'h1']]));

    expect(erasureForHeld(redactAlice, stored)).toEqual(redactAlice);
  });

  it('limits the redaction to the users already redacted in the stored call', () => {
    const stored = redactCall(fullCallItem(), new Map([['alice', 'h1']]));
    const both = {
      action: 'redact' as const,
      hashes: new Map([
        ['alice', 'h1'],
        ['bob', 'h2'],
      ]),
    };

    expect(erasureForHeld(both, stored)).toEqual(redactAlice);
  });

  it('leaves keep and skip as they are', () => {
    expect(erasureForHeld({ action: 'keep' }, fullCallItem())).toEqual({ action: 'keep' });
    expect(erasureForHeld({ action: 'skip' }, fullCallItem())).toEqual({ action: 'skip' });
  });
});
