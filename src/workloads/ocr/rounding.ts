/**
 * Python's round() and numpy's np.round: half to even. PaddleOCR rounds sizes and box corners
 * with them, so a 48-pixel side becomes 64 at the detector (1.5 → 2) where Math.round would agree
 * but 80 becomes 64 (2.5 → 2) where Math.round would give 96.
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}
