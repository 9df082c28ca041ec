/**
 * Is this file an ONNX model at all? A cheap structural check, before the runtime is asked to
 * load it, so "you chose the wrong file" and "the runtime cannot run this model" get different
 * messages. An ONNX file is a protobuf `ModelProto`: its top level must parse as protobuf fields
 * and hold `ir_version` (field 1, varint) and `graph` (field 7, length-delimited). Only the top
 * level is walked (sub-messages are skipped by length), so this is fast for any model size. Pure.
 */

export type OnnxSniff = { readonly ok: true; readonly irVersion: number } | { readonly ok: false; readonly reason: string };

const WHAT_TO_DO = 'choose an .onnx file (e.g. exported with torch.onnx.export or tf2onnx)';

/** Reads a varint at `pos`; null if it runs past the end or beyond 2^53. */
function varint(bytes: Uint8Array, pos: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < bytes.length && i < pos + 10; i++) {
    const b = bytes[i] as number;
    value += (b & 0x7f) * scale;
    if (value > Number.MAX_SAFE_INTEGER) return null;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    scale *= 128;
  }
  return null;
}

export function sniffOnnx(file: ArrayBuffer | Uint8Array): OnnxSniff {
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(file);
  if (bytes.length === 0) return { ok: false, reason: `the model file is empty: ${WHAT_TO_DO}` };
  const notOnnx = (why: string): OnnxSniff => ({ ok: false, reason: `this file is not an ONNX model (${why}): ${WHAT_TO_DO}` });
  let pos = 0;
  let irVersion: number | null = null;
  let graph = false;
  while (pos < bytes.length) {
    const tag = varint(bytes, pos);
    if (!tag) return notOnnx(`unreadable protobuf field at byte ${pos}`);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (field === 0) return notOnnx(`field number 0 at byte ${pos}`);
    pos = tag.next;
    switch (wire) {
      case 0: {
        const v = varint(bytes, pos);
        if (!v) return notOnnx(`unreadable number at byte ${pos}`);
        if (field === 1) irVersion = v.value;
        pos = v.next;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = varint(bytes, pos);
        if (!len || len.next + len.value > bytes.length) return notOnnx(`a field at byte ${pos} runs past the end of the file`);
        if (field === 7) graph = true;
        pos = len.next + len.value;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        return notOnnx(`protobuf wire type ${wire} at byte ${pos}`);
    }
    if (pos > bytes.length) return notOnnx('it ends in the middle of a field');
  }
  if (irVersion === null) return notOnnx('no ir_version');
  if (!graph) return notOnnx('no graph');
  return { ok: true, irVersion };
}
