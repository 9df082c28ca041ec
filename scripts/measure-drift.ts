/**
 * `npx tsx scripts/measure-drift.ts [--skip-build] [--count 2000] [--out file.json]`
 *
 * Measures how far *honest* results drift apart across backends on the shipped MNIST model
 * (public/models/mnist-mlp.onnx, held-out digits from public/data/mnist-holdout.bin): the figures
 * behind DEFAULT_COMPARATOR (src/protocol/policy.ts) and SPEC.md's tolerance section.
 *
 * It builds the test app into .tmp/drift-dist (not dist-test/, so a running e2e suite is left
 * alone), serves it with server/main.ts on a free loopback port, and in headless Chromium
 * (`--enable-unsafe-webgpu`: WebGPU on SwiftShader) runs the model through the app's own worker
 * engine on WebGPU and on WASM, as one batch and in volunteer-sized shards. In Node it runs
 * onnxruntime-web's WASM EP and a float64 forward pass of the same weights. Every pair is compared
 * element-wise; the last line printed is one JSON object.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliArgs } from './lib/measureCli.ts';
import { hookPage, withTestApp } from './lib/testApp.ts';
import * as ort from 'onnxruntime-web';
import { DEFAULT_COMPARATOR } from '../src/protocol/policy.ts';
import type { DriftProbeOptions, DriftProbeResult } from '../src/host/driftProbe.ts';
import type { QuorumTestHook } from '../src/testHook.ts';
import {
  MNIST_CLASSES,
  MNIST_HOLDOUT_URL,
  MNIST_INPUT_NAME,
  MNIST_MODEL_URL,
  MNIST_OUTPUT_NAME,
  MNIST_PIXELS,
  argmaxRows,
  decodeMnistHoldout,
} from '../src/workloads/mnist/holdout.ts';
import { forwardMlp } from './mnist/mlp.ts';
import { readMlpOnnx } from './mnist/onnxExport.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const { flag, option } = cliArgs(args);
const COUNT = Number(option('--count', '2000'));
const SHARD = Number(option('--shard', '100'));
const OUT = option('--out', '');
const DIST = path.join(root, '.tmp', 'drift-dist');

interface Run {
  readonly name: string;
  readonly logits: Float32Array;
  readonly detail: string;
}

interface PairStats {
  readonly a: string;
  readonly b: string;
  readonly maxAbs: number;
  /** max |x−y| / max(|x|,|y|) over elements with max(|x|,|y|) ≥ 1e-3 (tiny logits say nothing about rtol). */
  readonly maxRel: number;
  /** Smallest atol that makes allclose(atol, rtol = 1e-3) pass, 0 if rtol alone suffices. */
  readonly atolNeededAtRtol1e3: number;
  /** Smallest rtol that makes allclose(atol = 1e-4, rtol) pass. */
  readonly rtolNeededAtAtol1e4: number;
  readonly meanAbs: number;
  readonly argmaxMismatches: number;
  readonly maxLogit: number;
  /** max |x−y| / (atol + rtol·max(|x|,|y|)) at DEFAULT_COMPARATOR: 1 would be the edge; headroom = 1/this. */
  readonly toleranceUsed: number;
}

function compare(a: Run, b: Run): PairStats {
  const x = a.logits;
  const y = b.logits;
  if (x.length !== y.length) throw new Error(`${a.name} has ${x.length} logits, ${b.name} ${y.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  let atolNeeded = 0;
  let rtolNeeded = 0;
  let sumAbs = 0;
  let maxLogit = 0;
  let used = 0;
  const { atol, rtol } = DEFAULT_COMPARATOR.kind === 'allclose' ? DEFAULT_COMPARATOR : { atol: 0, rtol: 0 };
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const yi = y[i] as number;
    const d = Math.abs(xi - yi);
    const m = Math.max(Math.abs(xi), Math.abs(yi));
    maxLogit = Math.max(maxLogit, m);
    sumAbs += d;
    maxAbs = Math.max(maxAbs, d);
    if (m >= 1e-3) maxRel = Math.max(maxRel, d / m);
    atolNeeded = Math.max(atolNeeded, d - 1e-3 * m);
    if (m > 0) rtolNeeded = Math.max(rtolNeeded, (d - 1e-4) / m);
    if (d > 0) used = Math.max(used, d / (atol + rtol * m));
  }
  const ax = argmaxRows(x, MNIST_CLASSES);
  const ay = argmaxRows(y, MNIST_CLASSES);
  let mismatches = 0;
  for (let i = 0; i < ax.length; i++) if (ax[i] !== ay[i]) mismatches++;
  return {
    a: a.name,
    b: b.name,
    maxAbs,
    maxRel,
    atolNeededAtRtol1e3: Math.max(0, atolNeeded),
    rtolNeededAtAtol1e4: Math.max(0, rtolNeeded),
    meanAbs: sumAbs / x.length,
    argmaxMismatches: mismatches,
    maxLogit,
    toleranceUsed: used,
  };
}

async function browserRuns(): Promise<Run[]> {
  const app = { root, dist: DIST, skipBuild: flag('--skip-build'), tmpPrefix: 'quorum-drift-', extraChromiumArgs: ['--enable-unsafe-webgpu'] };
  return withTestApp(app, async (served) => {
    const runs: Run[] = [];
    const configs: { name: string; o: DriftProbeOptions }[] = [
      { name: 'chromium-wasm-t1-batch', o: { backend: 'wasm', threads: 1, count: COUNT, batch: COUNT } },
      { name: 'chromium-wasm-t1-shards', o: { backend: 'wasm', threads: 1, count: COUNT, batch: SHARD } },
      { name: 'chromium-wasm-t2-batch', o: { backend: 'wasm', threads: 2, count: COUNT, batch: COUNT } },
      { name: 'chromium-webgpu-batch', o: { backend: 'webgpu', threads: 1, count: COUNT, batch: COUNT } },
      { name: 'chromium-webgpu-shards', o: { backend: 'webgpu', threads: 1, count: COUNT, batch: SHARD } },
    ];
    for (const { name, o } of configs) {
      const page = await hookPage(served);
      const started = Date.now();
      const r = (await page.evaluate((opts) => (window as unknown as { __quorum: QuorumTestHook }).__quorum.mnistLogits(opts), o)) as DriftProbeResult;
      await page.close();
      const detail = `${r.backends.join('+')}${r.adapter ? ` on ${r.adapter}` : ''}, ort-web ${r.ortVersion}, ${r.threads} thread(s), batch ${o.batch}, ${(Date.now() - started) / 1000}s`;
      console.log(`${name}: ${detail}`);
      if (r.backends.length !== 1 || r.backends[0] !== o.backend) throw new Error(`${name} ran on ${r.backends.join('+')}, not ${o.backend}`);
      runs.push({ name, logits: Float32Array.from(r.logits), detail });
    }
    return runs;
  });
}

async function nodeRuns(): Promise<Run[]> {
  const modelBytes = new Uint8Array(fs.readFileSync(path.join(root, 'public', MNIST_MODEL_URL)));
  const holdout = decodeMnistHoldout(fs.readFileSync(path.join(root, 'public', MNIST_HOLDOUT_URL)).buffer.slice(0) as ArrayBuffer);
  const n = Math.min(COUNT, holdout.count);
  const images = holdout.images.slice(0, n * MNIST_PIXELS);
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(modelBytes);
  const out = await session.run({ [MNIST_INPUT_NAME]: new ort.Tensor('float32', images, [n, MNIST_PIXELS]) });
  const logits = out[MNIST_OUTPUT_NAME]?.data as Float32Array | undefined;
  if (!logits) throw new Error('no logits from onnxruntime-web in Node');
  await session.release();
  const f64 = forwardMlp(readMlpOnnx(modelBytes), images, n);
  return [
    { name: 'node-ort-web-wasm', logits: Float32Array.from(logits), detail: `onnxruntime-web ${ort.env.versions.web ?? '?'} in Node ${process.version}` },
    { name: 'float64-reference', logits: f64, detail: 'float64 accumulation, rounded once to float32 (scripts/mnist/mlp.ts)' },
  ];
}

const fmt = (x: number): string => (x === 0 ? '0' : x.toExponential(2));

async function main(): Promise<void> {
  const runs = [...(flag('--node-only') ? [] : await browserRuns()), ...(await nodeRuns())];
  const pairs: PairStats[] = [];
  for (let i = 0; i < runs.length; i++) for (let j = i + 1; j < runs.length; j++) pairs.push(compare(runs[i]!, runs[j]!));
  console.log('');
  console.log(
    `${'a'.padEnd(26)} ${'b'.padEnd(26)} ${'max|Δ|'.padStart(9)} ${'maxrel'.padStart(9)} ${'mean|Δ|'.padStart(9)} ${'atol@r1e-3'.padStart(10)} ${'rtol@a1e-4'.padStart(10)} ${'used'.padStart(9)} argmax≠`,
  );
  for (const p of pairs) {
    console.log(
      `${p.a.padEnd(26)} ${p.b.padEnd(26)} ${fmt(p.maxAbs).padStart(9)} ${fmt(p.maxRel).padStart(9)} ${fmt(p.meanAbs).padStart(9)} ${fmt(p.atolNeededAtRtol1e3).padStart(10)} ${fmt(p.rtolNeededAtAtol1e4).padStart(10)} ${fmt(p.toleranceUsed).padStart(9)} ${p.argmaxMismatches}`,
    );
  }
  const worst = pairs.reduce((w, p) => (p.maxAbs > w.maxAbs ? p : w), pairs[0]!);
  const worstRel = pairs.reduce((w, p) => (p.maxRel > w.maxRel ? p : w), pairs[0]!);
  const report = {
    digits: Math.min(COUNT, 2000),
    shardSize: SHARD,
    runs: runs.map((r) => ({ name: r.name, detail: r.detail })),
    pairs,
    worstMaxAbs: worst.maxAbs,
    worstMaxAbsPair: `${worst.a} vs ${worst.b}`,
    worstMaxRel: worstRel.maxRel,
    worstMaxRelPair: `${worstRel.a} vs ${worstRel.b}`,
    maxLogit: Math.max(...pairs.map((p) => p.maxLogit)),
    defaultComparator: DEFAULT_COMPARATOR,
    /** The largest share of DEFAULT_COMPARATOR's allowance any honest pair used; headroom = 1 / this. */
    toleranceUsed: Math.max(...pairs.map((p) => p.toleranceUsed)),
  };
  if (OUT) fs.writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
