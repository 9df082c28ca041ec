/**
 * `#/network`: the live network map. A read-only observer of the coordinator's telemetry
 * ([O-1], [T-1]) — or, with `?demo=N`, of a seeded synthetic network of N volunteers.
 */
import { memo, useEffect, useMemo, useState } from 'react';
import { formatDuration } from '../core/format.ts';
import type { TelemetryFrame } from '../core/telemetry/aggregator.ts';
import { MAX_DEMO_VOLUNTEERS } from '../core/telemetry/demoNetwork.ts';
import { connectObserver } from '../host/observerRole.ts';
import { useQuorumStore } from '../stores/store.ts';
import { TelemetryCharts } from './charts/TelemetryCharts.tsx';
import { VerificationPanel } from './charts/VerificationPanel.tsx';
import { JobProgress, PeersTable, StateBadge } from './common.tsx';
import { KeyAlarmBanner } from './KeyAlarmBanner.tsx';
import { Legend } from './map/Legend.tsx';
import { COORDINATOR_ID, REST_ID } from './map/mapScene.ts';
import { NetworkMap } from './map/NetworkMap.tsx';
import './network.css';
import type { Route } from './route.ts';

function demoSize(route: Route): number {
  const n = Number(route.params.get('demo') ?? 0);
  return Number.isFinite(n) && n > 0 ? Math.min(MAX_DEMO_VOLUNTEERS, Math.floor(n)) : 0;
}

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

function PeerDetails({ frame, selectedId }: { frame: TelemetryFrame | null; selectedId: string | null }) {
  if (!frame) return <p className="muted">Waiting for the first telemetry frame…</p>;
  if (selectedId === null) return <p className="muted">Hover over a node for a summary; click or pick one below for its details.</p>;
  if (selectedId === COORDINATOR_ID) {
    const t = frame.totals;
    return (
      <dl className="facts" data-testid="peer-details" data-peer="coordinator">
        <dt>Node</dt>
        <dd>Coordinator</dd>
        <dt>Peers</dt>
        <dd>{t.peers}</dd>
        <dt>Leases out</dt>
        <dd>{t.activeLeases}</dd>
        <dt>Shards verified</dt>
        <dd>{t.shardsVerified}</dd>
        <dt>Disagreements</dt>
        <dd>{t.disagreements}</dd>
      </dl>
    );
  }
  if (selectedId === REST_ID) {
    const r = frame.rest;
    return (
      <dl className="facts" data-testid="peer-details" data-peer="rest">
        <dt>Summarised peers</dt>
        <dd>{r.peers}</dd>
        <dt>Volunteers</dt>
        <dd>{r.volunteers}</dd>
        <dt>Working</dt>
        <dd>{r.working}</dd>
        <dt>Quarantined</dt>
        <dd>{r.quarantined}</dd>
        <dt>Shards done</dt>
        <dd>{r.shardsDone}</dd>
      </dl>
    );
  }
  const p = frame.peers.find((x) => x.peerId === selectedId);
  if (!p) return <p className="muted">That peer has left the network.</p>;
  return (
    <dl className="facts" data-testid="peer-details" data-peer={p.peerId}>
      <dt>Peer</dt>
      <dd>
        <code>{p.peerId}</code>
      </dd>
      <dt>Role</dt>
      <dd>{p.role}</dd>
      <dt>Status</dt>
      <dd data-testid="detail-status">{p.status}</dd>
      <dt>Backend</dt>
      <dd data-testid="detail-backend">{p.backend ?? '—'}</dd>
      <dt>Adapter</dt>
      <dd>{p.adapter ?? '—'}</dd>
      <dt>Shards done</dt>
      <dd data-testid="detail-shards">{p.shardsDone}</dd>
      <dt>Results returned</dt>
      <dd>{p.resultsReturned}</dd>
      <dt>Outvoted / rejected</dt>
      <dd>{p.rejected}</dd>
      <dt>Agreement rate</dt>
      <dd>{pct(p.agreementRate)}</dd>
      <dt>Reputation</dt>
      <dd>{p.reputation === null ? '—' : p.reputation.toFixed(3)}</dd>
      <dt>Throughput</dt>
      <dd>{p.throughputPerS.toFixed(2)} results/s</dd>
      <dt>Leases out</dt>
      <dd>{p.activeLeases}</dd>
      <dt>Time online</dt>
      <dd>{formatDuration(frame.atMs - p.connectedAtMs)}</dd>
    </dl>
  );
}

/** Options change only when peers come or go (not with every frame), so this re-renders rarely. */
const PeerOptions = memo(function PeerOptions({ peers }: { peers: string }) {
  return (
    <>
      {peers
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [id = '', role = ''] = line.split(' ');
          return (
            <option key={id} value={id}>
              {role} {id.slice(0, 12)}
            </option>
          );
        })}
    </>
  );
});

export function NetworkPage({ route }: { route: Route }) {
  const n = useQuorumStore((s) => s.network);
  const demo = demoSize(route);
  const [selected, setSelected] = useState<string | null>(null);
  const [showTable, setShowTable] = useState(false);
  useEffect(() => {
    void connectObserver(route.networkId, demo);
  }, [route.networkId, demo]);

  const frame = n.telemetry;
  const t = frame?.totals;
  const peerList = useMemo(() => (frame?.peers ?? []).map((p) => `${p.peerId} ${p.role}`).join('\n'), [frame]);
  const byBackend = new Map<string, number>();
  for (const p of n.peers) if (p.backend) byBackend.set(p.backend, (byBackend.get(p.backend) ?? 0) + 1);
  const summary = t
    ? `${t.peers} peers: ${t.volunteers} volunteers, ${t.working} working, ${t.idle} idle, ${t.paused} paused, ${t.quarantined} quarantined`
    : 'no telemetry yet';

  return (
    <section className="netmap">
      <div className="netmap-head">
        <h1>Network map</h1>
        <StateBadge state={n.state} error={n.error} />
        <KeyAlarmBanner role="network" />
        {n.source === 'demo' ? (
          <span className="badge" data-testid="demo-badge">
            demo: {demo} simulated volunteers
          </span>
        ) : null}
      </div>
      <p className="muted intro">
        {n.source === 'demo' ? (
          'A seeded, simulated network'
        ) : (
          <>
            A read-only view of network <code>{route.networkId}</code>
          </>
        )}
        : who is online, what they are doing, and whether their results agree. Updated twice a second.
      </p>
      <ul className="totals" data-testid="totals" aria-label="Network totals">
        <li>
          peers <strong data-testid="peer-count">{n.peers.length}</strong>
          {frame && frame.rest.peers > 0 ? <span className="muted"> (+{frame.rest.peers} summarised)</span> : null}
        </li>
        <li>
          working <strong data-testid="total-working">{t?.working ?? 0}</strong>
        </li>
        <li>
          quarantined <strong data-testid="total-quarantined">{t?.quarantined ?? 0}</strong>
        </li>
        <li>
          throughput <strong data-testid="total-throughput">{(t?.throughputPerS ?? 0).toFixed(1)}</strong>/s
        </li>
        <li>
          verified <strong data-testid="total-verified">{t?.shardsVerified ?? 0}</strong>
        </li>
        <li>
          disagreements <strong data-testid="total-disagreements">{t?.disagreements ?? 0}</strong>
        </li>
        {[...byBackend].map(([b, count]) => (
          <li key={b} className="badge">
            {b}: {count}
          </li>
        ))}
      </ul>

      <div className="netmap-grid">
        <div className="netmap-map">
          <NetworkMap selectedId={selected} onSelect={setSelected} label={`Network map: ${summary}.`} />
          <Legend />
        </div>
        <aside className="netmap-side" aria-label="Selected peer">
          <h2>Details</h2>
          <label className="peer-picker">
            Find a peer{' '}
            <select data-testid="peer-picker" value={selected ?? ''} onChange={(e) => setSelected(e.target.value || null)}>
              <option value="">—</option>
              <option value={COORDINATOR_ID}>coordinator</option>
              <PeerOptions peers={peerList} />
            </select>
          </label>
          <PeerDetails frame={frame} selectedId={selected} />
          <h2>Jobs</h2>
          {n.jobs.length === 0 ? <p className="muted">No jobs.</p> : n.jobs.slice(0, 3).map((j) => <JobProgress key={j.jobId} job={j} />)}
          {n.jobs.length > 3 ? <p className="muted">and {n.jobs.length - 3} more</p> : null}
        </aside>
      </div>

      <TelemetryCharts history={n.history} />
      <VerificationPanel frame={frame} />

      <details className="all-peers" open={showTable} onToggle={(e) => setShowTable(e.currentTarget.open)}>
        <summary>All listed peers as a table ({n.peers.length})</summary>
        {showTable ? <PeersTable peers={n.peers} /> : null}
      </details>
    </section>
  );
}
