/**
 * The voice-activity pipeline end to end in Node, with the real Silero VAD v5 model, on the
 * committed recordings (e2e/fixtures/vad, rendered by scripts/fixtures/render-vad-wavs.ts), and
 * the `vad` command's handling of bad input.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { asModelHash } from '../../src/protocol/ids.ts';
import { createOrtEngine } from '../../src/runtime/ortEngine.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';
import { decodeWav, detectSpeech, VAD_DEFAULTS } from '../../src/workloads/vad/vadPipeline.ts';
import { sileroModelPath } from './sileroNode.ts';
import { vadCommand, type VadFileInfo, type VadFileResult } from './vadCommand.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'e2e/fixtures/vad');
const RUNNER = path.join(ROOT, 'scripts/workload.ts');
const FRAME_S = 0.032;

interface Known {
  readonly file: string;
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly encoding: string;
  readonly speech: { readonly start: number; readonly end: number };
}
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as Known[];

const run = promisify(execFile);
/** Runs the command in a child process: its exit code, stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', RUNNER, 'vad', ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('[VAD-1]–[VAD-4] VAD reference run on the fixtures', () => {
  it('finds one segment per file covering its known speech span, within a frame plus the pad', async () => {
    const infos: VadFileInfo[] = [];
    const results = await vadCommand(
      manifest.map((m) => path.join(FIXTURES, m.file)),
      { onFile: (_r, info) => infos.push(info) },
    );
    expect(results.map((r) => r.file)).toEqual(manifest.map((m) => m.file));
    // The three files exercise 16 kHz s16 mono, 22.05 kHz u8 stereo and 8 kHz float32.
    expect(infos.map((i) => [i.sampleRateHz, i.channels, i.encoding])).toEqual(manifest.map((m) => [m.sampleRateHz, m.channels, m.encoding]));
    const padS = VAD_DEFAULTS.vad.padMs / 1000;
    for (const [i, r] of results.entries()) {
      const known = (manifest[i] as Known).speech;
      expect(r.segments, r.file).toHaveLength(1);
      const [s] = r.segments as [{ start: number; end: number }];
      // Covers the speech, give or take one frame…
      expect(s.start, `${r.file} start`).toBeLessThanOrEqual(known.start + FRAME_S);
      expect(s.end, `${r.file} end`).toBeGreaterThanOrEqual(known.end - FRAME_S);
      // …and no more than a frame and the pad before it, or two frames after it (the model's
      // probability stays high for a frame or so after the last sound: measured 36–48 ms).
      expect(s.start, `${r.file} start`).toBeGreaterThanOrEqual(known.start - FRAME_S - padS);
      expect(s.end, `${r.file} end`).toBeLessThanOrEqual(known.end + 2 * FRAME_S);
      console.log(
        `${r.file}: known ${known.start}–${known.end} s, found ${s.start}–${s.end} s; ${infos[i]?.windows} windows, decode ${infos[i]?.decodeMs.toFixed(1)} ms, model ${infos[i]?.modelMs.toFixed(1)} ms`,
      );
    }
  });

  it('gives the same segments on the volunteer engine (onnxruntime-web WASM) as on onnxruntime-node', async () => {
    const reference = await vadCommand([FIXTURES]);
    const bytes = fs.readFileSync(sileroModelPath());
    const hash = await sha256Hex(bytes);
    const engine = createOrtEngine();
    try {
      await engine.init({ backend: 'wasm', threads: 1 });
      const signature = await engine.loadModel(hash, bytes.slice().buffer);
      // Silero leaves the input's dims unknown; they must not read as sizes (4294967295).
      expect(signature.inputs.find((p) => p.name === 'input')?.dims).toEqual(['?', '?']);
      const vad = { ...VAD_DEFAULTS.vad, model: asModelHash(hash) };
      const onEngine: VadFileResult[] = [];
      for (const m of manifest) {
        const audio = decodeWav(fs.readFileSync(path.join(FIXTURES, m.file)), m.file, VAD_DEFAULTS.decode);
        const answer = await detectSpeech(audio, vad, async (inputs) => (await engine.run(hash, inputs)).outputs);
        onEngine.push({ file: m.file, segments: answer.kind === 'segments' ? answer.segments : [] });
      }
      expect(onEngine).toEqual(reference);
    } finally {
      await engine.dispose();
    }
  });
});

describe('npm run workload -- vad', () => {
  it('prints a summary and, as its last line, the JSON of every file', async () => {
    const { code, stdout } = await cli(FIXTURES);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    const json = JSON.parse(lines[lines.length - 1] as string) as VadFileResult[];
    expect(json).toEqual(await vadCommand([FIXTURES]));
    expect(stdout).toContain('01-quorum-checks-answers.wav: 2.846 s, 16000 Hz mono pcm-s16; 89 windows');
  });

  it('exits non-zero naming a file that is not a WAV, before running any file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vad-'));
    const bad = path.join(dir, 'notes.wav');
    fs.writeFileSync(bad, 'these are not samples');
    const { code, stdout, stderr } = await cli(path.join(FIXTURES, manifest[0]?.file as string), bad);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: "${bad}" is not a WAV file`);
    expect(stdout).not.toContain('speech');
  });

  it('exits non-zero for a missing file, an empty folder and no files at all', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vad-'));
    const missing = await cli(path.join(empty, 'gone.wav'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read ".*gone\.wav" \(ENOENT\): check the path/);
    const none = await cli(empty);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`the folder "${empty}" has no .wav files`);
    const nothing = await cli();
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('no files: give one or more WAV files');
  });
});
