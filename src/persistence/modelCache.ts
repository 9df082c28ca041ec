/** Models by content hash. The caller has already checked the bytes against the hash. */
import type { ModelHash } from '../protocol/ids.ts';
import type { QuorumDb } from './db.ts';

export class ModelCache {
  constructor(private readonly db: QuorumDb) {}

  async get(hash: ModelHash): Promise<ArrayBuffer | null> {
    const row = await this.db.get('models', hash);
    return row ? row.bytes : null;
  }

  async put(hash: ModelHash, bytes: ArrayBuffer, nowMs: number): Promise<void> {
    await this.db.put('models', { hash, bytes, storedAtMs: nowMs });
  }
}
