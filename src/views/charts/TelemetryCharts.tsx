/** Throughput, verified shards and disagreements over time, from the store's telemetry history. */
import { useMemo } from 'react';
import type uPlot from 'uplot';
import type { TelemetryPoint } from '../../model/networkView.ts';
import { OKABE_ITO } from '../map/palette.ts';
import { UChart } from './UChart.tsx';

const THROUGHPUT: Omit<uPlot.Options, 'width' | 'height'> = {
  title: 'Throughput (results / s)',
  scales: { x: { time: true } },
  series: [{}, { label: 'results/s', stroke: OKABE_ITO.blue, width: 2, fill: 'rgba(0,114,178,0.08)', value: (_u, v) => (v == null ? '—' : v.toFixed(2)) }],
  axes: [{}, { size: 50 }],
  legend: { show: true },
};

const VERIFICATION: Omit<uPlot.Options, 'width' | 'height'> = {
  title: 'Shards verified and disagreements',
  scales: { x: { time: true }, d: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
  series: [
    {},
    { label: 'verified', stroke: OKABE_ITO.bluishGreen, width: 2 },
    { label: 'disagreements', stroke: OKABE_ITO.vermillion, width: 2, dash: [6, 4], scale: 'd' },
  ],
  axes: [{}, { size: 60 }, { scale: 'd', side: 1, grid: { show: false }, size: 40 }],
};

export function TelemetryCharts({ history }: { history: readonly TelemetryPoint[] }) {
  const throughput = useMemo<uPlot.AlignedData>(() => [history.map((p) => p.t), history.map((p) => p.throughputPerS)], [history]);
  const verification = useMemo<uPlot.AlignedData>(
    () => [history.map((p) => p.t), history.map((p) => p.shardsVerified), history.map((p) => p.disagreements)],
    [history],
  );
  return (
    <div className="netmap-charts">
      <figure>
        <UChart options={THROUGHPUT} data={throughput} height={180} testId="chart-throughput" />
      </figure>
      <figure>
        <UChart options={VERIFICATION} data={verification} height={180} testId="chart-verification" />
      </figure>
    </div>
  );
}
