import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_LIMITS, HARD_JOB_LIMITS } from '../core/jobChecks.ts';
import { DEFAULT_VOLUNTEER_SETTINGS } from '../core/volunteer/controls.ts';
import { openQuorumDb } from './db.ts';
import { SettingsStore } from './settingsStore.ts';

describe('SettingsStore', () => {
  it('creates the requester key once per network and keeps it', async () => {
    const db = await openQuorumDb(`settings-${Math.random()}`);
    const s = new SettingsStore(db);
    let made = 0;
    const gen = () => `key${++made}`;
    expect(await s.requesterKey('a', gen)).toBe('key1');
    expect(await s.requesterKey('a', gen)).toBe('key1');
    expect(await s.requesterKey('b', gen)).toBe('key2');
    // Another tab opening the same database sees the same key.
    expect(await new SettingsStore(await openQuorumDb(db.name)).requesterKey('a', gen)).toBe('key1');
    await s.putRequesterKey('a', 'rotated');
    expect(await s.requesterKey('a', gen)).toBe('rotated');
    db.close();
  });
  it('job limits default, are clamped, and are kept per network', async () => {
    const db = await openQuorumDb(`settings-${Math.random()}`);
    const s = new SettingsStore(db);
    expect(await s.jobLimits('a')).toEqual(DEFAULT_JOB_LIMITS);
    const saved = await s.putJobLimits('a', { maxItems: 10, maxModelBytes: 1e15, maxInputBytes: 'x' });
    expect(saved).toEqual({ maxItems: 10, maxModelBytes: HARD_JOB_LIMITS.maxModelBytes, maxInputBytes: DEFAULT_JOB_LIMITS.maxInputBytes });
    expect(await s.jobLimits('a')).toEqual(saved);
    expect(await s.jobLimits('b')).toEqual(DEFAULT_JOB_LIMITS);
    db.close();
  });
  it('volunteer controls default, are checked, and survive a reopen', async () => {
    const db = await openQuorumDb(`settings-${Math.random()}`);
    const s = new SettingsStore(db);
    expect(await s.volunteerSettings()).toEqual(DEFAULT_VOLUNTEER_SETTINGS);
    const saved = await s.putVolunteerSettings({ cpuCapPercent: 25, pauseWhenHidden: false, pauseOnBattery: true, threads: 2, junk: 1 });
    expect(saved).toEqual({ cpuCapPercent: 25, pauseWhenHidden: false, pauseOnBattery: true, threads: 2 });
    expect(await new SettingsStore(await openQuorumDb(db.name)).volunteerSettings()).toEqual(saved);
    expect(await s.putVolunteerSettings({ cpuCapPercent: 7 })).toEqual(DEFAULT_VOLUNTEER_SETTINGS);
    db.close();
  });
});
