import { describe, expect, it } from 'vitest';
import { sniffOnnx } from './onnxSniff.ts';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
/** A protobuf length-delimited field. */
const ld = (field: number, body: number[]): number[] => [(field << 3) | 2, body.length, ...body];

// ir_version = 7; producer_name = "q"; graph = { name: "g" }; opset_import = { version: 13 }
const MINIMAL = Uint8Array.from([0x08, 0x07, ...ld(2, [0x71]), ...ld(7, ld(2, [0x67])), ...ld(8, [0x10, 13])]);

describe('sniffOnnx tells ONNX models from other files', () => {
  it('accepts a ModelProto with ir_version and a graph', () => {
    expect(sniffOnnx(MINIMAL)).toEqual({ ok: true, irVersion: 7 });
    expect(sniffOnnx(MINIMAL.buffer)).toEqual({ ok: true, irVersion: 7 });
  });
  it('empty files', () => {
    expect(sniffOnnx(new Uint8Array(0))).toMatchObject({ ok: false, reason: expect.stringMatching(/empty.*choose an \.onnx file/) });
  });
  it('text, JSON, PNG and NPY files are not ONNX', () => {
    const files = [
      ascii('{"weights": [1, 2, 3]}'),
      ascii('hello world, this is not a model'),
      Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x76, 0]),
    ];
    for (const f of files) {
      const r = sniffOnnx(f);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/^this file is not an ONNX model \(.+\): choose an \.onnx file/);
    }
  });
  it('valid protobuf without a graph or ir_version is not ONNX', () => {
    expect(sniffOnnx(Uint8Array.from([0x08, 0x07]))).toMatchObject({ ok: false, reason: expect.stringMatching(/no graph/) });
    expect(sniffOnnx(Uint8Array.from(ld(7, [])))).toMatchObject({ ok: false, reason: expect.stringMatching(/no ir_version/) });
  });
  it('a truncated model is not ONNX', () => {
    const r = sniffOnnx(MINIMAL.subarray(0, MINIMAL.length - 1));
    expect(r.ok).toBe(false);
  });
});
