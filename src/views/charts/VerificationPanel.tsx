/**
 * Agreement, the thing Quorum exists for: per backend pair (do WebGPU and WASM results agree?)
 * and per volunteer (who keeps getting outvoted?).
 */
import { useMemo } from 'react';
import uPlot from 'uplot';
import type { TelemetryFrame } from '../../core/telemetry/aggregator.ts';
import { OKABE_ITO } from '../map/palette.ts';
import { UChart } from './UChart.tsx';

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

function barOptions(title: string, labels: readonly string[] | null, colour: string): Omit<uPlot.Options, 'width' | 'height'> {
  const bars = uPlot.paths.bars?.({ size: [0.7, 60] });
  return {
    title,
    scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] }, y: { range: [0, 100] } },
    series: [
      { label: labels ? 'pair' : 'rank', value: (_u, v) => (v == null ? '—' : labels ? (labels[v] ?? '') : `#${v + 1}`) },
      {
        label: 'agreement %',
        stroke: colour,
        fill: colour,
        width: 0,
        ...(bars ? { paths: bars } : {}),
        points: { show: false },
        value: (_u, v) => (v == null ? '—' : `${v.toFixed(1)}%`),
      },
    ],
    axes: [
      labels ? { splits: () => labels.map((_, i) => i), values: (_u, splits) => splits.map((i) => labels[i] ?? '') } : { show: labels !== null },
      { size: 52, values: (_u, splits) => splits.map((v) => `${v}%`) },
    ],
    legend: { show: true },
  };
}

export function VerificationPanel({ frame }: { frame: TelemetryFrame | null }) {
  const pairs = useMemo(() => frame?.backendPairs ?? [], [frame]);
  const labels = pairs.map((p) => `${p.a}–${p.b}`);
  const labelKey = labels.join('|');
  // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt only when the set of pairs changes
  const pairOptions = useMemo(() => barOptions('Agreement per backend pair', labels, OKABE_ITO.blue), [labelKey]);
  const pairData = useMemo<uPlot.AlignedData>(
    () => [pairs.map((_, i) => i), pairs.map((p) => (p.agree + p.disagree > 0 ? (100 * p.agree) / (p.agree + p.disagree) : 0))],
    [pairs],
  );

  const volunteers = useMemo(
    () =>
      (frame?.peers ?? [])
        .filter((p) => p.role === 'volunteer' && p.agreementRate !== null)
        .sort((a, b) => (a.agreementRate ?? 0) - (b.agreementRate ?? 0) || (a.peerId < b.peerId ? -1 : 1)),
    [frame],
  );
  const volunteerOptions = useMemo(() => barOptions('Agreement per volunteer (lowest first)', null, OKABE_ITO.bluishGreen), []);
  const volunteerData = useMemo<uPlot.AlignedData>(() => [volunteers.map((_, i) => i), volunteers.map((p) => 100 * (p.agreementRate ?? 0))], [volunteers]);

  return (
    <section className="verification" data-testid="verification-panel">
      <h2>Verification</h2>
      <div className="netmap-charts">
        <figure>
          <UChart options={pairOptions} data={pairData} height={180} testId="chart-pairs" />
          <table className="peers compact" data-testid="backend-pairs">
            <thead>
              <tr>
                <th>backends</th>
                <th>agree</th>
                <th>disagree</th>
                <th>rate</th>
              </tr>
            </thead>
            <tbody>
              {pairs.length === 0 ? (
                <tr>
                  <td colSpan={4} className="muted">
                    No decided shards yet.
                  </td>
                </tr>
              ) : (
                pairs.map((p) => (
                  <tr key={`${p.a}-${p.b}`} data-testid={`pair-${p.a}-${p.b}`}>
                    <td>
                      {p.a} vs {p.b}
                    </td>
                    <td>{p.agree}</td>
                    <td>{p.disagree}</td>
                    <td>{pct(p.agree + p.disagree > 0 ? p.agree / (p.agree + p.disagree) : null)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </figure>
        <figure>
          <UChart options={volunteerOptions} data={volunteerData} height={180} testId="chart-volunteers" />
          <table className="peers compact" data-testid="lowest-agreement">
            <thead>
              <tr>
                <th>lowest agreement</th>
                <th>backend</th>
                <th>done</th>
                <th>rejected</th>
                <th>rate</th>
              </tr>
            </thead>
            <tbody>
              {volunteers.slice(0, 5).map((p) => (
                <tr key={p.peerId}>
                  <td>
                    <code>{p.peerId.slice(0, 10)}</code> {p.quarantined ? <span className="badge badge-error">quarantined</span> : null}
                  </td>
                  <td>{p.backend ?? '—'}</td>
                  <td>{p.shardsDone}</td>
                  <td>{p.rejected}</td>
                  <td>{pct(p.agreementRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </figure>
      </div>
    </section>
  );
}
