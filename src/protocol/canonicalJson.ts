/**
 * [AU-1] One text for one value, wherever it is written: object keys sorted (by UTF-16 code
 * units, as `Array.prototype.sort` orders them), no whitespace, numbers as JavaScript prints them
 * (the shortest text that reads back as the same double), `undefined` members left out. So a
 * coordinator and an offline verifier, each with its own parse of the same value, hash the same
 * bytes. Pure: no DOM, no TextEncoder (the core's typecheck has neither).
 */

/** Why `value` has no canonical text: a non-finite number, a function, a cycle is not data. */
export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, new Set());
  return out.join('');
}

function write(value: unknown, out: string[], open: Set<object>): void {
  if (value === null) return void out.push('null');
  switch (typeof value) {
    case 'boolean':
      return void out.push(value ? 'true' : 'false');
    case 'string':
      return void out.push(JSON.stringify(value));
    case 'number':
      // JSON has no NaN or Infinity: writing them as null would make two values one text.
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${value} has no canonical JSON text`);
      return void out.push(Object.is(value, -0) ? '0' : JSON.stringify(value));
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`a ${typeof value} is not data`);
  }
  const obj = value as object;
  if (open.has(obj)) throw new CanonicalJsonError('a value that contains itself has no text');
  open.add(obj);
  if (Array.isArray(obj)) {
    out.push('[');
    obj.forEach((item: unknown, i) => {
      if (i > 0) out.push(',');
      write(item === undefined ? null : item, out, open);
    });
    out.push(']');
  } else {
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    out.push('{');
    keys.forEach((k, i) => {
      out.push(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`);
      write(record[k], out, open);
    });
    out.push('}');
  }
  open.delete(obj);
}

/** UTF-8 bytes of a string (lone surrogates as U+FFFD, as TextEncoder writes them). */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(bytes);
}

/** Lowercase hex of some bytes. */
export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Bytes of lowercase or uppercase hex; throws for text that is not whole bytes of hex. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new CanonicalJsonError(`"${hex.slice(0, 20)}" is not hex`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
