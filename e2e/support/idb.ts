/** Reads a tab's own IndexedDB (the app's `quorum` database) from a test, without the app's help. */
import type { Page } from '@playwright/test';

/** The stored record shapes tests look at (a subset of src/persistence/records.ts). */
export interface StoredRecords {
  leases: { id: string; jobId: string; shardIndex: number; volunteer: string; retired: boolean };
  outbox: { volunteerId: string; leaseId: string; shardId: string };
  shards: { jobId: string; index: number; status: string };
  /** [J-7] A job of files keeps its files' names in the record and their bytes in pieces, `fileSizes` long. */
  jobs: { networkId: string; job: { id: string; inputs: unknown[]; files?: { name: string }[] }; fileSizes?: number[] };
}

/** Every record of one object store in `page`'s origin, read in a fresh connection. */
export function storedRecords<K extends keyof StoredRecords>(page: Page, store: K): Promise<StoredRecords[K][]> {
  return page.evaluate(
    (name) =>
      new Promise<StoredRecords[K][]>((resolve, reject) => {
        const open = indexedDB.open('quorum');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const all = db.transaction(name).objectStore(name).getAll();
          all.onerror = () => reject(all.error);
          all.onsuccess = () => {
            db.close();
            resolve(all.result as StoredRecords[K][]);
          };
        };
      }),
    store,
  );
}

/** Live (not retired) leases in a coordinator tab's storage ([S-1]). */
export async function storedLiveLeases(page: Page): Promise<StoredRecords['leases'][]> {
  return (await storedRecords(page, 'leases')).filter((l) => !l.retired);
}

/** Verified shards of `jobId` in a coordinator tab's storage ([S-2]). */
export async function storedVerifiedShards(page: Page, jobId: string): Promise<number> {
  return (await storedRecords(page, 'shards')).filter((s) => s.jobId === jobId && s.status === 'verified').length;
}
