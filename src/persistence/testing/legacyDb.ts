/**
 * Databases as earlier releases left them, for upgrade tests: built with the bare IndexedDB API
 * (only db.ts may use idb), each version's stores exactly as its upgrade step made them, then
 * filled by `fill` in one transaction over `stores`.
 */
export type LegacyVersion = 2 | 3 | 5;

export function makeLegacyDb(name: string, version: LegacyVersion, stores: readonly string[], fill: (tx: IDBTransaction) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const open = indexedDB.open(name, version);
    open.onupgradeneeded = () => {
      const db = open.result;
      db.createObjectStore('models', { keyPath: 'hash' });
      db.createObjectStore('jobs', { keyPath: 'job.id' }).createIndex('byNetwork', 'networkId');
      db.createObjectStore('shards', { keyPath: ['jobId', 'index'] }).createIndex('byJob', 'jobId');
      db.createObjectStore('settings');
      db.createObjectStore('leases', { keyPath: version >= 4 ? ['networkId', 'id'] : 'id' }).createIndex('byNetwork', 'networkId');
      db.createObjectStore('peers', { keyPath: ['networkId', 'peerId'] }).createIndex('byNetwork', 'networkId');
      db.createObjectStore('outbox', { keyPath: ['volunteerId', 'leaseId'] }).createIndex('byVolunteer', 'volunteerId');
      if (version >= 3) db.createObjectStore('jobPieces', { keyPath: ['jobId', 'input', 'piece'] }).createIndex('byNetwork', 'networkId');
      if (version >= 4) db.createObjectStore('shardPieces', { keyPath: ['jobId', 'index', 'tag', 'piece'] });
      if (version >= 5) {
        db.createObjectStore('requesterJobs', { keyPath: ['networkId', 'jobId'] }).createIndex('byNetwork', 'networkId');
        db.createObjectStore('requesterShards', { keyPath: ['networkId', 'jobId', 'index'] }).createIndex('byJob', ['networkId', 'jobId']);
      }
    };
    open.onerror = () => reject(open.error ?? new Error('open failed'));
    open.onsuccess = () => {
      const tx = open.result.transaction([...stores], 'readwrite');
      fill(tx);
      tx.oncomplete = () => {
        open.result.close();
        resolve();
      };
      tx.onerror = () => reject(tx.error ?? new Error('write failed'));
    };
  });
}
