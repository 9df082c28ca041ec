/**
 * Small builders shared by the core and protocol tests and the simulation harness. Pure: no
 * clock, no randomness, no I/O.
 */
import type { Backend, Capabilities } from '../../protocol/capabilities.ts';
import { asModelHash, type ModelHash } from '../../protocol/ids.ts';
import { PROTOCOL_VERSION, type JobSpec, type ToCoordinator } from '../../protocol/messages.ts';
import type { Comparator, VerificationPolicy } from '../../protocol/policy.ts';
import type { TensorDtype, WireTensor } from '../../protocol/tensor.ts';

export const V = PROTOCOL_VERSION;

/** A float32 tensor from plain numbers. */
export function f32(name: string, dims: readonly number[], values: readonly number[]): WireTensor {
  return { name, dtype: 'float32', dims: [...dims], data: Float32Array.from(values).buffer };
}

/** An int32 tensor from plain numbers. */
export function i32(name: string, dims: readonly number[], values: readonly number[]): WireTensor {
  return { name, dtype: 'int32', dims: [...dims], data: Int32Array.from(values).buffer };
}

/** A tensor of the right byte length, all zero. */
export function zeros(name: string, dtype: TensorDtype, dims: readonly number[], bytesPerElement: number): WireTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return { name, dtype, dims: [...dims], data: new ArrayBuffer(n * bytesPerElement) };
}

export function valuesOf(t: WireTensor): number[] {
  return [...new Float32Array(t.data)];
}

export function caps(backend: Backend = 'wasm'): Capabilities {
  return {
    backend,
    adapter: backend === 'webgpu' ? { vendor: 'acme', architecture: 'gen1', description: '', isFallbackAdapter: false } : null,
    backendReason: backend === 'webgpu' ? 'WebGPU available' : 'WebGPU unavailable: no adapter',
    ortVersion: '1.30.0',
    threads: 1,
  };
}

export function hello(role: 'volunteer' | 'requester' | 'observer', backend: Backend = 'wasm'): ToCoordinator {
  return { v: V, t: 'hello', role, caps: role === 'volunteer' ? caps(backend) : null, label: `${role} tab` };
}

export const HASH_A: ModelHash = asModelHash('a'.repeat(64));
export const HASH_B: ModelHash = asModelHash('b'.repeat(64));

export const TIGHT: Comparator = { kind: 'allclose', atol: 1e-4, rtol: 1e-3 };

export function policy(replication: number, quorum: number, maxReplicas: number, comparator: Comparator = TIGHT): VerificationPolicy {
  return { replication, quorum, maxReplicas, comparator };
}

/** Bytes 0, 1, 2, … (mod 256): a stand-in model whose chunks are easy to check. */
export function countingBytes(n: number): ArrayBuffer {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 256;
  return b.buffer;
}

/**
 * A job of `items` rows of a [items, 2] float32 input "x" whose row r is [r, r + 0.5], so any
 * slice can be checked against its row numbers.
 */
export function jobSpec(items: number, shardSize: number, p: VerificationPolicy = policy(2, 2, 4), over: Partial<JobSpec> = {}): JobSpec {
  const values: number[] = [];
  for (let r = 0; r < items; r++) values.push(r, r + 0.5);
  return {
    name: 'test job',
    model: countingBytes(1000),
    inputs: [f32('x', [items, 2], values)],
    shardSize,
    policy: p,
    requesterKey: '',
    ...over,
  };
}
