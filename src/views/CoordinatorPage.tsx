import { useEffect } from 'react';
import { retryCoordinatorStorage, startCoordinator } from '../host/coordinatorRole.ts';
import { useQuorumStore } from '../stores/store.ts';
import { JobProgress, LogView, PeersTable, StateBadge } from './common.tsx';
import { CoordinatorSettings } from './CoordinatorSettings.tsx';
import { ConnectionBudget } from './ConnectionBudget.tsx';
import { joinLink, type Route } from './route.ts';

export function CoordinatorPage({ route }: { route: Route }) {
  const c = useQuorumStore((s) => s.coordinator);
  useEffect(() => {
    // Opening this page is the intent: the tab becomes the network's coordinator.
    void startCoordinator(route.networkId);
  }, [route.networkId]);
  const volunteers = c.peers.filter((p) => p.role === 'volunteer');
  const fingerprint = useQuorumStore((s) => s.keyTrust.coordinatorFingerprint);
  const volunteerUrl = `${location.origin}/${joinLink('volunteer', route.networkId, fingerprint)}`;
  const mapUrl = `${location.origin}/${joinLink('network', route.networkId, fingerprint)}`;
  return (
    <section>
      <h1>Coordinator</h1>
      <p>
        This tab coordinates network <code>{route.networkId}</code>: it leases shards to volunteers, sends each shard to several of them, and accepts a result
        only when a quorum agrees. Keep it open while jobs run.
      </p>
      <p>
        <StateBadge state={c.state} error={c.error} /> {c.peerId ? <code data-testid="coordinator-id">{c.peerId}</code> : null}{' '}
        {c.signaling === 'lost' ? <span className="badge badge-error">signaling server lost; reconnecting</span> : null}
      </p>
      {c.storage.error !== null ? (
        <div role="alert" className="badge badge-error" data-testid="storage-error">
          <p>{c.storage.error}</p>
          <p>
            {c.storage.pendingWrites} write(s) waiting.{' '}
            <button type="button" data-testid="storage-retry" onClick={() => void retryCoordinatorStorage()}>
              Retry storage
            </button>
          </p>
        </div>
      ) : null}
      <ConnectionBudget budget={c.connectionBudget} pageUrl={location.href} />
      <p>
        Storage:{' '}
        <span data-testid="storage-persisted">
          {c.storage.persisted === null
            ? 'not asked yet'
            : c.storage.persisted
              ? 'persistent'
              : 'best-effort (the browser may evict this data when disk space runs low)'}
        </span>
      </p>
      <p>
        Coordinator key: <code data-testid="coordinator-key">{fingerprint ?? '…'}</code>. Its join links carry it (<code>fp=</code>): a page opened from one
        talks only to a coordinator that proves this key.
      </p>
      <p>
        Volunteers join at{' '}
        <a href={volunteerUrl} data-testid="volunteer-link">
          {volunteerUrl}
        </a>
      </p>
      <p>
        The network map:{' '}
        <a href={mapUrl} data-testid="network-link">
          {mapUrl}
        </a>
      </p>
      <h2>
        Volunteers <span data-testid="volunteer-count">{volunteers.length}</span> · leases out <span data-testid="active-leases">{c.activeLeases}</span>
      </h2>
      <PeersTable peers={c.peers} />
      <h2>Jobs</h2>
      {c.jobs.length === 0 ? (
        <p className="muted">No jobs yet: submit one from the requester dashboard.</p>
      ) : (
        c.jobs.map((j) => <JobProgress key={j.jobId} job={j} />)
      )}
      <CoordinatorSettings networkId={route.networkId} />
      <LogView log={c.log} />
    </section>
  );
}
