/**
 * [W-15] A volunteer's results that its coordinator has not acknowledged, in IndexedDB's `outbox`
 * store, keyed by the volunteer's own peer id (stable per tab and network) and the lease: a tab
 * that reloads, or whose coordinator was gone when a shard finished, still delivers them. Tabs
 * sharing the database keep apart by peer id.
 */
import type { OutboxEntry } from '../core/volunteer/volunteer.ts';
import type { LeaseId } from '../protocol/ids.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import { shardIdSchema } from '../protocol/schemas.ts';
import type { QuorumDb } from './db.ts';
import type { StoredOutboxEntry } from './records.ts';

/** Older results are not worth sending: the coordinator has long re-leased and decided their shards. */
export const OUTBOX_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export class OutboxStore {
  constructor(private readonly db: QuorumDb) {}

  async put(volunteerId: string, networkId: string, entry: OutboxEntry, nowMs: number): Promise<void> {
    const record: StoredOutboxEntry = {
      volunteerId,
      networkId,
      leaseId: entry.leaseId,
      shardId: entry.shardId,
      frame: entry.frame,
      storedAtMs: nowMs,
    };
    await this.db.put('outbox', record);
  }

  async delete(volunteerId: string, leaseId: LeaseId): Promise<void> {
    await this.db.delete('outbox', [volunteerId, leaseId]);
  }

  /**
   * This volunteer's results for this network, oldest first. Entries older than
   * `OUTBOX_MAX_AGE_MS`, of another network, or whose frame no longer parses (stored by another
   * version of the app, or damaged) are deleted, not returned: stored bytes are no more trusted
   * than a peer's frames.
   */
  async load(volunteerId: string, networkId: string, nowMs: number): Promise<OutboxEntry[]> {
    const tx = this.db.transaction('outbox', 'readwrite');
    const records = await tx.store.index('byVolunteer').getAll(volunteerId);
    const keep: (OutboxEntry & { readonly storedAtMs: number })[] = [];
    const drop: [string, string][] = [];
    for (const r of records) {
      const entry = r.networkId === networkId && nowMs - r.storedAtMs <= OUTBOX_MAX_AGE_MS ? toEntry(r) : null;
      if (entry) keep.push({ ...entry, storedAtMs: r.storedAtMs });
      else drop.push([r.volunteerId, r.leaseId]);
    }
    await Promise.all([...drop.map((key) => tx.store.delete(key)), tx.done]);
    return keep.sort((a, b) => a.storedAtMs - b.storedAtMs).map(({ leaseId, shardId, frame }) => ({ leaseId, shardId, frame }));
  }
}

function toEntry(r: StoredOutboxEntry): OutboxEntry | null {
  const parsed = parseToCoordinator(r.frame);
  if (!parsed.ok || parsed.msg.t !== 'result' || parsed.msg.leaseId !== r.leaseId) return null;
  const shardId = shardIdSchema.safeParse(r.shardId);
  if (!shardId.success) return null;
  return { leaseId: parsed.msg.leaseId, shardId: shardId.data, frame: parsed.msg };
}
