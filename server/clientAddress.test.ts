import { describe, expect, it } from 'vitest';
import { addressKey } from './clientAddress.ts';
import { createTokenBucket } from './tokenBucket.ts';

describe('addressKey', () => {
  it('counts IPv4 and IPv4-mapped IPv6 as the same address', () => {
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey(undefined)).toBe('unknown');
  });

  it('counts an IPv6 address as its /64, whatever its spelling', () => {
    const key = addressKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe(key);
    expect(addressKey('2001:DB8:1:2:abcd::9')).toBe(key);
    expect(addressKey('2001:db8:1:3::1')).not.toBe(key);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('createTokenBucket', () => {
  it('spends up to its burst, then refills at its rate', () => {
    let t = 0;
    const b = createTokenBucket(3, 2, () => t);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    expect(b.full()).toBe(false);
    t = 500; // one token back
    expect([b.take(), b.take()]).toEqual([true, false]);
    t = 10_000;
    expect(b.full()).toBe(true);
    expect(b.take(4)).toBe(false); // never more than the burst at once
    expect(b.take(3)).toBe(true);
  });
});
