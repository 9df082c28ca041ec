/**
 * NumPy's `.npy` format (versions 1.0, 2.0 and 3.0), read and written without NumPy.
 *
 *   bytes 0-5  magic "\x93NUMPY"
 *   byte  6    major version (1, 2 or 3), byte 7 minor version (0)
 *   then       header length: u16 LE (v1) or u32 LE (v2, v3)
 *   then       the header: a Python dict literal, e.g.
 *              {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 *              padded with spaces and ended by '\n' so the data starts 64-byte aligned
 *              (latin-1 in v1/v2, utf-8 in v3)
 *   then       the array's bytes, C order
 *
 * Only what a tensor can be is accepted: little-endian (or byte-sized) float32, int32, int64,
 * uint8, int8 and bool, in C order. Everything else is refused with an NpyError that says what to
 * do about it in NumPy. Pure: no DOM, no Node APIs.
 */
import { BYTES_PER_ELEMENT, elementCount, type TensorDtype } from '../../protocol/tensor.ts';

export class NpyError extends Error {
  override readonly name = 'NpyError';
}

export interface NpyArray {
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  /** Exactly `product(shape) × bytesPerElement(dtype)` bytes, little-endian, C order. */
  readonly data: ArrayBuffer;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** Real headers are a few hundred bytes; anything near this is a corrupt length field. */
const MAX_HEADER_BYTES = 1 << 20;

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** NumPy type codes (after the byte-order mark) for each dtype we carry. */
const CODE_OF: Readonly<Record<TensorDtype, string>> = {
  float32: 'f4',
  int32: 'i4',
  int64: 'i8',
  uint8: 'u1',
  int8: 'i1',
  bool: 'b1',
};
const DTYPE_OF = new Map<string, TensorDtype>(Object.entries(CODE_OF).map(([dtype, code]) => [code, dtype as TensorDtype]));
/** `?` is NumPy's other spelling of bool. */
DTYPE_OF.set('?', 'bool');

/** Hints for type codes people commonly have, so the error says how to convert. */
function unsupportedDescr(descr: string): NpyError {
  const code = descr.replace(/^[<>|=]/, '');
  if (/^O/.test(code)) {
    return new NpyError(`.npy holds Python objects (dtype '${descr}'), not numbers: save a numeric array (e.g. np.asarray(x, dtype=np.float32)).`);
  }
  const hint = /^f/.test(code)
    ? 'x.astype(np.float32)'
    : /^[iu]/.test(code)
      ? 'x.astype(np.int64) or x.astype(np.int32)'
      : 'a float32, int32, int64, uint8, int8 or bool array';
  return new NpyError(`.npy dtype '${descr}' is not supported (float32, int32, int64, uint8, int8, bool only): convert with ${hint}.`);
}

function parseDescr(descr: string): TensorDtype {
  const order = descr[0];
  const code = order === '<' || order === '>' || order === '|' || order === '=' ? descr.slice(1) : descr;
  const dtype = DTYPE_OF.get(code);
  if (dtype === undefined) throw unsupportedDescr(descr);
  // '>' is big-endian; '=' is native, which NumPy never writes to files. Byte-sized types do not care.
  if (BYTES_PER_ELEMENT[dtype] > 1 && order !== '<') {
    if (order === '>') {
      throw new NpyError(`.npy is big-endian (dtype '${descr}'): save it little-endian, e.g. x.astype('<${code}').`);
    }
    throw new NpyError(`.npy dtype '${descr}' does not say its byte order: save it little-endian, e.g. x.astype('<${code}').`);
  }
  return dtype;
}

/**
 * Reads the header dict. It is a Python literal, not JSON, so it is read with a small tokenizer
 * that accepts exactly what NumPy writes: string keys, string/bool/tuple values.
 */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const trimmed = text.replace(/[\s\0]+$/, '');
  const key = (name: string): RegExpMatchArray | null => trimmed.match(new RegExp(`['"]${name}['"]\\s*:\\s*`));
  if (!/^\{.*\}$/s.test(trimmed)) throw new NpyError(`.npy header is not a dictionary: ${JSON.stringify(trimmed.slice(0, 80))}`);

  const after = (name: string): string => {
    const m = key(name);
    if (!m || m.index === undefined) throw new NpyError(`.npy header has no '${name}' entry.`);
    return trimmed.slice(m.index + m[0].length);
  };
  const descrMatch = after('descr').match(/^(['"])([^'"]*)\1/);
  if (!descrMatch) {
    // A list here means a structured (record) dtype.
    throw new NpyError('.npy holds a structured (record) array: save one plain numeric array per input instead.');
  }
  const fortranMatch = after('fortran_order').match(/^(True|False)\b/);
  if (!fortranMatch) throw new NpyError(".npy header's 'fortran_order' is not True or False.");
  const shapeMatch = after('shape').match(/^\(([^)]*)\)/);
  if (!shapeMatch) throw new NpyError(".npy header's 'shape' is not a tuple.");
  const parts = (shapeMatch[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const shape = parts.map((p) => {
    const cleaned = p.replace(/L$/, ''); // Python 2 longs
    if (!/^\d+$/.test(cleaned)) throw new NpyError(`.npy shape has a bad dimension "${p}".`);
    const n = Number(cleaned);
    if (!Number.isSafeInteger(n)) throw new NpyError(`.npy shape dimension ${p} is too large.`);
    return n;
  });
  return { descr: descrMatch[2] ?? '', fortran: fortranMatch[1] === 'True', shape };
}

/** Parses a `.npy` file. Throws NpyError, whose message says what is wrong and how to fix it. */
export function parseNpy(file: ArrayBuffer | Uint8Array): NpyArray {
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(file);
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new NpyError('not a .npy file (it does not start with "\\x93NUMPY"): save the array with numpy.save().');
  }
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError('.npy file is truncated inside its header.');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyError(`.npy format version ${major}.${bytes[7] ?? 0} is not supported (1.0, 2.0 and 3.0 are).`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new NpyError('.npy file is truncated inside its header.');
  const headerBytes = bytes.subarray(headerStart, dataStart);
  if (headerLen > MAX_HEADER_BYTES) throw new NpyError(`.npy header of ${headerLen} bytes is implausibly large; is the file corrupt?`);
  const text = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : latin1(headerBytes);
  const header = parseHeader(text);
  if (header.fortran) {
    throw new NpyError('.npy array is in Fortran (column-major) order: save it in C order, e.g. np.save(f, np.ascontiguousarray(x)).');
  }
  const dtype = parseDescr(header.descr);
  const expected = elementCount(header.shape) * BYTES_PER_ELEMENT[dtype];
  const available = bytes.length - dataStart;
  if (available < expected) {
    throw new NpyError(`.npy file is truncated: shape (${header.shape.join(', ')}) of ${dtype} needs ${expected} bytes of data, it has ${available}.`);
  }
  if (available > expected) {
    throw new NpyError(`.npy file has ${available - expected} bytes after its data: it is not a single array (np.savez files are not supported).`);
  }
  // A copy of exactly the data: `slice` on a Node Buffer (a Uint8Array) shares memory, and its
  // `.buffer` is Node's whole pool, so the copy is made by the Uint8Array constructor.
  const data = new Uint8Array(bytes.subarray(dataStart, dataStart + expected)).buffer;
  if (dtype === 'bool') {
    const b = new Uint8Array(data);
    if (b.some((x) => x > 1)) throw new NpyError('.npy bool array holds values other than 0 and 1.');
  }
  return { dtype, shape: header.shape, data };
}

/** The header dict exactly as NumPy writes it (so files diff cleanly against numpy.save output). */
function headerText(dtype: TensorDtype, shape: readonly number[]): string {
  const order = BYTES_PER_ELEMENT[dtype] === 1 ? '|' : '<';
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${order}${CODE_OF[dtype]}', 'fortran_order': False, 'shape': ${tuple}, }`;
}

/**
 * Writes a `.npy` file: version 1.0 unless the header needs more than 65,535 bytes (then 2.0),
 * data 64-byte aligned as NumPy does. `data` must hold exactly the array's bytes, little-endian.
 */
export function writeNpy(array: NpyArray): Uint8Array<ArrayBuffer> {
  const { dtype, shape, data } = array;
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new NpyError(`bad shape [${shape.join(', ')}].`);
  const expected = elementCount(shape) * BYTES_PER_ELEMENT[dtype];
  if (data.byteLength !== expected) {
    throw new NpyError(`shape (${shape.join(', ')}) of ${dtype} needs ${expected} bytes, got ${data.byteLength}.`);
  }
  const dict = headerText(dtype, shape);
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / ALIGN) * ALIGN;
  let major = 1;
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / ALIGN) * ALIGN;
  }
  const headerLen = total - prefix;
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  const padded = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  for (let i = 0; i < padded.length; i++) out[prefix + i] = padded.charCodeAt(i);
  out.set(new Uint8Array(data), total);
  return out;
}
