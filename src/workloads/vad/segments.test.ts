import { describe, expect, it } from 'vitest';
import { speechSegments, type SegmentRule } from './segments.ts';

/** 32 ms frames at 16 kHz, as Silero VAD v5 makes them. */
const GRID = { sampleRate: 16000, frameSamples: 512 };
const RULE: SegmentRule = { positiveThreshold: 0.5, negativeThreshold: 0.35, redemptionMs: 500, minSpeechMs: 250, padMs: 0 };

/** Probabilities from runs: [value, frames], … */
function probs(...runs: [number, number][]): Float32Array {
  return Float32Array.from(runs.flatMap(([p, n]) => new Array<number>(n).fill(p)));
}

const segments = (p: Float32Array, rule: Partial<SegmentRule> = {}, totalSamples = p.length * 512) =>
  speechSegments(p, { ...RULE, ...rule }, { ...GRID, totalSamples });

describe('[VAD-4] speechSegments', () => {
  it('finds nothing in silence, or in frames that never reach the positive threshold', () => {
    expect(segments(probs([0.01, 100]))).toEqual([]);
    expect(segments(probs([0.49, 100]))).toEqual([]);
    expect(segments(new Float32Array(0), {}, 0)).toEqual([]);
  });

  it('reports one burst from its first frame to the end of its last, in exact seconds', () => {
    // Frames 10..29 speech: 0.32 s to 0.96 s.
    const out = segments(probs([0, 10], [0.9, 20], [0, 40]));
    expect(out).toEqual([{ start: 0.32, end: 0.96 }]);
    expect(JSON.stringify(out)).toBe('[{"start":0.32,"end":0.96}]');
  });

  it('pads the start by padMs (not before 0) and prints it exactly', () => {
    expect(JSON.stringify(segments(probs([0, 25], [0.9, 20], [0, 40]), { padMs: 32 }))).toBe('[{"start":0.768,"end":1.44}]');
    expect(segments(probs([0, 1], [0.9, 20], [0, 40]), { padMs: 800 })).toEqual([{ start: 0, end: 0.672 }]);
  });

  it('ends a segment at the last speech frame, not where the pause that ended it did', () => {
    const out = segments(probs([0.9, 10], [0.1, 50]));
    expect(out).toEqual([{ start: 0, end: 0.32 }]);
  });

  it('keeps frames between the thresholds as speech once started (hysteresis)', () => {
    // 0.4 is under the positive threshold but over the negative one: it extends the segment.
    expect(segments(probs([0, 5], [0.9, 10], [0.4, 30], [0, 40]))).toEqual([{ start: 0.16, end: 1.44 }]);
    // …but 0.4 alone never starts one.
    expect(segments(probs([0, 5], [0.4, 30], [0, 40]))).toEqual([]);
  });

  it('bridges a pause shorter than redemptionMs and splits at one as long', () => {
    // 500 ms = 15.6 frames: a pause ends a segment from its 16th frame below the negative threshold.
    const bridged = segments(probs([0.9, 10], [0.1, 15], [0.9, 10], [0, 40]));
    expect(bridged).toEqual([{ start: 0, end: 1.12 }]);
    const split = segments(probs([0.9, 10], [0.1, 16], [0.9, 10], [0, 40]));
    expect(split).toEqual([
      { start: 0, end: 0.32 },
      { start: 0.832, end: 1.152 },
    ]);
  });

  it('restarts the pause count on a frame between the thresholds', () => {
    // 10 + 10 quiet frames with a 0.4 in between: neither run is 16 long.
    expect(segments(probs([0.9, 10], [0.1, 10], [0.4, 1], [0.1, 10], [0.9, 10], [0, 40]))).toHaveLength(1);
  });

  it('drops segments shorter than minSpeechMs', () => {
    // 7 frames = 224 ms < 250 ms; 8 frames = 256 ms.
    expect(segments(probs([0, 5], [0.9, 7], [0, 40]))).toEqual([]);
    expect(segments(probs([0, 5], [0.9, 8], [0, 40]))).toEqual([{ start: 0.16, end: 0.416 }]);
    expect(segments(probs([0, 5], [0.9, 7], [0, 40]), { minSpeechMs: 0 })).toEqual([{ start: 0.16, end: 0.384 }]);
  });

  it('ends a segment that runs to the end of the recording at its last speech frame, within the audio', () => {
    expect(segments(probs([0, 5], [0.9, 20], [0.1, 3]))).toEqual([{ start: 0.16, end: 0.8 }]);
    // The last window was zero-padded: the segment ends where the audio does (1000 samples in).
    expect(segments(probs([0.9, 10]), { minSpeechMs: 0 }, 4700)).toEqual([{ start: 0, end: 4700 / 16000 }]);
  });

  it('merges segments that the pad makes touch', () => {
    const out = segments(probs([0.9, 10], [0.1, 4], [0.9, 10], [0, 40]), { redemptionMs: 100, padMs: 200 });
    expect(out).toEqual([{ start: 0, end: 0.768 }]);
  });

  it('ends at the first quiet frame when redemptionMs is 0', () => {
    expect(segments(probs([0.9, 10], [0.1, 1], [0.9, 10]), { redemptionMs: 0, minSpeechMs: 0 })).toEqual([
      { start: 0, end: 0.32 },
      { start: 0.352, end: 0.672 },
    ]);
  });

  it('works on other grids: 256-sample frames at 8 kHz are 32 ms too', () => {
    const out = speechSegments(probs([0, 10], [0.9, 20], [0, 40]), RULE, { sampleRate: 8000, frameSamples: 256, totalSamples: 70 * 256 });
    expect(out).toEqual([{ start: 0.32, end: 0.96 }]);
  });
});
