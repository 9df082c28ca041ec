/** Small presentational pieces shared by the role pages. */
import type { JobStatus, PeerSummary } from '../protocol/messages.ts';
import type { LogLine } from '../model/log.ts';
import type { ConnectionState } from '../model/connection.ts';

export function StateBadge({ state, error }: { state: ConnectionState; error: string | null }) {
  return (
    <span className={`badge badge-${state}`} data-testid="connection-state" role="status">
      {state}
      {error ? `: ${error}` : ''}
    </span>
  );
}

export function JobProgress({ job }: { job: JobStatus }) {
  const pct = (n: number): string => `${((100 * n) / Math.max(1, job.shards)).toFixed(2)}%`;
  return (
    <div className="job" data-testid={`job-${job.jobId}`} data-done={job.done}>
      <div className="job-head">
        <strong>{job.name}</strong> <code>{job.jobId}</code> — {job.items} items, {job.shards} shards
        {job.done ? <span className="badge badge-connected">done</span> : null}
      </div>
      <div className="bar" aria-label={`${job.verified} of ${job.shards} shards verified`}>
        <span className="bar-verified" style={{ width: pct(job.verified) }} />
        <span className="bar-flight" style={{ width: pct(job.inFlight) }} />
        <span className="bar-unverifiable" style={{ width: pct(job.unverifiable) }} />
      </div>
      <div className="job-counts">
        <span data-testid="verified">verified {job.verified}</span> · <span>in flight {job.inFlight}</span> · <span>pending {job.pending}</span> ·{' '}
        <span data-testid="unverifiable">unverifiable {job.unverifiable}</span> · <span>disagreements {job.disagreements}</span>
      </div>
    </div>
  );
}

export function PeersTable({ peers }: { peers: readonly PeerSummary[] }) {
  if (peers.length === 0) return <p className="muted">No peers connected.</p>;
  return (
    <table className="peers" data-testid="peers">
      <thead>
        <tr>
          <th>peer</th>
          <th>role</th>
          <th>backend</th>
          <th>adapter</th>
          <th>shards accepted</th>
          <th>leases</th>
        </tr>
      </thead>
      <tbody>
        {peers.map((p) => (
          <tr key={p.peerId} data-testid={`peer-${p.peerId}`}>
            <td>
              <code>{p.peerId.slice(0, 12)}</code>
            </td>
            <td>
              {p.role}
              {p.paused ? <span className="muted"> (paused)</span> : null}
            </td>
            <td>{p.backend ?? '—'}</td>
            <td>{p.adapter ?? '—'}</td>
            <td>{p.shardsDone}</td>
            <td>{p.activeLeases}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function LogView({ log }: { log: readonly LogLine[] }) {
  return (
    <details className="log" open>
      <summary>Log ({log.length})</summary>
      <ol data-testid="log">
        {log
          .slice(-60)
          .reverse()
          .map((l, i) => (
            <li key={`${l.atMs}-${i}`} className={`log-${l.level}`}>
              <time>{new Date(l.atMs).toLocaleTimeString()}</time> {l.text}
            </li>
          ))}
      </ol>
    </details>
  );
}
