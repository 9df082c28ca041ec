import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../protocol/limits.ts';
import { itemNamesFor } from './itemNames.ts';

describe('itemNamesFor [J-6]', () => {
  it('one image per item is named after its file', () => {
    expect(itemNamesFor({ images: ['line-0.png', 'line-1.png'] }, 2)).toEqual(['line-0.png', 'line-1.png']);
  });
  it('a .npy or .json batch names each item after its row: file#i', () => {
    expect(itemNamesFor({ batchFile: 'x.npy' }, 3)).toEqual(['x.npy#0', 'x.npy#1', 'x.npy#2']);
    expect(itemNamesFor({ batchFile: 'mnist' }, 2)).toEqual(['mnist#0', 'mnist#1']);
  });
  it('a name too long for the protocol keeps its end (the row and extension tell items apart)', () => {
    const long = `${'a'.repeat(300)}.npy`;
    const first = itemNamesFor({ batchFile: long }, 1)?.[0];
    expect(first!.length).toBe(LIMITS.maxNameLength);
    expect(first!.endsWith('aaa.npy#0')).toBe(true);
    expect(first!.startsWith('…')).toBe(true);
  });
  it('no names when they cannot match the items one to one', () => {
    expect(itemNamesFor({ images: ['a.png'] }, 2)).toBeUndefined();
    expect(itemNamesFor({ batchFile: '' }, 2)).toBeUndefined();
    expect(itemNamesFor({ batchFile: 'x.npy' }, 0)).toBeUndefined();
  });
});
