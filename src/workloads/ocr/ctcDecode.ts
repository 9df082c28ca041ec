/**
 * The recognizer's answer as text: greedy CTC decoding, as PaddleOCR's CTCLabelDecode does it.
 * At each time step take the most probable class (the first of equals, like np.argmax); merge
 * runs of the same class; drop class 0, the CTC blank. Confidence is the mean of the kept steps'
 * probabilities (0 for an empty line).
 */
import { OcrError } from './params.ts';

/**
 * The recognizer's classes from PaddleOCR's dictionary file (ppocr_keys_v1.txt, one character a
 * line): the blank first, then the file's characters, then the space (use_space_char).
 */
export function parseCharset(dictionaryText: string): string[] {
  const lines = dictionaryText.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  // readlines() gives no entry after a final newline.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new OcrError('the recognizer dictionary is empty: give it ppocr_keys_v1.txt.');
  return ['', ...lines, ' '];
}

export interface DecodedText {
  readonly text: string;
  readonly confidence: number;
}

/** Decodes one line's [steps, classes] probabilities (row-major). */
export function ctcGreedyDecode(probs: ArrayLike<number>, steps: number, classes: number, charset: readonly string[]): DecodedText {
  if (classes !== charset.length) {
    throw new OcrError(`the recognizer gives ${classes} classes but its dictionary has ${charset.length}: use the dictionary that belongs to the model.`);
  }
  if (probs.length !== steps * classes) throw new OcrError(`expected ${steps * classes} recognizer probabilities, got ${probs.length}.`);
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const base = t * classes;
    let best = 0;
    let bestP = probs[base] as number;
    for (let c = 1; c < classes; c++) {
      const v = probs[base + c] as number;
      if (v > bestP) {
        bestP = v;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += charset[best] as string;
      sum += bestP;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept > 0 ? sum / kept : 0 };
}
