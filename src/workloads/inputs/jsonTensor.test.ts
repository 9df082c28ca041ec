import { describe, expect, it } from 'vitest';
import { JsonTensorError, parseJsonInputs, tensorFromNested } from './jsonTensor.ts';

describe('tensorFromNested infers the shape from the nesting', () => {
  it('2-D float32', () => {
    const t = tensorFromNested(
      [
        [1, 2.5, -3],
        [4, 5, 6],
      ],
      'float32',
    );
    expect(t.shape).toEqual([2, 3]);
    expect([...new Float32Array(t.data)]).toEqual([1, 2.5, -3, 4, 5, 6]);
  });
  it('scalars, empty arrays and empty inner arrays', () => {
    expect(tensorFromNested(3, 'float32').shape).toEqual([]);
    expect(tensorFromNested([], 'float32')).toMatchObject({ shape: [0] });
    expect(tensorFromNested([[], []], 'float32').shape).toEqual([2, 0]);
  });
  it('integer dtypes check their range', () => {
    expect([...new Int32Array(tensorFromNested([[-5, 7]], 'int32').data)]).toEqual([-5, 7]);
    expect([...new Uint8Array(tensorFromNested([0, 255], 'uint8').data)]).toEqual([0, 255]);
    expect(() => tensorFromNested([0, 256], 'uint8')).toThrow(/\[1\] is 256, but uint8 needs an integer in \[0, 255\]/);
    expect(() => tensorFromNested([1.5], 'int32')).toThrow(/\[0\] is 1.5/);
    expect(() => tensorFromNested([-129], 'int8')).toThrow(JsonTensorError);
  });
  it('int64 takes safe integers and decimal strings', () => {
    const t = tensorFromNested([1, '-9223372036854775808', '9007199254740993'], 'int64');
    expect([...new BigInt64Array(t.data)]).toEqual([1n, -(2n ** 63n), 9007199254740993n]);
    expect(() => tensorFromNested(['9223372036854775808'], 'int64')).toThrow(/int64 needs an integer/);
    expect(() => tensorFromNested([2 ** 60], 'int64')).toThrow(/as a string beyond/);
  });
  it('bool takes true/false/0/1', () => {
    expect([...new Uint8Array(tensorFromNested([true, false, 1, 0], 'bool').data)]).toEqual([1, 0, 1, 0]);
    expect(() => tensorFromNested([2], 'bool')).toThrow(/true, false, 0 or 1/);
  });
});

describe('tensorFromNested refuses ragged and non-numeric arrays, naming the position', () => {
  it('a row of another length', () => {
    expect(() => tensorFromNested([[1, 2], [3, 4], [5]], 'float32')).toThrow(/ragged: \[2\] has 1 elements, but \[0\] has 2/);
  });
  it('a value where an array belongs, and an array where a value belongs', () => {
    expect(() => tensorFromNested([[1, 2], 3], 'float32')).toThrow(/ragged: \[1\] is a value/);
    expect(() => tensorFromNested([1, [2]], 'float32')).toThrow(/ragged: \[1\] is an array/);
  });
  it('deep raggedness', () => {
    expect(() =>
      tensorFromNested(
        [
          [[1], [2]],
          [[3], [4, 5]],
        ],
        'float32',
      ),
    ).toThrow(/\[1\]\[1\] has 2 elements, but \[1\]\[0\] has 1/);
  });
  it('strings, nulls and booleans in a float tensor', () => {
    expect(() => tensorFromNested([[1, 'a']], 'float32')).toThrow(/\[0\]\[1\] is "a", but float32 needs a number/);
    expect(() => tensorFromNested([null], 'float32')).toThrow(/is null/);
  });
  it('nesting deeper than rank 8', () => {
    expect(() => tensorFromNested([[[[[[[[[1]]]]]]]]], 'float32')).toThrow(/deeper than 8/);
  });
});

describe('parseJsonInputs', () => {
  const dtypes = (name: string) => (name === 'ids' ? 'int64' : 'float32');
  it('a bare array goes to the chosen input', () => {
    const m = parseJsonInputs('[[1,2],[3,4]]', 'x', dtypes);
    expect([...m.keys()]).toEqual(['x']);
    expect(m.get('x')!.shape).toEqual([2, 2]);
  });
  it('an object maps names to arrays, each in its own dtype', () => {
    const m = parseJsonInputs('{"x": [[1.5]], "ids": [[7]]}', null, dtypes);
    expect(m.get('x')!.dtype).toBe('float32');
    expect(m.get('ids')!.dtype).toBe('int64');
  });
  it('clear errors for bad JSON and bad layouts', () => {
    expect(() => parseJsonInputs('[1,', 'x', dtypes)).toThrow(/not valid JSON/);
    expect(() => parseJsonInputs('"hi"', 'x', dtypes)).toThrow(/must be an array, or an object/);
    expect(() => parseJsonInputs('{}', 'x', dtypes)).toThrow(/names no inputs/);
    expect(() => parseJsonInputs('{"x": 3}', 'x', dtypes)).toThrow(/"x" is not an array/);
    expect(() => parseJsonInputs('{"x": [[1],[2,3]]}', null, dtypes)).toThrow(/JSON input "x": JSON array is ragged/);
    expect(() => parseJsonInputs('[1]', null, dtypes)).toThrow(/choose the input/);
  });
});
