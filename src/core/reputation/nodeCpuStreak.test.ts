import { describe, expect, it } from 'vitest';
import type { PeerId } from '../../protocol/ids.ts';
import { DEFAULT_TRUST, ReputationBook } from './reputation.ts';

const ID = 'headless-1' as PeerId;

describe('reputation of a headless (node-cpu) volunteer', () => {
  it('[A-2] earns trust on node-cpu by its own streak, and [A-1] an invalid result resets it', () => {
    const book = new ReputationBook(DEFAULT_TRUST);
    for (let i = 0; i < DEFAULT_TRUST.trustStreak; i++) book.valid(ID, 'node-cpu');
    expect(book.isTrusted(ID, 'node-cpu')).toBe(true);
    expect(book.trustLevel(ID, 'node-cpu')).toBe(1);
    // Trust is per backend: a streak on the CPU provider says nothing about WebGPU.
    expect(book.isTrusted(ID, 'webgpu')).toBe(false);
    book.invalid(ID);
    expect(book.trustLevel(ID, 'node-cpu')).toBe(0);
    const stored = book.snapshot(ID) as { streak: Record<string, number> };
    expect(stored.streak).toEqual({ webgpu: 0, wasm: 0, 'node-cpu': 0 });
  });
});
