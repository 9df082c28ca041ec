/**
 * A thin React wrapper around uPlot: the chart is built once per `options`, its data replaced
 * on every change, and its width follows the container.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export function UChart({
  options,
  data,
  height,
  testId,
}: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height: number;
  testId: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const width = (): number => Math.max(200, Math.floor(el.getBoundingClientRect().width));
    const u = new uPlot({ ...options, width: width(), height }, latest.current, el);
    chart.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: width(), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div className="uchart" ref={ref} data-testid={testId} />;
}
