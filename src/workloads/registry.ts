/**
 * Built-in workloads: a model and a batch of inputs the app can submit without any upload. Each
 * entry says how many items it has and builds its job parts on demand (fetching from the app's
 * own origin). Add a workload by adding an entry here.
 */
import type { WireTensor } from '../protocol/tensor.ts';
import { MNIST_INPUT_NAME, MNIST_PIXELS } from './mnist/holdout.ts';
import { loadMnistAssets, MNIST_MAX_ITEMS, mnistBatch } from './mnist/mnistJob.ts';

export interface WorkloadBatch {
  readonly name: string;
  readonly model: ArrayBuffer;
  readonly inputs: readonly WireTensor[];
  /** True labels (class index per item), when known, to score verified predictions. */
  readonly labels: Uint8Array | null;
}

export interface BuiltInWorkload {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  /** What one item is, for the form ("digits", "images"). */
  readonly itemNoun: string;
  readonly maxItems: number;
  readonly defaultItems: number;
  /** Whether the page can re-run it in one tab to compare with what the network verified. */
  readonly hasReference: boolean;
  build(count: number): Promise<WorkloadBatch>;
}

export const mnistWorkload: BuiltInWorkload = {
  id: 'mnist',
  label: 'MNIST digits',
  description:
    "The project's 784→64→10 MLP on the 2,000 real held-out MNIST digits (labels known, so accuracy is reported); more than 2,000 repeats them in order.",
  itemNoun: 'digits',
  maxItems: MNIST_MAX_ITEMS,
  defaultItems: 2000,
  hasReference: true,
  async build(count) {
    const { model, holdout } = await loadMnistAssets();
    const batch = mnistBatch(holdout, count);
    const n = batch.labels.length;
    return {
      name: `MNIST ${n} digits`,
      model,
      inputs: [{ name: MNIST_INPUT_NAME, dtype: 'float32', dims: [n, MNIST_PIXELS], data: batch.data }],
      labels: batch.labels,
    };
  },
};

export const WORKLOADS: readonly BuiltInWorkload[] = [mnistWorkload];

export function workloadById(id: string): BuiltInWorkload | undefined {
  return WORKLOADS.find((w) => w.id === id);
}
