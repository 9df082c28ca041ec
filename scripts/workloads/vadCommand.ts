/**
 * `npm run workload -- vad <files…>`: the voice-activity pipeline outside the network, through the
 * very executor the volunteers run ([W-23]: the built-in workload's bundle loaded into
 * `createBundleEngine`, `runFilePipeline` over each file), with onnxruntime-node. Returns, per
 * file, the answer the network would verify: `{ file, segments: [{ start, end }] }` (seconds).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Segment } from '../../src/protocol/pipeline.ts';
import { createBundleEngine } from '../../src/runtime/bundleEngine.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';
import { buildVadWorkload } from '../../src/workloads/builtinWorkloads.ts';
import { decodeWav, VAD_DEFAULTS, type vadPipeline, type DecodedAudio } from '../../src/workloads/vad/vadPipeline.ts';
import { createOrtNodeEngine } from './ortNodeEngine.ts';
import { sileroModelPath } from './sileroNode.ts';

export interface VadFileResult {
  readonly file: string;
  readonly segments: Segment[];
}

/** What the summary says about a file besides its answer. */
export interface VadFileInfo {
  readonly durationS: number;
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly encoding: string;
  /** Model calls: one per 32 ms window. */
  readonly windows: number;
  /** Parse, mix down and resample. */
  readonly decodeMs: number;
  /** The pipeline over the file: decode again, the frame loop and the segment rule. */
  readonly modelMs: number;
}

export interface VadCommandOptions {
  /** Called after each file with its result and what it took. */
  readonly onFile?: (result: VadFileResult, info: VadFileInfo) => void;
  /** Called once, before the files, with the pipeline that runs (the model by its sha256). */
  readonly onPipeline?: (pipeline: ReturnType<typeof vadPipeline>) => void;
}

/** A path that cannot be read as audio input; the message names it and what to do. */
export class VadInputError extends Error {
  override readonly name = 'VadInputError';
}

/**
 * Runs every file (a folder stands for the .wav files in it). Every file is read and decoded
 * before the model runs, so a bad file in a list fails the command at once, naming it.
 */
export async function vadCommand(paths: readonly string[], options: VadCommandOptions = {}): Promise<VadFileResult[]> {
  const files = expandFolders(paths);
  // Decoded first so that a bad file fails the command before the model loads; the summary's
  // facts about each file come from this decode too.
  const decoded = files.map((file) => {
    const started = performance.now();
    const bytes = readFile(file);
    const audio = decodeWav(bytes, file, VAD_DEFAULTS.decode);
    return { file, bytes, audio, decodeMs: performance.now() - started };
  });
  const { bundle, pipeline } = await buildVadWorkload(new Uint8Array(fs.readFileSync(sileroModelPath())));
  options.onPipeline?.(pipeline);
  const inner = createOrtNodeEngine();
  const engine = createBundleEngine(inner, null);
  try {
    await engine.init({ backend: 'wasm', threads: 1 });
    const hash = await sha256Hex(bundle);
    await engine.loadModel(hash, bundle.slice().buffer);
    const results: VadFileResult[] = [];
    for (const { file, bytes, audio, decodeMs } of decoded) {
      const runsBefore = inner.runs();
      const started = performance.now();
      const name = path.basename(file);
      const { answers } = await engine.runPipeline(hash, pipeline, [{ name, bytes: new Uint8Array(bytes).buffer }]);
      const modelMs = performance.now() - started;
      const answer = answers?.[0];
      if (answer?.kind !== 'segments') throw new Error(`the vad pipeline answered ${answer?.kind ?? 'nothing'} for "${name}"`);
      const result = { file: name, segments: answer.segments };
      options.onFile?.(result, infoOf(audio, inner.runs() - runsBefore, decodeMs, modelMs));
      results.push(result);
    }
    return results;
  } finally {
    await engine.dispose();
  }
}

/** The human summary of one file, as the command prints it. */
export function describeVadFile(r: VadFileResult, i: VadFileInfo): string[] {
  const channels = i.channels === 1 ? 'mono' : i.channels === 2 ? 'stereo' : `${i.channels} channels`;
  const head = `${r.file}: ${i.durationS.toFixed(3)} s, ${i.sampleRateHz} Hz ${channels} ${i.encoding}; ${i.windows} windows; decode ${i.decodeMs.toFixed(1)} ms, model ${i.modelMs.toFixed(1)} ms`;
  const speech = r.segments.length === 0 ? ['  no speech'] : r.segments.map((s) => `  speech ${s.start.toFixed(3)}–${s.end.toFixed(3)} s`);
  return [head, ...speech];
}

function infoOf(audio: DecodedAudio, windows: number, decodeMs: number, modelMs: number): VadFileInfo {
  const { durationS, sampleRateHz, channels, encoding } = audio.source;
  return { durationS, sampleRateHz, channels, encoding, windows, decodeMs, modelMs };
}

function expandFolders(paths: readonly string[]): string[] {
  if (paths.length === 0) throw new VadInputError('no files: give one or more WAV files or folders, e.g. `npm run workload -- vad talk.wav`.');
  return paths.flatMap((p) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch (e) {
      throw new VadInputError(`cannot read "${p}" (${(e as NodeJS.ErrnoException).code ?? String(e)}): check the path.`);
    }
    if (!stat.isDirectory()) return [p];
    const wavs = fs
      .readdirSync(p)
      .filter((f) => f.toLowerCase().endsWith('.wav'))
      .sort()
      .map((f) => path.join(p, f));
    if (wavs.length === 0) throw new VadInputError(`the folder "${p}" has no .wav files: choose a folder with WAV recordings in it.`);
    return wavs;
  });
}

function readFile(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new VadInputError(`cannot read "${file}" (${(e as NodeJS.ErrnoException).code ?? String(e)}): check the path.`);
  }
}
