/**
 * Speech segments from per-frame speech probabilities: the answer of a voice-activity pipeline.
 *
 * The rule (the `vad` stage's parameters, protocol/pipeline.ts), modelled on @ricky0123/vad-web's
 * FrameProcessor and silero-vad's `get_speech_timestamps`:
 * - a segment starts at the first frame whose probability is ≥ `positiveThreshold`;
 * - once started, a frame is speech while its probability is ≥ `negativeThreshold` (hysteresis:
 *   a dip between the two thresholds neither ends nor extends a pause);
 * - a run of frames below `negativeThreshold` lasting at least `redemptionMs` ends the segment, at
 *   the end of the last frame before the run (so the reported end is where speech stopped, not
 *   where the wait for more speech did);
 * - a recording that ends while speaking ends its segment at its last speech frame;
 * - segments shorter than `minSpeechMs` (from their first to their last speech frame) are dropped;
 * - each kept segment starts `padMs` earlier (not before 0), because Silero's probability rises a
 *   frame or two after the onset of a word; segments the pad makes touch are merged.
 * Differences from vad-web, on purpose: vad-web counts a pause only over frames below the
 * negative threshold without resetting on frames between the thresholds, measures minimum speech
 * in frames above the positive threshold, and reports an end that includes the redemption wait;
 * those suit live capture, where audio is cut, but not an answer that says when speech was.
 *
 * Times are exact: every boundary is a whole number of samples at the model's rate, and a time in
 * seconds is computed by one division of integers, so it is the double nearest the true value and
 * prints briefly (0.768, not 0.7680000000000001). The same probabilities give the same segments
 * everywhere; two backends' probabilities differ a little, which the comparator's tolerance absorbs.
 */
import type { Segment, Stage } from '../../protocol/pipeline.ts';

/** The `vad` stage's parameters that shape segments. */
export type SegmentRule = Pick<Extract<Stage, { op: 'vad' }>, 'positiveThreshold' | 'negativeThreshold' | 'redemptionMs' | 'minSpeechMs' | 'padMs'>;

/** Where the probabilities came from: `frameSamples` samples per frame at `sampleRate`. */
export interface FrameGrid {
  readonly sampleRate: number;
  readonly frameSamples: number;
  /** Samples of the audio: no segment ends after its last one. */
  readonly totalSamples: number;
}

/** Speech segments, in time order, non-overlapping, in seconds. */
export function speechSegments(probs: ArrayLike<number>, rule: SegmentRule, grid: FrameGrid): Segment[] {
  const { sampleRate, frameSamples, totalSamples } = grid;
  // A pause ends a segment once it lasts redemptionMs; at least one frame, or nothing ever ends.
  const redemptionFrames = Math.max(1, Math.ceil((rule.redemptionMs * sampleRate) / (1000 * frameSamples)));
  /** [first, last] speech frames of each segment, before the minimum length and the pad. */
  const spans: [number, number][] = [];
  let first = -1;
  let last = -1;
  let silentRun = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (first < 0) {
      if (p >= rule.positiveThreshold) {
        first = i;
        last = i;
        silentRun = 0;
      }
      continue;
    }
    if (p >= rule.negativeThreshold) {
      last = i;
      silentRun = 0;
    } else if (++silentRun >= redemptionFrames) {
      spans.push([first, last]);
      first = -1;
    }
  }
  if (first >= 0) spans.push([first, last]);

  // Boundaries in thousandths of a sample (sample · 1000), so that padMs stays an integer too.
  const padMilli = rule.padMs * sampleRate;
  const endMilli = totalSamples * 1000;
  const minMilli = rule.minSpeechMs * sampleRate;
  const out: { start: number; end: number }[] = [];
  for (const [a, b] of spans) {
    const start = a * frameSamples * 1000;
    const end = Math.min((b + 1) * frameSamples * 1000, endMilli);
    if (end - start < minMilli) continue;
    const padded = Math.max(0, start - padMilli);
    const prev = out[out.length - 1];
    if (prev && padded <= prev.end) prev.end = end;
    else out.push({ start: padded, end });
  }
  const seconds = (milli: number): number => milli / (1000 * sampleRate);
  return out.map((s) => ({ start: seconds(s.start), end: seconds(s.end) }));
}
