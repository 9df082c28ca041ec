/**
 * [K-1] Each network's coordinator key pair, made on the coordinator's first start and kept in
 * IndexedDB (v6 `coordinatorKeys`), so a reloaded coordinator proves the same key its clients
 * pinned; [I-2] likewise this profile's volunteer key pair per network (v7 `volunteerKeys`), so
 * its peer id, standing and leases stay its own across reloads.
 */
import type { QuorumDb } from './db.ts';

export class CoordinatorKeyStore {
  constructor(
    private readonly db: QuorumDb,
    private readonly store: 'coordinatorKeys' | 'volunteerKeys' = 'coordinatorKeys',
  ) {}

  /**
   * The network's key pair, made with `generate` when there is none. Key generation is
   * asynchronous and would let an IndexedDB transaction commit under it, so the new pair is
   * `add`ed (never `put`): when another tab stored one first, that one wins and is returned.
   */
  async keyPair(networkId: string, generate: () => Promise<CryptoKeyPair>, now: number): Promise<CryptoKeyPair> {
    const stored = await this.db.get(this.store, networkId);
    if (stored) return stored.keyPair;
    const fresh = await generate();
    try {
      await this.db.add(this.store, { networkId, keyPair: fresh, createdAtMs: now });
      return fresh;
    } catch (e) {
      const raced = await this.db.get(this.store, networkId);
      if (raced) return raced.keyPair;
      throw e;
    }
  }
}
