/**
 * Verification policy: how many volunteers compute each shard and how their results are compared.
 */
import type { z } from 'zod';
import type { comparatorSchema, policySchema } from './schemas.ts';

export type Comparator = z.infer<typeof comparatorSchema>;
export type VerificationPolicy = z.infer<typeof policySchema>;

/**
 * Default float tolerance. WebGPU vs WASM on an MLP differ by ~5e-7 absolute (measured on
 * SwiftShader); 1e-4 absolute plus 1e-3 relative leaves two orders of magnitude of headroom for
 * real GPUs while a wrong answer (a different digit, a perturbed logit) is far outside it.
 */
export const DEFAULT_COMPARATOR: Comparator = { kind: 'allclose', atol: 1e-4, rtol: 1e-3 };

/** Every shard on two different volunteers, both must agree; up to 4 copies on disagreement. */
export const DEFAULT_POLICY: VerificationPolicy = {
  replication: 2,
  quorum: 2,
  maxReplicas: 4,
  comparator: DEFAULT_COMPARATOR,
};
