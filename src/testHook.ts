/**
 * Test builds only (`vite build --mode test`): exposes the store to Playwright so e2e tests can
 * assert on outcomes (verified predictions, counts) rather than on rendered text alone.
 */
import type { DriftProbeOptions, DriftProbeResult } from './host/driftProbe.ts';
import type { ThreadBenchOptions, ThreadBenchResult } from './host/threadBench.ts';
import { testFaults } from './host/testFaults.ts';
import { imagesToTensor } from './workloads/inputs/decodeImage.ts';
import type { ImagePreprocessing } from './workloads/inputs/imageTensor.ts';
import { useQuorumStore } from './stores/store.ts';
import { type QuorumState } from './model/state.ts';
import { pageConnections } from './transport/pageConnections.ts';
import type { BudgetStatus } from './core/connectionBudget.ts';

export interface QuorumTestHook {
  state(): QuorumState;
  /** Raw MNIST logits on a chosen backend, for scripts/measure-drift.ts (loaded on first use). */
  mnistLogits(options: DriftProbeOptions): Promise<DriftProbeResult>;
  /** Per-run WASM times of the MNIST model at a thread count, for scripts/measure-threads.ts. */
  threadBench(options: ThreadBenchOptions): Promise<ThreadBenchResult>;
  /** [S-3] Makes this tab's coordinator writes fail with QuotaExceededError, or work again. */
  setQuotaExhausted(on: boolean): Promise<void>;
  /** One image file (base64) through the dashboard's decode path: its tensor's values. */
  imageTensor(base64: string, name: string, p: ImagePreprocessing): Promise<number[]>;
  /** [E-1] Lowers this tab's RTCPeerConnection budget (kept across reloads of the tab); its status after. */
  setConnectionBudget(limit: number): BudgetStatus;
  /** [E-2] This tab's RTCPeerConnections so far, whatever its role. */
  connectionBudget(): BudgetStatus;
}

declare global {
  interface Window {
    __quorum?: QuorumTestHook;
  }
}

export function installTestHook(): void {
  window.__quorum = {
    state: () => useQuorumStore.getState(),
    mnistLogits: async (options) => (await import('./host/driftProbe.ts')).runMnistLogits(options),
    threadBench: async (options) => (await import('./host/threadBench.ts')).runThreadBench(options),
    setQuotaExhausted: async (on) => {
      testFaults.quotaExhausted = on;
    },
    setConnectionBudget: (limit) => {
      pageConnections.lowerLimit(limit);
      return pageConnections.status();
    },
    connectionBudget: () => pageConnections.status(),
    imageTensor: async (base64, name, p) => {
      const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
      return Array.from(new Float32Array((await imagesToTensor([new File([bytes], name, { type: 'image/png' })], p)).data));
    },
  };
}
