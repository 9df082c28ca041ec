import { describe, expect, it } from 'vitest';
import { isCoordinatorId, readPresence } from './presence.ts';

describe('[E-4] the presence endpoint, as a client reads it', () => {
  it('answers only for coordinator ids', () => {
    expect(isCoordinatorId('quorum-default')).toBe(true);
    expect(isCoordinatorId('quorum-lab_2-a')).toBe(true);
    for (const id of ['default', 'quorum-', 'quorum-a b', 'QUORUM-x', 'volunteer-1', `quorum-${'x'.repeat(41)}`, 'quorum-x/../y']) {
      expect(isCoordinatorId(id)).toBe(false);
    }
  });

  it('reads present and absent only from a well-formed answer about the id asked for', () => {
    expect(readPresence('quorum-a', 200, { id: 'quorum-a', present: true }, null)).toEqual({ kind: 'present' });
    expect(readPresence('quorum-a', 200, { id: 'quorum-a', present: false }, null)).toEqual({ kind: 'absent' });
    for (const body of [
      undefined,
      null,
      'yes',
      { id: 'quorum-b', present: true },
      { id: 'quorum-a', present: 'true' },
      { id: 'quorum-a', present: true, x: 1 },
    ]) {
      expect(readPresence('quorum-a', 200, body, null).kind).toBe('unknown');
    }
  });

  it('slows down on 429 as Retry-After says, and knows nothing from other statuses', () => {
    expect(readPresence('quorum-a', 429, undefined, '7')).toEqual({ kind: 'slow-down', retryAfterMs: 7000 });
    expect(readPresence('quorum-a', 429, undefined, null)).toEqual({ kind: 'slow-down', retryAfterMs: 1000 });
    expect(readPresence('quorum-a', 429, undefined, 'soon')).toEqual({ kind: 'slow-down', retryAfterMs: 1000 });
    expect(readPresence('quorum-a', 404, undefined, null)).toEqual({ kind: 'unknown', reason: 'the presence endpoint answered HTTP 404' });
    expect(readPresence('quorum-a', 503, undefined, null).kind).toBe('unknown');
  });
});
