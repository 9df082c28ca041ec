import { describe, expect, it } from 'vitest';
import type { VerifiedShard } from '../../protocol/messages.ts';
import { parseNpy } from '../inputs/npy.ts';
import { AssembleError, assembleResults, formatFloat32 } from './assemble.ts';
import { csvText, exportFileName, resultsToCsvParts, resultsToJsonParts, resultsToNpy } from './exporters.ts';

const resultsToCsv = (r: Parameters<typeof resultsToCsvParts>[0]): string => [...resultsToCsvParts(r)].join('');
const resultsToJson = (r: Parameters<typeof resultsToJsonParts>[0]): string => [...resultsToJsonParts(r)].join('');

const f32 = (name: string, dims: number[], values: number[]) => ({ name, dtype: 'float32' as const, dims, data: Float32Array.from(values).buffer });
const i64 = (name: string, dims: number[], values: bigint[]) => ({ name, dtype: 'int64' as const, dims, data: BigInt64Array.from(values).buffer });

function shard(index: number, start: number, count: number, y: number[], ids: bigint[]): VerifiedShard {
  return {
    index,
    start,
    count,
    outputs: [f32('y', [count, 2], y), i64('cls', [count], ids)],
    volunteers: ['vA', 'vB'] as VerifiedShard['volunteers'],
    backends: ['wasm', 'webgpu'],
  };
}

// 5 items in shards of 2: shard 1 (items 2-3) was unverifiable, so it is missing. Arrival order is scrambled.
const SHARDS = [shard(2, 4, 1, [0.1, -7], [2n ** 60n]), shard(0, 0, 2, [1, 2, 3.5, 4], [1n, 0n])];
const R = assembleResults('j1', 'test', 5, SHARDS);

describe('assembleResults', () => {
  it('puts shards back in item order, exactly, and marks unverified items', () => {
    expect(R.verifiedItems).toBe(3);
    expect([...R.verified]).toEqual([1, 1, 0, 0, 1]);
    expect(R.outputs.map((o) => [o.name, o.dtype, o.dims])).toEqual([
      ['y', 'float32', [5, 2]],
      ['cls', 'int64', [5]],
    ]);
    const y = new Float32Array(R.outputs[0]!.data);
    expect([...y.slice(0, 4)]).toEqual([1, 2, 3.5, 4]);
    expect(y[4]).toBeNaN();
    expect(y[8]).toBe(Math.fround(0.1));
    expect(new BigInt64Array(R.outputs[1]!.data)[4]).toBe(2n ** 60n);
    expect(R.shards.map((s) => s.index)).toEqual([0, 2]);
  });
  it('a job with no verified shards has no outputs', () => {
    expect(assembleResults('j', 'n', 3, [])).toMatchObject({ verifiedItems: 0, outputs: [] });
  });
  it('refuses shards that do not fit together', () => {
    const bad = { ...shard(1, 2, 2, [1, 2, 3, 4], [1n, 2n]), outputs: [f32('y', [2, 3], [1, 2, 3, 4, 5, 6]), i64('cls', [2], [1n, 2n])] };
    expect(() => assembleResults('j', 'n', 5, [SHARDS[1]!, bad])).toThrow(AssembleError);
    expect(() => assembleResults('j', 'n', 3, [shard(0, 2, 2, [1, 2, 3, 4], [1n, 2n])])).toThrow(/the job has 3/);
  });
});

describe('formatFloat32', () => {
  it('is the shortest text that reads back as the same float32', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    expect(formatFloat32(1e-7)).not.toBe('');
    expect(formatFloat32(-0)).toBe('-0');
    expect(formatFloat32(NaN)).toBe('NaN');
    const rnd = new Float32Array(1000).map((_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 20) - 10));
    for (const v of rnd) expect(Math.fround(Number(formatFloat32(v)))).toBe(v);
  });
});

describe('exporters', () => {
  it('CSV: one row per item, provenance, empty cells where unverified', () => {
    const csv = resultsToCsv(R);
    expect(csv.split('\n')).toEqual([
      'item,file,verified,shard,volunteers,backends,y[0],y[1],cls',
      '0,,true,0,vA vB,wasm webgpu,1,2,1',
      '1,,true,0,vA vB,wasm webgpu,3.5,4,0',
      '2,,false,,,,,,',
      '3,,false,,,,,,',
      '4,,true,2,vA vB,wasm webgpu,0.1,-7,1152921504606846976',
      '',
    ]);
  });
  it('CSV quotes output names that need it and names multi-dim columns', () => {
    const r = assembleResults('j', 'n', 1, [{ index: 0, start: 0, count: 1, outputs: [f32('a,b', [1, 2, 2], [1, 2, 3, 4])], volunteers: [], backends: [] }]);
    expect(resultsToCsv(r).split('\n')[0]).toBe('item,file,verified,shard,volunteers,backends,"a,b[0,0]","a,b[0,1]","a,b[1,0]","a,b[1,1]"');
  });
  it('JSON: values per item in their own shape, null where unverified, int64 beyond 2^53 as strings', () => {
    const doc = JSON.parse(resultsToJson(R));
    expect(doc).toMatchObject({ format: 'quorum-results/2', jobId: 'j1', items: 5, verifiedItems: 3, itemNames: null });
    expect(doc.outputs[0].values).toEqual([[1, 2], [3.5, 4], null, null, [0.1, -7]]);
    expect(doc.outputs[1].values).toEqual([1, 0, null, null, '1152921504606846976']);
    expect(doc.shards[0]).toEqual({ index: 0, start: 0, count: 2, volunteers: ['vA', 'vB'], backends: ['wasm', 'webgpu'] });
  });
  it("each item's file name is in the CSV (`file`) and the JSON (`itemNames`)", () => {
    const names = ['a.png', 'b, "quoted".png', 'batch.npy#2', 'batch.npy#3', 'ü.png'];
    const r = assembleResults('j1', 'test', 5, SHARDS, names);
    const rows = resultsToCsv(r).split('\n');
    expect(rows[1]).toBe('0,a.png,true,0,vA vB,wasm webgpu,1,2,1');
    expect(rows[2]).toBe('1,"b, ""quoted"".png",true,0,vA vB,wasm webgpu,3.5,4,0');
    expect(rows[3]).toBe('2,batch.npy#2,false,,,,,,');
    expect(rows[5]).toBe('4,ü.png,true,2,vA vB,wasm webgpu,0.1,-7,1152921504606846976');
    expect(JSON.parse(resultsToJson(r)).itemNames).toEqual(names);
    // Names that do not match the items one to one are dropped rather than put on the wrong rows.
    expect(assembleResults('j1', 'test', 5, SHARDS, names.slice(1)).itemNames).toBeNull();
  });
  it('CSV: a name or output name that a spreadsheet would run as a formula stays text; numbers stay numbers', () => {
    const names = ['=HYPERLINK("http://x","click")', '+1.png', '-cmd.png', '@SUM(A1).png', '\tx.png'];
    const r = assembleResults('j1', 'test', 5, SHARDS, names);
    const rows = resultsToCsv(r).split('\n');
    expect(rows[1]!.startsWith(`0,"'=HYPERLINK(""http://x"",""click"")",true,`)).toBe(true);
    expect(rows.slice(2, 6).map((row) => row.split(',')[1])).toEqual(["'+1.png", "'-cmd.png", "'@SUM(A1).png", "'\tx.png"]);
    // -7 is a value: written as a number.
    expect(rows[5]!.endsWith(',0.1,-7,1152921504606846976')).toBe(true);
    const f = assembleResults('j', 'n', 1, [{ index: 0, start: 0, count: 1, outputs: [f32('=cmd', [1], [-0.5])], volunteers: [], backends: [] }]);
    expect(resultsToCsv(f).split('\n').slice(0, 2)).toEqual(["item,file,verified,shard,volunteers,backends,'=cmd", '0,,true,0,,,-0.5']);
    expect(csvText('-0.5 apples')).toBe("'-0.5 apples");
    expect(csvText('plain')).toBe('plain');
  });
  it('JSON: scalar, multi-dim and non-finite values keep their JSON meaning', () => {
    const r = assembleResults('j', 'n', 2, [
      { index: 0, start: 0, count: 2, outputs: [f32('s', [2], [NaN, -0]), f32('m', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, Infinity])], volunteers: [], backends: [] },
    ]);
    const doc = JSON.parse(resultsToJson(r));
    expect(doc.outputs[0].values).toEqual([null, -0]);
    expect(doc.outputs[1].values).toEqual([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, null],
      ],
    ]);
  });
  it('NPY: one output, bit-exact, NaN rows where unverified', () => {
    const a = parseNpy(resultsToNpy(R, 'y'));
    expect(a.shape).toEqual([5, 2]);
    expect(new Uint8Array(a.data)).toEqual(new Uint8Array(R.outputs[0]!.data));
    expect(parseNpy(resultsToNpy(R, 'cls')).dtype).toBe('int64');
    expect(() => resultsToNpy(R, 'nope')).toThrow(/no output named "nope"/);
  });
  it('file names are safe', () => {
    expect(exportFileName('j1', 'out/put:1', 'npy')).toBe('j1-out_put_1.npy');
  });
});
