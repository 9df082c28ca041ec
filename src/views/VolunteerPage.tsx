import { useEffect } from 'react';
import { startVolunteer } from '../host/roles.ts';
import { useQuorumStore } from '../stores/store.ts';
import { LogView, StateBadge } from './common.tsx';
import type { Route } from './route.ts';

function backendPref(route: Route): 'auto' | 'wasm' | 'webgpu' {
  const b = route.params.get('backend');
  return b === 'wasm' || b === 'webgpu' ? b : 'auto';
}

export function VolunteerPage({ route }: { route: Route }) {
  const v = useQuorumStore((s) => s.volunteer);
  const autostart = route.params.get('autostart') === '1';
  const start = (): void => void startVolunteer(route.networkId, backendPref(route));
  useEffect(() => {
    if (autostart) void startVolunteer(route.networkId, backendPref(route));
  }, [autostart, route]);

  const stats = v.stats;
  return (
    <section>
      <h1>Volunteer</h1>
      <p>
        Quorum turns this tab into an inference worker for network <code>{route.networkId}</code>. It downloads a model, runs small
        batches ("shards") of other people's inputs through it with onnxruntime-web — on your GPU via WebGPU when the browser offers one,
        on the CPU via WebAssembly otherwise — and sends the outputs back. Every shard is also computed by another volunteer and only
        accepted when the results agree. Nothing leaves this tab but model outputs.
      </p>
      {v.state === 'off' ? (
        <button className="primary" data-testid="start-volunteering" onClick={start}>
          Start volunteering
        </button>
      ) : (
        <StateBadge state={v.state} error={v.error} />
      )}
      {v.caps ? (
        <dl className="facts" data-testid="volunteer-facts">
          <dt>Backend</dt>
          <dd data-testid="backend">{v.caps.backend}</dd>
          <dt>Why</dt>
          <dd data-testid="backend-reason">{v.caps.backendReason}</dd>
          <dt>Adapter</dt>
          <dd>{v.caps.adapter ? `${v.caps.adapter.vendor} ${v.caps.adapter.architecture} ${v.caps.adapter.description}`.trim() : '—'}</dd>
          <dt>onnxruntime-web</dt>
          <dd>
            {v.caps.ortVersion}, {v.caps.threads} thread{v.caps.threads === 1 ? '' : 's'}
          </dd>
          <dt>Now</dt>
          <dd data-testid="phase">{stats?.phase ?? '—'}</dd>
          <dt>Current shard</dt>
          <dd>{stats?.currentShard ?? '—'}</dd>
          <dt>Model download</dt>
          <dd>{stats?.modelProgress ? `${stats.modelProgress.received} / ${stats.modelProgress.total} bytes` : '—'}</dd>
          <dt>Results delivered</dt>
          <dd data-testid="results-delivered">{stats?.resultsDelivered ?? 0}</dd>
          <dt>Compute time given</dt>
          <dd>{((stats?.computeMs ?? 0) / 1000).toFixed(1)} s</dd>
        </dl>
      ) : null}
      {stats?.refusal ? <p className="error">Refused by the coordinator: {stats.refusal}</p> : null}
      <LogView log={v.log} />
    </section>
  );
}
