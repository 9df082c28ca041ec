import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../protocol/capabilities.ts';
import { BACKEND_SIDE } from './palette.ts';

describe('map layout by backend', () => {
  it('headless node-cpu volunteers gather with the CPU (WASM) side, apart from WebGPU', () => {
    expect(BACKENDS.map((b) => BACKEND_SIDE[b])).toEqual([-1, 1, 1]);
    expect(BACKEND_SIDE['node-cpu']).toBe(BACKEND_SIDE.wasm);
    expect(BACKEND_SIDE['node-cpu']).not.toBe(BACKEND_SIDE.webgpu);
  });
});
