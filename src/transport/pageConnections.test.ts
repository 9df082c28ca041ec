import { describe, expect, it } from 'vitest';
import { createPageConnections, type CountStore } from './pageConnections.ts';

/** A tab's sessionStorage as far as the counter uses it: it outlives a page load, as the real one does. */
function tabStorage(): CountStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v) };
}

describe('[E-2] counting a page’s RTCPeerConnections', () => {
  it('[E-2] counts every construction through the wrapper, keeps the class usable, and carries the count across a reload', () => {
    const tab = tabStorage();
    const first = createPageConnections(tab, false);
    const Counted = first.wrap(EventTarget);
    const made = new Counted();
    expect(made).toBeInstanceOf(EventTarget);
    expect(made).toBeInstanceOf(Counted);
    class Sub extends Counted {}
    expect(new Sub()).toBeInstanceOf(Sub);
    expect(first.status()).toEqual({ used: 2, limit: 500, left: 498, level: 'ok' });

    // The page reloads: a new counter over the same tab storage goes on from 2, as Chromium does.
    const reloaded = createPageConnections(tab, false);
    expect(reloaded.status().used).toBe(2);
    // A new tab starts afresh.
    expect(createPageConnections(tabStorage(), false).status().used).toBe(0);
  });

  it('[E-1] [E-3] a lowered limit (test builds) holds across reloads and refuses the next construction with the browser’s error', () => {
    const tab = tabStorage();
    const page = createPageConnections(tab, true);
    const seen: string[] = [];
    page.subscribe((s) => seen.push(`${s.used}/${s.limit} ${s.level}`));
    page.lowerLimit(3);
    const Counted = page.wrap(EventTarget);
    new Counted();
    new Counted();
    expect(page.canConstruct()).toBe(true);
    new Counted();
    expect(page.canConstruct()).toBe(false);
    expect(() => new Counted()).toThrow(/Cannot create so many PeerConnections/);
    expect(seen).toEqual(['0/3 ok', '1/3 ok', '2/3 warn', '3/3 spent']);

    const reloaded = createPageConnections(tab, true);
    expect(reloaded.status()).toEqual({ used: 3, limit: 3, left: 0, level: 'spent' });
    expect(() => new (reloaded.wrap(EventTarget))()).toThrow(/Cannot create so many/);
  });

  it('[E-1] a production page ignores a stored lower limit and nonsense in the count', () => {
    const tab = tabStorage();
    tab.setItem('quorum.rtcPeerConnectionLimit', '2');
    tab.setItem('quorum.rtcPeerConnections', 'lots');
    const page = createPageConnections(tab, false);
    page.lowerLimit(1);
    expect(page.status()).toEqual({ used: 0, limit: 500, left: 500, level: 'ok' });
  });

  it('[E-2] counts in memory where storage is denied', () => {
    const denied: CountStore = {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    };
    const page = createPageConnections(denied, true);
    new (page.wrap(EventTarget))();
    expect(page.status().used).toBe(1);
  });
});
