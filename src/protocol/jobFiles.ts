/**
 * [J-7] Jobs whose items are files: each item travels as the file's own bytes (a 5 KB PNG, not
 * the 184 KB float tensor it decodes to), with the pipeline that turns it into the model's input
 * on the volunteer. Bounded here like every other field of a frame.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { bytesSchema, nameSchema } from './schemas.ts';
import { pipelineSchema, type Pipeline } from './pipeline.ts';

export const FILE_LIMITS = {
  /** Files (items) of one job: a 10,000-image job is the target, with room to spare. */
  maxFilesPerJob: 100_000,
  /** One file: a 40-megapixel JPEG is well under this. */
  maxFileBytes: 64 * 1024 * 1024,
} as const;

/** One item: the file's name (for errors and exports) and its bytes, as read from disk. */
export const jobFileSchema = z.object({
  name: nameSchema,
  bytes: bytesSchema.refine((b) => b.byteLength > 0 && b.byteLength <= FILE_LIMITS.maxFileBytes, {
    message: `a file must have 1 to ${FILE_LIMITS.maxFileBytes} bytes`,
  }),
});
export type JobFile = z.infer<typeof jobFileSchema>;

const totalBytes = (files: readonly JobFile[]): number => files.reduce((n, f) => n + f.bytes.byteLength, 0);

/** A job's files: one per item, in item order, within the job input limit altogether. */
export const jobFilesSchema = z
  .array(jobFileSchema)
  .min(1)
  .max(FILE_LIMITS.maxFilesPerJob)
  .refine((files) => totalBytes(files) <= LIMITS.maxJobInputBytes, { message: `the files together exceed ${LIMITS.maxJobInputBytes} bytes` });

/** A shard's files in a lease: at most one shard's worth. */
export const leaseFilesSchema = z.array(jobFileSchema).max(LIMITS.maxShardSize);

/**
 * The pipelines a job of files may carry: the stage sequences this release's volunteers run.
 * An image made the model's input tensor with the job's model run on it (answers are the raw
 * outputs, compared as tensors), optionally ending in top-k labels; PP-OCR on an image; voice
 * activity detection on a WAV file. A pipeline that parses but is not one of these is refused at
 * the door, naming what it is, rather than leased to volunteers that would all give it back.
 */
export const FILE_PIPELINE_SHAPES = [
  'decode-image → image-tensor → run-model',
  'decode-image → image-tensor → run-model → top-k',
  'decode-image → ocr',
  'decode-wav → vad',
] as const;

export const filePipelineSchema = pipelineSchema.superRefine((p, ctx) => {
  const problem = filePipelineShapeProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Why `p` is none of `FILE_PIPELINE_SHAPES`, or null when it is one. */
export function filePipelineShapeProblem(p: Pipeline): string | null {
  const ops = p.stages.map((s) => s.op).join(' → ');
  if (!(FILE_PIPELINE_SHAPES as readonly string[]).includes(ops)) {
    return `a job of files runs one of ${FILE_PIPELINE_SHAPES.map((s) => `"${s}"`).join(', ')}, not "${ops}"`;
  }
  return null;
}

/** The image-tensor and run-model stages of a file pipeline (checked by `filePipelineShapeProblem`). */
export function imageStages(p: Pipeline): {
  readonly decode: Extract<Pipeline['stages'][number], { op: 'decode-image' }>;
  readonly tensor: Extract<Pipeline['stages'][number], { op: 'image-tensor' }>;
  readonly model: Extract<Pipeline['stages'][number], { op: 'run-model' }>;
} | null {
  const [decode, tensor, model] = p.stages;
  if (decode?.op !== 'decode-image' || tensor?.op !== 'image-tensor' || model?.op !== 'run-model') return null;
  return { decode, tensor, model };
}
