import { describe, expect, it } from 'vitest';
import { BackendPairCounter } from './backendPairs.ts';

describe('backend pair agreement', () => {
  it('[T-5] counts every pair of agreeing replicas as agree and every agreeing/outvoted pair as disagree', () => {
    const c = new BackendPairCounter();
    c.recordDecision(['wasm', 'webgpu'], []);
    c.recordDecision(['webgpu', 'wasm', 'wasm'], ['webgpu']);
    expect(c.list()).toEqual([
      { a: 'webgpu', b: 'webgpu', agree: 0, disagree: 1 },
      { a: 'webgpu', b: 'wasm', agree: 3, disagree: 2 },
      { a: 'wasm', b: 'wasm', agree: 1, disagree: 0 },
    ]);
  });

  it('[T-5] pairs are unordered: (wasm, webgpu) and (webgpu, wasm) are one pair', () => {
    const c = new BackendPairCounter();
    c.recordDecision(['wasm', 'webgpu'], []);
    c.recordDecision(['webgpu', 'wasm'], []);
    expect(c.list()).toEqual([{ a: 'webgpu', b: 'wasm', agree: 2, disagree: 0 }]);
  });

  it('[T-5] a shard accepted by one replica alone adds no pair', () => {
    const c = new BackendPairCounter();
    c.recordDecision(['wasm'], []);
    expect(c.list()).toEqual([]);
  });
});
