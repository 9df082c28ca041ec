/**
 * The checks a job must pass before any volunteer sees it, shared by the requester's dashboard
 * (to explain problems before sending) and the coordinator host (which repeats them, because it
 * trusts no dashboard): inputs against the model's signature, and the coordinator's size limits.
 * Pure; each problem is a sentence that names what is wrong and what to do.
 */
import { LIMITS } from '../protocol/limits.ts';
import { BYTES_PER_ELEMENT, elementCount, type TensorDtype } from '../protocol/tensor.ts';
import { formatBytes, formatDims } from './format.ts';

/** One input or output of a model as the runtime reports it (structurally `runtime/engine.ts`'s ModelPort). */
export interface SignaturePort {
  readonly name: string;
  /** null when the runtime's type is one Quorum cannot carry (float16, string, …) or not a tensor. */
  readonly dtype: TensorDtype | null;
  /** Numbers for fixed dims, strings (or negative numbers) for free ones; null or [] when unknown. */
  readonly dims: readonly (number | string)[] | null;
}

export interface SignatureLike {
  readonly inputs: readonly SignaturePort[];
  readonly outputs: readonly SignaturePort[];
}

/** What the checks need of an input tensor: its bytes are not looked at. */
export interface InputLike {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly dims: readonly number[];
}

const isFixed = (d: number | string): d is number => typeof d === 'number' && d >= 0;
const describePort = (p: SignaturePort): string => `${p.dtype ?? 'an unsupported type'} ${formatDims(p.dims)}`;

/**
 * Every way `inputs` fail to fit the model's signature; [] when they fit. With `shardSize`, also
 * checks that a model with a fixed batch dimension gets shards of exactly that size.
 */
export function checkInputsAgainstSignature(signature: SignatureLike, inputs: readonly InputLike[], shardSize?: number): string[] {
  const problems: string[] = [];
  if (signature.outputs.length === 0) problems.push('the model has no outputs: nothing could be verified.');
  for (const o of signature.outputs) {
    if (o.dtype === null) {
      problems.push(
        `model output "${o.name}" has a type Quorum cannot carry (float32, int32, int64, uint8, int8 and bool can): export the model with one of those output types.`,
      );
    }
  }
  for (const p of signature.inputs) {
    if (p.dtype === null) {
      problems.push(
        `model input "${p.name}" has a type Quorum cannot send (float32, int32, int64, uint8, int8 and bool can): export the model with one of those input types.`,
      );
    }
  }
  if (inputs.length === 0) {
    problems.push(`no inputs given: the model takes ${signature.inputs.map((p) => `"${p.name}" ${describePort(p)}`).join(', ') || 'nothing'}.`);
    return problems;
  }
  const seen = new Set<string>();
  for (const t of inputs) {
    if (seen.has(t.name)) problems.push(`input "${t.name}" is given twice: give each model input once.`);
    seen.add(t.name);
  }
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const takes = signature.inputs.map((p) => `"${p.name}"`).join(', ') || 'nothing';
  for (const t of inputs) {
    if (!signature.inputs.some((p) => p.name === t.name)) problems.push(`the model has no input named "${t.name}" (it takes ${takes}): rename it.`);
  }
  for (const port of signature.inputs) {
    const t = byName.get(port.name);
    if (!t) {
      problems.push(`the model needs input "${port.name}" (${describePort(port)}), which was not given.`);
      continue;
    }
    if (port.dtype !== null && port.dtype !== t.dtype) {
      problems.push(
        `input "${t.name}" is ${t.dtype}, but the model expects ${port.dtype}: convert it (e.g. numpy: x.astype(np.${port.dtype === 'bool' ? 'bool_' : port.dtype})).`,
      );
    }
    if (port.dims !== null && port.dims.length > 0) {
      if (port.dims.length !== t.dims.length) {
        problems.push(
          `input "${t.name}" has shape ${formatDims(t.dims)} (rank ${t.dims.length}), but the model expects ${formatDims(port.dims)} (rank ${port.dims.length}), batch dimension first.`,
        );
      } else {
        // Dim 0 is the batch: a free dim takes any item count; a fixed one is checked against shards below.
        for (let i = 1; i < port.dims.length; i++) {
          const want = port.dims[i] as number | string;
          if (isFixed(want) && want !== t.dims[i]) {
            problems.push(
              `input "${t.name}" has shape ${formatDims(t.dims)}, but the model expects ${formatDims(port.dims)}: dimension ${i} is ${t.dims[i]}, it must be ${want}.`,
            );
            break;
          }
        }
        const batch = port.dims[0] as number | string;
        if (isFixed(batch) && shardSize !== undefined) {
          const items = t.dims[0] ?? 0;
          if (shardSize !== batch || items % batch !== 0) {
            problems.push(
              `the model's input "${port.name}" has a fixed batch size of ${batch}: use shard size ${batch} and a number of items that is a multiple of ${batch} (now shard size ${shardSize}, ${items} items), or export the model with a dynamic batch dimension.`,
            );
          }
        }
      }
    }
  }
  // The batch: every input's first dim, the same, and not zero.
  let batch: number | null = null;
  for (const t of inputs) {
    const first = t.dims[0];
    if (first === undefined) {
      problems.push(`input "${t.name}" is a scalar: inputs need a batch dimension first (shape [items, ...]).`);
      continue;
    }
    if (batch === null) batch = first;
    else if (first !== batch)
      problems.push(`inputs disagree on the number of items: "${t.name}" has ${first}, others have ${batch}. Give every input the same first dimension.`);
  }
  if (batch === 0) problems.push('the batch is empty (0 items): give at least one item.');
  return problems;
}

/** The sizes a coordinator accepts; configurable on its page, never above the protocol's LIMITS. */
export interface JobLimits {
  readonly maxModelBytes: number;
  /** All input tensors of one job together. */
  readonly maxInputBytes: number;
  readonly maxItems: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = {
  maxModelBytes: 100 * 1024 * 1024,
  maxInputBytes: 200 * 1024 * 1024,
  maxItems: 1_000_000,
};

/** The protocol's hard caps: no setting goes above these. */
export const HARD_JOB_LIMITS: JobLimits = {
  maxModelBytes: LIMITS.maxModelBytes,
  maxInputBytes: LIMITS.maxJobInputBytes,
  maxItems: LIMITS.maxItemsPerJob,
};

/** Makes any stored or typed-in value a usable limit: a positive integer within the hard caps. */
export function clampJobLimits(l: Partial<Record<keyof JobLimits, unknown>>): JobLimits {
  const one = (key: keyof JobLimits): number => {
    const v = l[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 1) return DEFAULT_JOB_LIMITS[key];
    return Math.min(Math.floor(v), HARD_JOB_LIMITS[key]);
  };
  return { maxModelBytes: one('maxModelBytes'), maxInputBytes: one('maxInputBytes'), maxItems: one('maxItems') };
}

/**
 * Where a requester refused over a job limit is told the limits come from: a coordinator page's
 * settings, or a headless coordinator's flags (`quorum coordinator --max-…`).
 */
export const JOB_LIMITS_SET_WHERE =
  'the limits are set by the coordinator: on its page, or with quorum coordinator --max-model-mib, --max-inputs-mib, --max-items';

/** Every way a job exceeds `limits`; [] when it fits. Sizes come from dims, not from trusting byte counts. */
export function checkJobLimits(job: { readonly modelBytes: number; readonly inputs: readonly InputLike[] }, limits: JobLimits): string[] {
  const problems: string[] = [];
  const where = JOB_LIMITS_SET_WHERE;
  if (job.modelBytes > limits.maxModelBytes) {
    problems.push(`the model is ${formatBytes(job.modelBytes)}, over this coordinator's limit of ${formatBytes(limits.maxModelBytes)} (${where}).`);
  }
  const inputBytes = job.inputs.reduce((n, t) => n + elementCount(t.dims) * BYTES_PER_ELEMENT[t.dtype], 0);
  if (inputBytes > limits.maxInputBytes) {
    problems.push(
      `the inputs are ${formatBytes(inputBytes)}, over this coordinator's limit of ${formatBytes(limits.maxInputBytes)} per job (${where}): split them into several jobs.`,
    );
  }
  for (const t of job.inputs) {
    const bytes = elementCount(t.dims) * BYTES_PER_ELEMENT[t.dtype];
    if (bytes > LIMITS.maxTensorBytes) {
      problems.push(
        `input "${t.name}" is ${formatBytes(bytes)}, over the protocol's limit of ${formatBytes(LIMITS.maxTensorBytes)} per tensor: split it into several jobs.`,
      );
    }
  }
  const items = job.inputs[0]?.dims[0] ?? 0;
  if (items > limits.maxItems) {
    problems.push(`the job has ${items} items, over this coordinator's limit of ${limits.maxItems} per job (${where}): split it into several jobs.`);
  }
  return problems;
}
