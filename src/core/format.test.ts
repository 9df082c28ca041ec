import { describe, expect, it } from 'vitest';
import { formatBytes, formatDims, formatDuration, truncate } from './format.ts';

describe('formatBytes', () => {
  it('counts bytes, then KiB and MiB with one decimal', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(128 * 1024 * 1024)).toBe('128.0 MiB');
  });
});

describe('formatDims', () => {
  it('writes a shape in brackets, free dims by name, and [?] when unknown', () => {
    expect(formatDims([4, 'batch', 28])).toBe('[4, batch, 28]');
    expect(formatDims([])).toBe('[?]');
    expect(formatDims(null)).toBe('[?]');
  });
});

describe('formatDuration', () => {
  it('formats durations', () => {
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });

  it('a duration just under a minute that rounds to 60 s reads "1 min 00 s", not "60.0 s"', () => {
    expect(formatDuration(59_960)).toBe('1 min 00 s');
    expect(formatDuration(59_940)).toBe('59.9 s');
    expect(formatDuration(3_599_600)).toBe('1 h 00 min');
  });

  it('a negative duration (clocks a little apart) reads 0 s, never "-1.0 s"', () => {
    expect(formatDuration(-1_000)).toBe('0.0 s');
    expect(formatDuration(-120_000)).toBe('0.0 s');
  });
});

describe('truncate', () => {
  it('keeps a text that fits and cuts a longer one to exactly the limit, ending in an ellipsis', () => {
    expect(truncate('short', 5)).toBe('short');
    expect(truncate('longer', 5)).toBe('long…');
    expect(truncate('x'.repeat(600), 500)).toHaveLength(500);
  });

  it('never leaves half of a character drawn from two UTF-16 units at the cut', () => {
    const cut = truncate(`${'a'.repeat(3)}😀😀`, 5);
    expect(cut).toBe('aaa…');
    expect(truncate('😀😀😀', 4)).toBe('😀…');
  });
});
