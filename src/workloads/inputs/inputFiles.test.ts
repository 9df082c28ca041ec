import { describe, expect, it } from 'vitest';
import { imageTarget, InputFileError, inputFileKind, jsonSingleTarget, npyTarget } from './inputFiles.ts';

const one = [{ name: 'x', dims: ['N', 4] }];
const two = [
  { name: 'image', dims: ['N', 3, 224, 224] },
  { name: 'scale', dims: ['N', 1] },
];

describe('input files', () => {
  it('kinds by extension or type', () => {
    expect(inputFileKind('a.NPY')).toBe('npy');
    expect(inputFileKind('a.json')).toBe('json');
    expect(inputFileKind('cat.jpeg')).toBe('image');
    expect(inputFileKind('blob', 'image/png')).toBe('image');
    expect(() => inputFileKind('model.onnx')).toThrow(/not an input file.*\.npy.*\.json.*PNG\/JPEG/);
  });
  it('.npy files feed the input they are named after, or the only one', () => {
    expect(npyTarget('scale.npy', two)).toBe('scale');
    expect(npyTarget('batch-7.npy', one)).toBe('x');
    expect(() => npyTarget('data.npy', two)).toThrow(InputFileError);
    expect(() => npyTarget('data.npy', two)).toThrow(/name each \.npy file after its input \(e\.g\. "image\.npy"\)/);
  });
  it('bare JSON arrays feed the only input', () => {
    expect(jsonSingleTarget(one)).toBe('x');
    expect(jsonSingleTarget(two)).toBeNull();
  });
  it('images feed the only input or the only image-shaped one', () => {
    expect(imageTarget(one)).toBe('x');
    expect(imageTarget(two)).toBe('image');
    expect(() => imageTarget([...two, { name: 'other', dims: [1, 2, 3, 4] }])).toThrow(/one image input/);
  });
});
