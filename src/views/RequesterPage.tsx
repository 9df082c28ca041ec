import { useEffect, useState, type FormEvent } from 'react';
import { connectRequester, runReference, submitMnistJob } from '../host/roles.ts';
import { useQuorumStore, type JobResults } from '../stores/store.ts';
import { JobProgress, LogView, StateBadge } from './common.tsx';
import type { Route } from './route.ts';

export function RequesterPage({ route }: { route: Route }) {
  const r = useQuorumStore((s) => s.requester);
  const [count, setCount] = useState(2000);
  const [shardSize, setShardSize] = useState(100);
  const [replication, setReplication] = useState(2);
  const [quorum, setQuorum] = useState(2);
  const [key, setKey] = useState('');
  const [formError, setFormError] = useState<string | null>(null);
  useEffect(() => {
    void connectRequester(route.networkId);
  }, [route.networkId]);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setFormError(null);
    submitMnistJob({ count, shardSize, replication, quorum, requesterKey: key }).catch((err: unknown) =>
      setFormError(err instanceof Error ? err.message : String(err)),
    );
  };
  const myJobs = new Set(r.submissions.map((s) => s.jobId));
  return (
    <section>
      <h1>Requester</h1>
      <p>
        Submit a job to network <code>{route.networkId}</code>, watch it run on volunteers' browsers, and take away results that a quorum of
        independent volunteers agreed on.
      </p>
      <StateBadge state={r.state} error={r.error} />
      <form className="submit" onSubmit={submit} data-testid="submit-form">
        <fieldset>
          <legend>Built-in workload: MNIST digits (the project's 784→64→10 MLP)</legend>
          <label>
            Digits <input type="number" name="count" min={1} max={2000} value={count} onChange={(e) => setCount(Number(e.target.value))} />
          </label>
          <label>
            Shard size <input type="number" name="shardSize" min={1} value={shardSize} onChange={(e) => setShardSize(Number(e.target.value))} />
          </label>
          <label>
            Replication <input type="number" name="replication" min={1} max={16} value={replication} onChange={(e) => setReplication(Number(e.target.value))} />
          </label>
          <label>
            Quorum <input type="number" name="quorum" min={1} max={16} value={quorum} onChange={(e) => setQuorum(Number(e.target.value))} />
          </label>
          <label>
            Requester key <input type="text" name="requesterKey" value={key} onChange={(e) => setKey(e.target.value)} placeholder="if the coordinator requires one" />
          </label>
          <button className="primary" type="submit" data-testid="submit-job" disabled={r.state !== 'connected'}>
            Submit job
          </button>
        </fieldset>
        {formError ? <p className="error">{formError}</p> : null}
      </form>
      <h2>Submissions</h2>
      <ul data-testid="submissions">
        {r.submissions.map((s) => (
          <li key={s.ref} data-state={s.state}>
            {s.name}: {s.state}
            {s.jobId ? (
              <>
                {' '}
                as <code>{s.jobId}</code>
              </>
            ) : null}
            {s.reason ? <span className="error"> — {s.reason}</span> : null}
          </li>
        ))}
      </ul>
      <h2>Jobs</h2>
      {r.jobs.filter((j) => myJobs.has(j.jobId)).map((j) => (
        <div key={j.jobId}>
          <JobProgress job={j} />
          {r.results[j.jobId] ? <Results results={r.results[j.jobId]!} /> : null}
        </div>
      ))}
      <h2>Check against a local run</h2>
      <p>Runs the same model on the same digits in this tab alone, so you can compare it with what the network verified.</p>
      <button data-testid="run-reference" onClick={() => void runReference(count)} disabled={r.reference?.state === 'running'}>
        Run {count} digits locally
      </button>
      {r.reference ? <p data-testid="reference-state" data-state={r.reference.state}>{r.reference.detail}</p> : null}
      <LogView log={r.log} />
    </section>
  );
}

function Results({ results }: { results: JobResults }) {
  const reference = useQuorumStore((s) => s.requester.reference);
  const matches =
    reference?.state === 'done' && reference.predictions.length === results.predictions.length
      ? results.predictions.filter((p, i) => p === reference.predictions[i]).length
      : null;
  const download = (): void => {
    const blob = new Blob([JSON.stringify({ jobId: results.jobId, predictions: results.predictions, provenance: results.provenance }, null, 1)], {
      type: 'application/json',
    });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${results.jobId}-results.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const backends = new Set(results.provenance.flatMap((p) => p.backends));
  return (
    <div className="results" data-testid={`results-${results.jobId}`}>
      <p>
        <strong data-testid="verified-items">{results.verifiedItems}</strong> of {results.items} items verified
        {results.accuracy !== null ? (
          <>
            ; accuracy against the true labels <strong data-testid="accuracy">{(results.accuracy * 100).toFixed(2)}%</strong>
          </>
        ) : null}
        ; agreeing backends: {[...backends].join(', ') || '—'}.
      </p>
      {matches !== null ? (
        <p data-testid="reference-match">
          {matches} of {results.predictions.length} predictions match the local run.
        </p>
      ) : null}
      <p className="mono">First predictions: {results.predictions.slice(0, 40).join(' ')}…</p>
      <button onClick={download}>Download verified results (JSON)</button>
    </div>
  );
}
