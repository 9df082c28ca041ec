/**
 * What a volunteer tells the coordinator about itself. `backend` is the execution provider that
 * *actually* runs (after any fallback), not the one that was asked for: onnxruntime-web's WebGPU
 * or WASM in a tab, or onnxruntime-node's CPU provider in a headless volunteer (`quorum volunteer`).
 */
export const BACKENDS = ['webgpu', 'wasm', 'node-cpu'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}

export interface Capabilities {
  readonly backend: Backend;
  /** The WebGPU adapter, or null when running on WASM. */
  readonly adapter: AdapterInfo | null;
  /** Why this backend: e.g. "WebGPU unavailable: no adapter". */
  readonly backendReason: string;
  readonly ortVersion: string;
  /** WASM threads in use (1 when not cross-origin isolated). */
  readonly threads: number;
}
