/**
 * Small per-network settings in IndexedDB's `settings` store: the coordinator's requester key
 * and its job size limits. Keys are `<setting>:<network>`. The volunteer's controls (CPU cap,
 * pause rules, threads) belong to the machine, not a network: key `volunteer`.
 */
import { clampJobLimits, type JobLimits } from '../core/jobChecks.ts';
import { normaliseVolunteerSettings, type VolunteerSettings } from '../core/volunteer/controls.ts';
import type { QuorumDb } from './db.ts';

const keyOf = (setting: string, networkId: string): string => `${setting}:${networkId}`;
const VOLUNTEER_KEY = 'volunteer';

export class SettingsStore {
  constructor(private readonly db: QuorumDb) {}

  /**
   * The network's requester key, created with `generate` on first use. Read and written in one
   * transaction, so two tabs starting at once agree on one key.
   */
  async requesterKey(networkId: string, generate: () => string): Promise<string> {
    const tx = this.db.transaction('settings', 'readwrite');
    const key = keyOf('requesterKey', networkId);
    const stored = await tx.store.get(key);
    if (typeof stored === 'string' && stored !== '') {
      await tx.done;
      return stored;
    }
    const fresh = generate();
    await Promise.all([tx.store.put(fresh, key), tx.done]);
    return fresh;
  }

  async putRequesterKey(networkId: string, key: string): Promise<void> {
    await this.db.put('settings', key, keyOf('requesterKey', networkId));
  }

  /** The coordinator's job limits; defaults when none were saved, clamped to the hard caps. */
  async jobLimits(networkId: string): Promise<JobLimits> {
    const stored = await this.db.get('settings', keyOf('jobLimits', networkId));
    return clampJobLimits(stored !== null && typeof stored === 'object' ? (stored as Partial<Record<keyof JobLimits, unknown>>) : {});
  }

  /** Saves (clamped) limits and returns what was saved. */
  async putJobLimits(networkId: string, limits: Partial<Record<keyof JobLimits, unknown>>): Promise<JobLimits> {
    const clean = clampJobLimits(limits);
    await this.db.put('settings', { ...clean }, keyOf('jobLimits', networkId));
    return clean;
  }

  /** The volunteer's controls; defaults for anything missing or invalid. */
  async volunteerSettings(): Promise<VolunteerSettings> {
    return normaliseVolunteerSettings(await this.db.get('settings', VOLUNTEER_KEY));
  }

  /** Saves (checked) volunteer controls and returns what was saved. */
  async putVolunteerSettings(settings: unknown): Promise<VolunteerSettings> {
    const clean = normaliseVolunteerSettings(settings);
    await this.db.put('settings', { ...clean }, VOLUNTEER_KEY);
    return clean;
  }
}
