import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VOLUNTEER_SETTINGS,
  decidePause,
  defaultThreads,
  normaliseVolunteerSettings,
  restAfterShardMs,
  threadsToUse,
  type VolunteerSettings,
} from './controls.ts';

const S = DEFAULT_VOLUNTEER_SETTINGS;
const visible = { userPaused: false, hidden: false, battery: null };

describe('volunteer controls', () => {
  it('[W-11] defaults: pause when hidden and on battery, no cap, automatic threads', () => {
    expect(S).toEqual({ cpuCapPercent: 100, pauseWhenHidden: true, pauseOnBattery: true, threads: null });
  });

  it('[W-11] runs when nothing holds it back', () => {
    expect(decidePause(S, visible)).toEqual({ paused: false, reasons: [], text: '' });
    expect(decidePause(S, { ...visible, battery: { charging: true } }).paused).toBe(false);
  });

  it("[W-11] the user's pause always pauses, whatever the settings", () => {
    const off: VolunteerSettings = { ...S, pauseWhenHidden: false, pauseOnBattery: false };
    expect(decidePause(off, { ...visible, userPaused: true })).toEqual({ paused: true, reasons: ['user'], text: 'you paused it' });
  });

  it('[W-11] a hidden tab pauses only while that setting is on', () => {
    expect(decidePause(S, { ...visible, hidden: true })).toEqual({ paused: true, reasons: ['hidden'], text: 'the tab is hidden' });
    expect(decidePause({ ...S, pauseWhenHidden: false }, { ...visible, hidden: true }).paused).toBe(false);
  });

  it('[W-11] a device on battery pauses only while that setting is on; an unknown battery never pauses', () => {
    expect(decidePause(S, { ...visible, battery: { charging: false } })).toMatchObject({ paused: true, reasons: ['battery'] });
    expect(decidePause({ ...S, pauseOnBattery: false }, { ...visible, battery: { charging: false } }).paused).toBe(false);
    expect(decidePause(S, { ...visible, battery: null }).paused).toBe(false);
  });

  it('[W-11] every reason that holds is named, in a fixed order', () => {
    const d = decidePause(S, { userPaused: true, hidden: true, battery: { charging: false } });
    expect(d.reasons).toEqual(['user', 'hidden', 'battery']);
    expect(d.text).toBe('you paused it; the tab is hidden; the device is on battery');
  });

  it('[W-12] rest after a shard: t·(100/cap − 1)', () => {
    expect(restAfterShardMs(200, 100)).toBe(0);
    expect(restAfterShardMs(200, 50)).toBe(200);
    expect(restAfterShardMs(200, 25)).toBe(600);
    // Over a long run, computing takes the cap's share of the time.
    for (const cap of [25, 50, 100]) {
      const t = 37;
      expect(t / (t + restAfterShardMs(t, cap))).toBeCloseTo(cap / 100, 10);
    }
  });

  it('[W-12] nonsense times and caps give no rest (never a negative or infinite wait)', () => {
    for (const [t, c] of [
      [0, 50],
      [-5, 50],
      [NaN, 50],
      [Infinity, 50],
      [100, 0],
      [100, -1],
      [100, NaN],
      [100, 150],
    ] as const) {
      expect(restAfterShardMs(t, c)).toBe(0);
    }
  });

  it('threads: 1 when other volunteer tabs share the machine, else half the cores, at most 4, at least 1', () => {
    expect(defaultThreads(16, 1)).toBe(1);
    expect(defaultThreads(16, 0)).toBe(4);
    expect(defaultThreads(8, 0)).toBe(4);
    expect(defaultThreads(6, 0)).toBe(3);
    expect(defaultThreads(2, 0)).toBe(1);
    expect(defaultThreads(1, 0)).toBe(1);
    expect(defaultThreads(NaN, 0)).toBe(1);
    expect(threadsToUse({ ...S, threads: 3 }, 16, 5)).toBe(3);
    expect(threadsToUse(S, 16, 0)).toBe(4);
  });

  it('settings from storage are checked: unknown or out-of-range values fall back to defaults', () => {
    expect(normaliseVolunteerSettings(undefined)).toEqual(S);
    expect(normaliseVolunteerSettings('junk')).toEqual(S);
    expect(normaliseVolunteerSettings({ cpuCapPercent: 50, pauseWhenHidden: false, pauseOnBattery: false, threads: 2 })).toEqual({
      cpuCapPercent: 50,
      pauseWhenHidden: false,
      pauseOnBattery: false,
      threads: 2,
    });
    expect(normaliseVolunteerSettings({ cpuCapPercent: 33, pauseWhenHidden: 'no', threads: 0 })).toEqual(S);
    expect(normaliseVolunteerSettings({ threads: 1.5 }).threads).toBeNull();
    expect(normaliseVolunteerSettings({ threads: 99 }).threads).toBeNull();
  });
});
