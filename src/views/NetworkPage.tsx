import { useEffect } from 'react';
import { connectObserver } from '../host/roles.ts';
import { useQuorumStore } from '../stores/store.ts';
import { JobProgress, PeersTable, StateBadge } from './common.tsx';
import type { Route } from './route.ts';

export function NetworkPage({ route }: { route: Route }) {
  const n = useQuorumStore((s) => s.network);
  useEffect(() => {
    void connectObserver(route.networkId);
  }, [route.networkId]);
  const byBackend = new Map<string, number>();
  for (const p of n.peers) if (p.backend) byBackend.set(p.backend, (byBackend.get(p.backend) ?? 0) + 1);
  return (
    <section>
      <h1>Network</h1>
      <p>
        A read-only view of network <code>{route.networkId}</code>: who is online, on which backend, and how the jobs stand.
      </p>
      <StateBadge state={n.state} error={n.error} />
      <h2>
        Peers <span data-testid="peer-count">{n.peers.length}</span>
        {[...byBackend].map(([b, count]) => (
          <span key={b} className="badge">
            {b}: {count}
          </span>
        ))}
      </h2>
      <PeersTable peers={n.peers} />
      <h2>Jobs</h2>
      {n.jobs.length === 0 ? <p className="muted">No jobs.</p> : n.jobs.map((j) => <JobProgress key={j.jobId} job={j} />)}
    </section>
  );
}
