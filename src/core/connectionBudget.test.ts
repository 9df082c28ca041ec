import { describe, expect, it } from 'vitest';
import { budgetStatus, PAGE_PEER_CONNECTION_BUDGET, parseLimitOverride, parseStoredCount, presenceWaitMs, PRESENCE_MAX_WAIT_MS } from './connectionBudget.ts';

describe('[E-1] a page has 500 RTCPeerConnections in its life', () => {
  it('is the limit Chromium enforces', () => {
    expect(PAGE_PEER_CONNECTION_BUDGET).toBe(500);
  });

  it('may be lowered (test builds) but never raised, and nonsense is no override', () => {
    expect(parseLimitOverride('3')).toBe(3);
    expect(parseLimitOverride('500')).toBe(500);
    for (const raw of [null, '', '0', '501', '-2', '2.5', 'ten', '1e3', ' 4']) expect(parseLimitOverride(raw)).toBeNull();
  });
});

describe('[E-2] the count a page keeps', () => {
  it('reads whole numbers and counts from 0 for anything else', () => {
    expect(parseStoredCount('0')).toBe(0);
    expect(parseStoredCount('417')).toBe(417);
    for (const raw of [null, '', '-1', '3.5', 'NaN', '12abc', '9999999999']) expect(parseStoredCount(raw)).toBe(0);
  });
});

describe('[E-3] the warning', () => {
  it('starts at 80 % of the limit and says how many are left', () => {
    expect(budgetStatus(0, 500)).toEqual({ used: 0, limit: 500, left: 500, level: 'ok' });
    expect(budgetStatus(399, 500).level).toBe('ok');
    expect(budgetStatus(400, 500)).toEqual({ used: 400, limit: 500, left: 100, level: 'warn' });
    expect(budgetStatus(499, 500)).toEqual({ used: 499, limit: 500, left: 1, level: 'warn' });
    expect(budgetStatus(500, 500)).toEqual({ used: 500, limit: 500, left: 0, level: 'spent' });
    expect(budgetStatus(650, 500)).toEqual({ used: 650, limit: 500, left: 0, level: 'spent' });
  });

  it('rounds the threshold down, so a small lowered limit warns before its last connection', () => {
    expect(budgetStatus(1, 3).level).toBe('ok');
    expect(budgetStatus(2, 3)).toEqual({ used: 2, limit: 3, left: 1, level: 'warn' });
    expect(budgetStatus(3, 3).level).toBe('spent');
  });
});

describe('[E-4] waiting for an absent coordinator', () => {
  it('backs off 1, 2, 4, 8 s and then asks every 10 s for as long as it takes', () => {
    expect([0, 1, 2, 3, 4, 5, 1000].map((n) => presenceWaitMs(n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect(PRESENCE_MAX_WAIT_MS).toBe(10_000);
  });

  it("obeys a server's Retry-After when it is longer, within a minute", () => {
    expect(presenceWaitMs(0, 5_000)).toBe(5_000);
    expect(presenceWaitMs(4, 3_000)).toBe(10_000);
    expect(presenceWaitMs(0, 3_600_000)).toBe(60_000);
  });

  it('an hour of outage costs a few hundred HTTP requests and no connection', () => {
    let waited = 0;
    let checks = 0;
    while (waited < 3_600_000) waited += presenceWaitMs(checks++);
    expect(checks).toBeLessThan(400);
  });
});
