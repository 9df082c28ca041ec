/**
 * How sizes, shapes, durations and cut-short texts read, in the core's refusals and on every page
 * and command line alike: one function each, so a size or a time left never reads two ways. Pure.
 */

/** "512 bytes", "1.5 KiB", "128.0 MiB": binary units, as the limits are set. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** "[4, batch, 28]"; "[?]" when the runtime reports no shape. */
export const formatDims = (dims: readonly (number | string)[] | null): string => (dims === null || dims.length === 0 ? '[?]' : `[${dims.join(', ')}]`);

/** "12.3 s", "4 min 05 s", "1 h 02 min"; a negative duration (two clocks apart) reads 0. */
export function formatDuration(ms: number): string {
  // Rounded once, to tenths, before choosing the unit: 59.96 s is "1 min 00 s", not "60.0 s".
  const tenths = Math.max(0, Math.round(ms / 100));
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const s = Math.round(tenths / 10);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * `text` if it has at most `maxChars` UTF-16 units (what a schema's `.max` counts), else cut to
 * fit with a closing "…". A character drawn from two units is never split: half of one would be
 * sent as a broken character.
 */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = maxChars - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
