/**
 * Raw engine: items/s of one model at one batch size, with no network at all.
 * - ort-web wasm: the volunteer's own engine (src/runtime/workerEngine.ts: onnxruntime-web in a
 *   module Worker) in a cross-origin-isolated Chromium page, 1 thread (what volunteers run) and
 *   all threads. Timed around engine.run(), so the page<->worker copies count, as they do for a
 *   volunteer; `sessionItemsPerSec` counts session.run() alone.
 * - ort-node: onnxruntime-node (native CPU EP) on the same model, batch and digits, 1 thread and
 *   all threads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from '@playwright/test';
import * as ortNode from 'onnxruntime-node';
import { decodeMnistHoldout, MNIST_PIXELS } from '../src/workloads/mnist/holdout.ts';
import { openTab, ROOT, type BenchTab } from './env.ts';
import { MNIST_MODEL, type BenchModel } from './models.ts';
import { median, round } from './stats.ts';

export type EngineRuntime = 'ort-web-wasm' | 'ort-node';

export interface EngineRow {
  readonly model: string;
  readonly batch: number;
  readonly runtime: EngineRuntime;
  readonly threads: number;
  /** Median over samples. */
  readonly itemsPerSec: number;
  /** ort-web only: session.run() time alone, without the page<->worker copies. */
  readonly sessionItemsPerSec: number | null;
  readonly samples: readonly number[];
}

export interface EngineResult {
  /** The headline: the product's model at the network benchmark's shard size. */
  readonly model: string;
  readonly batch: number;
  readonly ortWebWasm: { readonly threads1: number; readonly threadsAll: number; readonly allThreads: number };
  readonly ortNode: { readonly threads1: number; readonly threadsAll: number; readonly allThreads: number };
  /** ort-web wasm items/s over ort-node items/s. */
  readonly ratioWebToNode: { readonly threads1: number; readonly threadsAll: number };
  readonly rows: readonly EngineRow[];
  /** ms for a volunteer to read each model's bytes from its IndexedDB cache (done once per lease). */
  readonly modelCacheReadMs: Record<string, number>;
}

export interface Sampling {
  readonly warmupRuns: number;
  readonly samples: number;
  readonly sampleMs: number;
}

export const sampling = (quick: boolean): Sampling => (quick ? { warmupRuns: 3, samples: 3, sampleMs: 600 } : { warmupRuns: 5, samples: 5, sampleMs: 1500 });

export function nodeInput(items: number): Float32Array {
  const h = decodeMnistHoldout(new Uint8Array(fs.readFileSync(path.join(ROOT, 'public', 'data', 'mnist-holdout.bin'))).buffer);
  const out = new Float32Array(items * MNIST_PIXELS);
  for (let i = 0; i < items; i++) out.set(h.images.subarray((i % h.count) * MNIST_PIXELS, ((i % h.count) + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
  return out;
}

async function nodeRow(model: BenchModel, batch: number, threads: number, s: Sampling): Promise<EngineRow> {
  const session = await ortNode.InferenceSession.create(fs.readFileSync(model.file), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const feeds = { pixels: new ortNode.Tensor('float32', nodeInput(batch), [batch, MNIST_PIXELS]) };
    for (let i = 0; i < s.warmupRuns; i++) await session.run(feeds);
    const samples: number[] = [];
    for (let k = 0; k < s.samples; k++) {
      let runs = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < s.sampleMs) {
        await session.run(feeds);
        runs++;
      }
      samples.push((runs * batch) / ((performance.now() - t0) / 1000));
    }
    return {
      model: model.name,
      batch,
      runtime: 'ort-node',
      threads,
      itemsPerSec: round(median(samples)),
      sessionItemsPerSec: null,
      samples: samples.map((x) => round(x)),
    };
  } finally {
    await session.release();
  }
}

/** One ort-web row, in a fresh Worker engine in `tab`. */
export async function webRow(tab: BenchTab, model: BenchModel, batch: number, threads: number, s: Sampling): Promise<EngineRow> {
  const r = await tab.call('engine', { modelUrl: model.url, batch, threads, ...s });
  if (r.backend !== 'wasm') throw new Error(`expected the wasm backend, got ${r.backend}`);
  if (threads > 1 && !r.crossOriginIsolated) throw new Error('the bench page is not cross-origin isolated: no WASM threads');
  return {
    model: model.name,
    batch,
    runtime: 'ort-web-wasm',
    threads: r.threads,
    itemsPerSec: round(median(r.itemsPerSec)),
    sessionItemsPerSec: round(median(r.sessionItemsPerSec)),
    samples: r.itemsPerSec.map((x) => round(x)),
  };
}

export const HEADLINE_BATCH = 100;

export async function benchEngine(browser: Browser, origin: string, opts: { quick: boolean; heavyModel: BenchModel }): Promise<EngineResult> {
  const s = sampling(opts.quick);
  const cores = os.cpus().length;
  const plan: { model: BenchModel; batches: number[] }[] = opts.quick
    ? [
        { model: MNIST_MODEL, batches: [HEADLINE_BATCH] },
        { model: opts.heavyModel, batches: [HEADLINE_BATCH] },
      ]
    : [
        { model: MNIST_MODEL, batches: [25, 100, 400, 1600] },
        { model: opts.heavyModel, batches: [100, 400] },
      ];
  const rows: EngineRow[] = [];
  const modelCacheReadMs: Record<string, number> = {};
  const tab = await openTab(browser, origin, 'engine');
  try {
    for (const { model } of plan) modelCacheReadMs[model.name] = round(median(await tab.call('modelCacheRead', model.url, 5)), 3);
    for (const { model, batches } of plan) {
      for (const batch of batches) {
        for (const threads of [1, cores]) {
          rows.push(await webRow(tab, model, batch, threads, s));
          rows.push(await nodeRow(model, batch, threads, s));
          const [w, n] = rows.slice(-2) as [EngineRow, EngineRow];
          console.log(`  ${model.name} batch ${batch} threads ${threads}: ort-web ${w.itemsPerSec} items/s, ort-node ${n.itemsPerSec} items/s`);
        }
      }
    }
  } finally {
    await tab.close();
  }
  const pick = (runtime: EngineRuntime, threads: number): number =>
    rows.find((r) => r.model === MNIST_MODEL.name && r.batch === HEADLINE_BATCH && r.runtime === runtime && r.threads === threads)?.itemsPerSec ?? NaN;
  const web1 = pick('ort-web-wasm', 1);
  const webAll = pick('ort-web-wasm', cores);
  const node1 = pick('ort-node', 1);
  const nodeAll = pick('ort-node', cores);
  return {
    model: MNIST_MODEL.name,
    batch: HEADLINE_BATCH,
    ortWebWasm: { threads1: web1, threadsAll: webAll, allThreads: cores },
    ortNode: { threads1: node1, threadsAll: nodeAll, allThreads: cores },
    ratioWebToNode: { threads1: round(web1 / node1, 3), threadsAll: round(webAll / nodeAll, 3) },
    rows,
    modelCacheReadMs,
  };
}
