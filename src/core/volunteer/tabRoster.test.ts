import { describe, expect, it } from 'vitest';
import { TabRoster, parseTabMessage } from './tabRoster.ts';

describe('TabRoster [W-14]', () => {
  it('[W-14] counts itself once it volunteers, plus every other volunteering tab it hears', () => {
    const r = new TabRoster('me', 3_000);
    expect(r.count()).toBe(0);
    r.setVolunteering(true);
    expect(r.count()).toBe(1);
    expect(r.receive({ t: 'here', id: 'a' }, 0).changed).toBe(true);
    expect(r.receive({ t: 'here', id: 'a' }, 500).changed).toBe(false);
    r.receive({ t: 'here', id: 'b' }, 600);
    expect(r.count()).toBe(3);
    expect(r.others()).toBe(2);
  });

  it('[W-14] answers a hello with here while volunteering, and only then', () => {
    const r = new TabRoster('me');
    expect(r.receive({ t: 'hello', id: 'new', volunteering: false }, 0)).toEqual({ reply: null, changed: false });
    r.setVolunteering(true);
    expect(r.receive({ t: 'hello', id: 'new', volunteering: false }, 1).reply).toEqual({ t: 'here', id: 'me' });
    expect(r.others()).toBe(0); // a tab that only listens does not count
    expect(r.receive({ t: 'hello', id: 'v2', volunteering: true }, 2)).toEqual({ reply: { t: 'here', id: 'me' }, changed: true });
    expect(r.others()).toBe(1);
  });

  it('[W-14] a bye removes a tab at once; silence removes it after the TTL', () => {
    const r = new TabRoster('me', 3_000);
    r.receive({ t: 'here', id: 'a' }, 0);
    r.receive({ t: 'here', id: 'b' }, 0);
    expect(r.receive({ t: 'bye', id: 'a' }, 10).changed).toBe(true);
    expect(r.others()).toBe(1);
    expect(r.prune(3_000)).toBe(false);
    expect(r.prune(3_001)).toBe(true);
    expect(r.others()).toBe(0);
  });

  it('[W-14] its own messages (echoed by some channels) are ignored', () => {
    const r = new TabRoster('me');
    expect(r.receive({ t: 'here', id: 'me' }, 0).changed).toBe(false);
    expect(r.others()).toBe(0);
  });

  it('[W-14] messages from other tabs are checked', () => {
    expect(parseTabMessage({ t: 'here', id: 'x' })).toEqual({ t: 'here', id: 'x' });
    expect(parseTabMessage({ t: 'hello', id: 'x', volunteering: 1 })).toEqual({ t: 'hello', id: 'x', volunteering: false });
    for (const junk of [null, 1, 'here', {}, { t: 'here' }, { t: 'here', id: '' }, { t: 'here', id: 'x'.repeat(65) }, { t: 'nope', id: 'x' }]) {
      expect(parseTabMessage(junk)).toBeNull();
    }
  });
});
