import { useEffect } from 'react';
import { CPU_CAPS, MAX_THREADS, type CpuCapPercent } from '../core/volunteer/controls.ts';
import type { VolunteerStats } from '../core/volunteer/volunteer.ts';
import type { Capabilities } from '../protocol/capabilities.ts';
import { prepareVolunteer, setVolunteerPaused, startVolunteer, updateVolunteerSettings } from '../host/volunteerRole.ts';
import { useQuorumStore } from '../stores/store.ts';
import { type VolunteerView } from '../model/volunteerView.ts';
import { LogView, StateBadge } from './common.tsx';
import { KeyAlarmBanner } from './KeyAlarmBanner.tsx';
import type { Route } from './route.ts';
import './volunteer.css';

function backendPref(route: Route): 'auto' | 'wasm' | 'webgpu' {
  const b = route.params.get('backend');
  return b === 'wasm' || b === 'webgpu' ? b : 'auto';
}

/** `?liar=1` makes this volunteer corrupt its outputs, `?slowMs=N` holds each shard N ms — test builds only. */
function testOptions(route: Route): { liar: boolean; slowMs: number } {
  const test = import.meta.env.MODE === 'test';
  return { liar: test && route.params.get('liar') === '1', slowMs: test ? Number(route.params.get('slowMs') ?? 0) || 0 : 0 };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function adapterName(caps: Capabilities): string {
  const a = caps.adapter;
  if (!a) return '';
  const name = `${a.vendor} ${a.architecture} ${a.description}`.trim() || 'unnamed adapter';
  return a.isFallbackAdapter ? `${name} (software fallback)` : name;
}

/** The backend line: "WebGPU on <adapter>" or "WASM, N threads". */
function backendLine(caps: Capabilities): string {
  const threads = `${caps.threads} thread${caps.threads === 1 ? '' : 's'}`;
  switch (caps.backend) {
    case 'webgpu':
      return `WebGPU on ${adapterName(caps)}`;
    case 'wasm':
      return `WASM (CPU), ${threads}`;
    case 'node-cpu':
      return `onnxruntime-node (CPU), ${threads}`;
  }
}

/** What the volunteer is doing, in words. */
function activity(v: VolunteerView): string {
  const s = v.stats;
  if (v.state === 'off') return 'not started';
  if (v.state === 'error') return 'stopped by an error';
  if (!s) return 'starting the inference engine…';
  switch (s.phase) {
    case 'connecting':
      return s.paused ? `Paused: ${s.pauseReason} (connecting to the coordinator)` : 'connecting to the coordinator';
    case 'greeting':
    case 'asking':
      return 'asking the coordinator for a shard';
    case 'idle':
      return 'no work right now; asking again shortly';
    case 'fetching-model':
      return 'downloading the model';
    case 'verifying-model':
      return "checking the model's sha256";
    case 'running':
      return `computing shard ${s.currentShard ?? ''}`;
    case 'resting':
      return `resting between shards (CPU cap ${s.cpuCapPercent}%)`;
    case 'paused':
      return `Paused: ${s.pauseReason}`;
    case 'refused':
      return `refused by the coordinator: ${s.refusal ?? ''}`;
  }
}

function Reputation({ stats }: { stats: VolunteerStats | null }) {
  const st = stats?.standing;
  if (!st) return <>—</>;
  if (st.quarantined) return <span className="error">quarantined: the coordinator caught a wrong result and gives no more work</span>;
  const level = st.trustLevel === null ? '' : `, ${Math.round(st.trustLevel * 100)}% of the way to trusted`;
  return (
    <>
      {st.trusted ? 'trusted' : 'not yet trusted'}: a streak of {st.streak} valid result{st.streak === 1 ? '' : 's'}
      {level}; {st.resultsRejected} rejected
    </>
  );
}

function Controls({ v }: { v: VolunteerView }) {
  const c = v.controls;
  const s = c.settings;
  const paused = c.userPaused;
  const maxThreads = Math.max(1, Math.min(MAX_THREADS, c.env.hardwareConcurrency));
  const threadChoices = Array.from({ length: maxThreads }, (_, i) => i + 1);
  if (s.threads !== null && !threadChoices.includes(s.threads)) threadChoices.push(s.threads);
  return (
    <fieldset className="volunteer-controls" data-testid="volunteer-controls" disabled={!c.settingsLoaded}>
      <legend>Controls</legend>
      <button data-testid="pause-toggle" data-paused={paused} onClick={() => setVolunteerPaused(!paused)} disabled={v.state === 'off'}>
        {paused ? 'Resume' : 'Pause'}
      </button>
      <span className="control" role="radiogroup" aria-label="CPU cap">
        Use at most
        {CPU_CAPS.map((cap) => (
          <label key={cap}>
            <input
              type="radio"
              name="cpuCap"
              data-testid={`cpu-cap-${cap}`}
              checked={s.cpuCapPercent === cap}
              onChange={() => updateVolunteerSettings({ cpuCapPercent: cap as CpuCapPercent })}
            />
            {cap}%
          </label>
        ))}
        of the time
      </span>
      <label className="control">
        <input
          type="checkbox"
          data-testid="pause-when-hidden"
          checked={s.pauseWhenHidden}
          onChange={(e) => updateVolunteerSettings({ pauseWhenHidden: e.target.checked })}
        />
        Pause while this tab is hidden
      </label>
      <label className="control">
        <input
          type="checkbox"
          data-testid="pause-on-battery"
          checked={s.pauseOnBattery}
          onChange={(e) => updateVolunteerSettings({ pauseOnBattery: e.target.checked })}
        />
        Pause on battery
        <span className="muted">
          {c.env.battery === null
            ? ''
            : !c.env.battery.supported
              ? ' (this browser cannot tell)'
              : c.env.battery.charging
                ? ' (plugged in)'
                : ' (on battery now)'}
        </span>
      </label>
      <label className="control">
        WASM threads
        <select
          data-testid="threads"
          value={s.threads === null ? 'auto' : String(s.threads)}
          onChange={(e) => updateVolunteerSettings({ threads: e.target.value === 'auto' ? null : Number(e.target.value) })}
        >
          <option value="auto">automatic ({c.autoThreads})</option>
          {threadChoices.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        {c.engineRestarting ? <span className="muted"> restarting the engine…</span> : null}
      </label>
      <p className="muted">
        Automatic: 1 thread when other volunteer tabs share this machine, else half its {c.env.hardwareConcurrency} logical cores (at most 4).
        {c.env.crossOriginIsolated ? '' : ' This page is not cross-origin isolated, so WASM runs on 1 thread whatever you choose.'}
      </p>
    </fieldset>
  );
}

export function VolunteerPage({ route }: { route: Route }) {
  const v = useQuorumStore((s) => s.volunteer);
  const autostart = route.params.get('autostart') === '1';
  const { networkId } = route;
  const backend = backendPref(route);
  const { liar, slowMs } = testOptions(route);
  const start = (): void => void startVolunteer(networkId, backend, { liar, slowMs });
  useEffect(() => {
    if (autostart) void startVolunteer(networkId, backend, { liar, slowMs });
    else prepareVolunteer(networkId, backend, { liar, slowMs }).catch(() => undefined); // the store shows the error
  }, [autostart, networkId, backend, liar, slowMs]);

  const stats = v.stats;
  const c = v.controls;
  const paused = stats?.paused ?? c.pause.paused;
  const progress = stats?.modelProgress;
  return (
    <section className="volunteer">
      <h1>Lend this tab to verified AI inference</h1>
      <p>
        Quorum turns this tab into an inference worker for network <code>{route.networkId}</code>. People submit AI models (ONNX) and inputs; a coordinator
        splits each job into small batches ("shards"); this tab downloads the model, checks its sha256, runs shards through it with onnxruntime-web and sends
        the outputs back. Every shard is also computed by other volunteers and only accepted when the results agree, so nobody has to trust a single machine —
        this one included.
      </p>
      <ul className="what-runs" data-testid="what-runs">
        <li>
          <strong>What runs here:</strong> other people's ONNX models on their inputs, in a Web Worker (the page stays responsive) — on your GPU through WebGPU
          when the browser offers one that works, otherwise on the CPU through WebAssembly.
        </li>
        <li>
          <strong>What leaves this tab:</strong> model outputs, the backend that computed them and timings. Nothing else: no files, no browsing data.
        </li>
        <li>
          <strong>You stay in control:</strong> pause at any time, cap how busy the tab gets, and by default it pauses by itself while the tab is hidden or the
          device runs on battery.
        </li>
      </ul>
      {v.state === 'off' ? (
        <button className="primary big" data-testid="start-volunteering" onClick={start}>
          Start volunteering
        </button>
      ) : (
        <StateBadge state={v.state} error={v.error} />
      )}
      <KeyAlarmBanner role="volunteer" />
      <p className="activity" data-testid="volunteer-activity" data-phase={stats?.phase ?? 'off'} data-paused={paused}>
        {paused && !stats ? `Will start paused: ${c.pause.text}` : activity(v)}
      </p>

      <Controls v={v} />

      <dl className="facts" data-testid="volunteer-facts">
        <dt>Peer id</dt>
        <dd>
          <span data-testid="volunteer-peer-id">{v.peerId ?? '—'}</span>
          <span className="muted"> (kept while this tab is open, reloads included)</span>
        </dd>
        <dt>Backend</dt>
        <dd>
          {/* Rendered only once known, so tests (and screen readers) never read a placeholder as a backend. */}
          {v.caps ? (
            <>
              <span data-testid="backend">{v.caps.backend}</span>
              <span data-testid="backend-detail"> — {backendLine(v.caps)}</span>
            </>
          ) : (
            '—'
          )}
        </dd>
        <dt>Why</dt>
        <dd>{v.caps ? <span data-testid="backend-reason">{v.caps.backendReason}</span> : '—'}</dd>
        <dt>Threads</dt>
        <dd data-testid="threads-in-use">
          {v.caps ? `${v.caps.threads} in use` : '—'} (automatic now: {c.autoThreads}; page {c.env.crossOriginIsolated ? 'is' : 'is not'}{' '}
          <span data-testid="isolation" data-isolated={c.env.crossOriginIsolated}>
            cross-origin isolated
          </span>
          )
        </dd>
        <dt>onnxruntime-web</dt>
        <dd>{v.caps?.ortVersion ?? '—'}</dd>
        <dt>Now</dt>
        <dd data-testid="phase">{stats?.phase ?? '—'}</dd>
        <dt>Current shard</dt>
        <dd>
          <span data-testid="current-shard">{stats?.currentShard ?? '—'}</span>
          {stats?.queuedLeases ? <span className="muted"> (+{stats.queuedLeases} queued)</span> : null}
          {stats?.currentModel ? <span className="muted"> — model sha256 {stats.currentModel.slice(0, 16)}…</span> : null}
        </dd>
        <dt>Model download</dt>
        <dd data-testid="model-progress">
          {progress ? (
            <>
              <progress max={progress.total} value={progress.received} /> {(progress.received / 1024).toFixed(0)} / {(progress.total / 1024).toFixed(0)} KiB
            </>
          ) : (
            '—'
          )}
        </dd>
        <dt>Shards done</dt>
        <dd>
          <span data-testid="shards-done">{stats?.standing?.shardsAccepted ?? 0}</span> accepted by the coordinator ·{' '}
          <span data-testid="results-delivered">{stats?.resultsDelivered ?? 0}</span> results delivered
        </dd>
        <dt>Held back</dt>
        <dd data-testid="held-back" data-waiting={stats?.outbox ?? 0}>
          held-back results delivered: <span data-testid="held-back-delivered">{stats?.heldBackDelivered ?? 0}</span>
          {stats && stats.outbox > 0 ? ` · ${stats.outbox} waiting for the coordinator` : ''}
        </dd>
        <dt>Compute time given</dt>
        <dd data-testid="compute-time">{seconds(stats?.computeMs ?? 0)}</dd>
        <dt>Last shard</dt>
        <dd data-testid="last-result">
          {stats?.lastResult ? `${stats.lastResult.shardId} on ${stats.lastResult.backend} in ${stats.lastResult.inferMs.toFixed(0)} ms` : '—'}
        </dd>
        <dt>Reputation</dt>
        <dd data-testid="reputation">
          <Reputation stats={stats} />
        </dd>
        <dt>Page responsiveness</dt>
        <dd data-testid="long-tasks" data-count={c.longTasks.count} data-busy-count={c.longTasks.busyCount}>
          {c.longTasks.supported
            ? `${c.longTasks.count} long task${c.longTasks.count === 1 ? '' : 's'} (≥ 50 ms) on the page, longest ${c.longTasks.longestMs.toFixed(0)} ms; ${c.longTasks.busyCount} while the worker computed (${seconds(c.longTasks.busyMs)}), longest ${c.longTasks.busyLongestMs.toFixed(0)} ms`
            : 'this browser does not report long tasks'}
        </dd>
        <dt>Tabs</dt>
        <dd data-testid="tab-count" data-tabs={c.env.tabs}>
          {c.env.tabs > 0
            ? `${c.env.tabs} volunteer tab${c.env.tabs === 1 ? '' : 's'} open in this browser; each counts as one volunteer.`
            : c.env.otherTabs > 0
              ? `${c.env.otherTabs} other volunteer tab${c.env.otherTabs === 1 ? '' : 's'} open in this browser; each counts as one volunteer.`
              : 'No other volunteer tabs in this browser.'}
        </dd>
      </dl>
      {stats?.refusal ? <p className="error">Refused by the coordinator: {stats.refusal}</p> : null}
      <LogView log={v.log} />
    </section>
  );
}
