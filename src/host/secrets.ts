/**
 * The browser's (and Node's) source of secrets: 128 bits from `crypto.getRandomValues`, as 32
 * lowercase hex digits. Passed into the coordinator core for resume tokens ([I-1]) and used for
 * requester keys. There is no weaker fallback: without a CSPRNG this throws.
 */
import { SECRET_HEX_DIGITS, type NewSecret } from '../core/secrets.ts';

export const cryptoSecret: NewSecret = () => {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (!c?.getRandomValues) throw new Error('this browser has no crypto.getRandomValues to make secrets with: use a current browser.');
  const bytes = c.getRandomValues(new Uint8Array(SECRET_HEX_DIGITS / 2));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
};
