/**
 * The key that per-address budgets are counted under. IPv4-mapped IPv6 addresses count as their
 * IPv4 address, and an IPv6 address counts as its /64: one host is usually given a whole /64, so
 * counting single IPv6 addresses would give one client 2^64 budgets.
 */
import net from 'node:net';

/** The groups of an IPv6 address as 8 numbers, or null when it is not one. */
function ipv6Groups(address: string): number[] | null {
  if (net.isIPv6(address) === false) return null;
  const [head = '', tail] = address.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<number>(Math.max(0, missing)).fill(0), ...right];
}

export function addressKey(remoteAddress: string | undefined): string {
  const address = (remoteAddress ?? '').toLowerCase();
  if (address === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (net.isIPv4(address)) return address;
  // A zone id (fe80::1%eth0) names the interface, not the host.
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  if (!groups) return address;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
