import { describe, it, expect } from 'vitest';
import { asPeerId } from '../../protocol/ids.ts';
import { seededRng } from '../rng.ts';
import { DEFAULT_TRUST, ReputationBook } from './reputation.ts';

const A = asPeerId('a');
const B = asPeerId('b');

describe('reputation [A-1] [A-2] [A-5] [A-6] [X-2]', () => {
  it('[A-1] [A-2] a streak of valid results on a backend earns trust there, and only there', () => {
    const book = new ReputationBook({ ...DEFAULT_TRUST, trustStreak: 3 });
    expect(book.isTrusted(A, 'webgpu')).toBe(false); // unknown volunteers are never trusted
    book.valid(A, 'webgpu');
    book.valid(A, 'webgpu');
    expect(book.isTrusted(A, 'webgpu')).toBe(false);
    expect(book.trustLevel(A, 'webgpu')).toBeCloseTo(2 / 3);
    book.valid(A, 'webgpu');
    expect(book.isTrusted(A, 'webgpu')).toBe(true);
    expect(book.isTrusted(A, 'wasm')).toBe(false); // a fallback to WASM starts from nothing
    expect(book.trustLevel(A, 'wasm')).toBe(0);
  });

  it('[A-1] [A-5] any invalid result resets every streak and makes the volunteer a suspect', () => {
    const book = new ReputationBook({ ...DEFAULT_TRUST, trustStreak: 2 });
    for (let i = 0; i < 5; i++) {
      book.valid(A, 'webgpu');
      book.valid(A, 'wasm');
    }
    expect(book.isTrusted(A, 'webgpu') && book.isTrusted(A, 'wasm')).toBe(true);
    book.invalid(A);
    const r = book.get(A)!;
    expect(r.streak).toEqual({ webgpu: 0, wasm: 0, 'node-cpu': 0 });
    expect(r.suspect).toBe(true);
    // A suspect is not trusted even with a new streak, until it passes a canary.
    book.valid(A, 'wasm');
    book.valid(A, 'wasm');
    expect(book.isTrusted(A, 'wasm')).toBe(false);
    book.canaryPassed(A, 'wasm');
    expect(book.isSuspect(A)).toBe(false);
    expect(book.isTrusted(A, 'wasm')).toBe(true);
  });

  it('[A-5] suspects get canaries at the suspect rate; others at the policy rate', () => {
    const book = new ReputationBook();
    book.valid(A, 'wasm');
    expect(book.canaryRate(A, 0.01)).toBe(0.01);
    book.suspect(A);
    expect(book.canaryRate(A, 0.01)).toBe(DEFAULT_TRUST.suspectCanaryRate);
    expect(book.canaryRate(B, 0.01)).toBe(0.01);
  });

  it('[A-6] lone results build a debt that only a passed canary (or a vouched-for result, [A-7]) clears', () => {
    const book = new ReputationBook();
    expect(book.owesCanary(A)).toBe(false);
    book.lone(A);
    book.lone(A);
    expect(book.get(A)).toMatchObject({ lone: 2, debt: 2 });
    expect(book.owesCanary(A)).toBe(true);
    book.valid(A, 'wasm'); // agreeing with a partner is no known answer
    expect(book.owesCanary(A)).toBe(true);
    book.canaryPassed(A, 'wasm');
    expect(book.owesCanary(A)).toBe(false);
  });

  it('[A-7] a result vouched for clears suspicion and debt, unless the volunteer came to owe a canary again since', () => {
    const book = new ReputationBook();
    book.lone(A);
    book.suspect(A);
    const at = book.owedCount(A);
    expect(at).toBe(2);
    book.lone(A); // a lone acceptance after that result: the result says nothing about it
    expect(book.vouched(A, at)).toBe(false);
    expect(book.isSuspect(A)).toBe(true);
    expect(book.vouched(A, book.owedCount(A))).toBe(true);
    expect(book.get(A)).toMatchObject({ suspect: false, debt: 0, canariesPassed: 0 });
    expect(book.vouched(A, book.owedCount(A))).toBe(false); // nothing owed any more
    book.invalid(A);
    book.quarantine(A, 'caught');
    expect(book.vouched(A, book.owedCount(A))).toBe(false);
  });

  it('[X-2] quarantine is final, once, and ends trust', () => {
    const book = new ReputationBook({ ...DEFAULT_TRUST, trustStreak: 1 });
    book.valid(A, 'wasm');
    book.lone(A);
    expect(book.quarantine(A, 'failed a canary')).toBe(true);
    expect(book.quarantine(A, 'again')).toBe(false);
    expect(book.get(A)!.quarantineReason).toBe('failed a canary');
    expect(book.isQuarantined(A)).toBe(true);
    expect(book.isTrusted(A, 'wasm')).toBe(false);
    expect(book.owesCanary(A)).toBe(false); // nothing left to test
    expect(book.trustLevel(A, 'wasm')).toBe(0);
    expect(book.counts()).toEqual({ volunteers: 1, suspects: 0, quarantined: 1 });
  });
});

describe('strikes and partners [X-1] [C-1]', () => {
  it('[X-1] a failed canary is an invalid result and a strike; strikesToQuarantine strikes call for quarantine', () => {
    const book = new ReputationBook({ ...DEFAULT_TRUST, trustStreak: 1, strikesToQuarantine: 2 });
    book.valid(A, 'wasm');
    expect(book.strike(A)).toBe(false);
    expect(book.get(A)).toMatchObject({ strikes: 1, suspect: true, invalid: 1 });
    expect(book.isTrusted(A, 'wasm')).toBe(false);
    book.canaryPassed(A, 'wasm'); // passing clears suspicion, not strikes
    expect(book.strike(A)).toBe(true);
  });

  it('[C-1] partners are counted distinct, most recent first', () => {
    const book = new ReputationBook({ ...DEFAULT_TRUST, establishAfter: 2 });
    const [C, D] = [asPeerId('c'), asPeerId('d')];
    book.valid(A, 'wasm', [B]); // validated 1
    const since = book.get(A)!.validated;
    book.valid(A, 'wasm', [B, A]); // itself never counts
    expect(book.partneredSince(A, since)).toBe(false);
    book.valid(A, 'wasm', [C]);
    expect(book.partneredSince(A, since)).toBe(true);
    book.valid(A, 'wasm', [D]);
    expect(book.partneredSince(A, book.get(A)!.validated - 1)).toBe(false); // only D since then
    expect(book.partneredSince(B, 0)).toBe(false); // unknown volunteers vouch for nothing
  });
});

describe('spot-checks [A-4]', () => {
  it('[A-4] the policy rate is stratified: exactly one check in every window of 1/rate', () => {
    const book = new ReputationBook();
    const rng = seededRng(3);
    const draws = Array.from({ length: 200 }, () => book.spotCheck(A, 0.05, rng));
    for (let w = 0; w < 10; w++) expect(draws.slice(w * 20, (w + 1) * 20).filter(Boolean)).toHaveLength(1);
    // Positions differ from window to window (drawn from the rng).
    const positions = new Set(Array.from({ length: 10 }, (_, w) => draws.slice(w * 20, (w + 1) * 20).indexOf(true)));
    expect(positions.size).toBeGreaterThan(3);
    // Each volunteer has its own windows.
    expect(Array.from({ length: 20 }, () => book.spotCheck(B, 0.05, rng)).filter(Boolean)).toHaveLength(1);
  });

  it('[A-4] a rate of 0 never checks, a rate of 1 always does', () => {
    const book = new ReputationBook();
    const rng = seededRng(1);
    expect(Array.from({ length: 50 }, () => book.spotCheck(A, 0, rng)).some(Boolean)).toBe(false);
    expect(Array.from({ length: 50 }, () => book.spotCheck(A, 1, rng)).every(Boolean)).toBe(true);
  });

  it('[A-4] a high recent fault rate raises the spot-check rate to everything; it decays when faults stop', () => {
    const book = new ReputationBook({ ...DEFAULT_TRUST, faultHalfLife: 10 });
    const rng = seededRng(2);
    for (let i = 0; i < 20; i++) book.invalid(B);
    expect(book.faultRate).toBeGreaterThan(0.5);
    expect(Array.from({ length: 40 }, () => book.spotCheck(A, 0.05, rng)).every(Boolean)).toBe(true);
    for (let i = 0; i < 300; i++) book.valid(B, 'wasm');
    expect(book.faultRate).toBeLessThan(0.001);
    expect(Array.from({ length: 40 }, () => book.spotCheck(A, 0.05, rng)).filter(Boolean).length).toBeLessThanOrEqual(3);
  });
});
