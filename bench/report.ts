/** The benchmark's output: bench/results.json, and the same figures as tables on stdout. */
import fs from 'node:fs';
import type { CoreResult } from './core.ts';
import type { EngineResult } from './engine.ts';
import type { Machine } from './env.ts';
import type { NetworkResult } from './network.ts';
import type { OcrResult } from './ocr.ts';
import type { ScaleResult } from './scale.ts';
import type { StoreCommitResult } from './storeCommit.ts';
import type { TransferResult } from './transfer.ts';

export interface Results {
  readonly generatedAt: string;
  readonly mode: 'quick' | 'full';
  readonly machine: Machine;
  engine: EngineResult | null;
  transfer: TransferResult | null;
  network: NetworkResult | null;
  core: CoreResult | null;
  ocr: OcrResult | null;
  scale: ScaleResult | null;
  store: StoreCommitResult | null;
  seconds: number;
  /** 1-minute load average when the run ended. */
  loadAverageAtEnd: number;
}

export function writeResults(file: string, results: Results): void {
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

const fmt = (x: number | null | undefined, digits = 0): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};

/** A Markdown table (also readable as plain text). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function renderTables(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; Chromium ${m.chromium}; ` +
      `onnxruntime-web ${m.onnxruntimeWeb}, onnxruntime-node ${m.onnxruntimeNode}; GPU: ${m.gpu}; ` +
      `loopback-only netns: ${m.networkNamespace ? 'yes' : 'no'}; load average ${m.loadAverageAtStart} at start, ${r.loadAverageAtEnd} at end; ` +
      `commit ${m.commit}; ${r.mode} run, ${r.generatedAt}, ${r.seconds} s`,
  );
  if (r.engine) {
    out.push('', '### Raw engine (items/s, median)', '');
    out.push(
      table(
        ['model', 'batch', 'runtime', 'threads', 'items/s', 'session.run only'],
        r.engine.rows.map((x) => [x.model, String(x.batch), x.runtime, String(x.threads), fmt(x.itemsPerSec), fmt(x.sessionItemsPerSec)]),
      ),
    );
    const e = r.engine;
    out.push(
      '',
      `ort-web wasm / ort-node on ${e.model}, batch ${e.batch}: ${fmt(e.ratioWebToNode.threads1, 2)} at 1 thread, ` +
        `${fmt(e.ratioWebToNode.threadsAll, 2)} at ${e.ortWebWasm.allThreads} threads`,
      `Reading the model's bytes from a volunteer's IndexedDB cache (once per change of model; the host keeps the last in memory): ` +
        Object.entries(e.modelCacheReadMs)
          .map(([name, ms]) => `${name} ${fmt(ms, 1)} ms`)
          .join(', '),
    );
  }
  if (r.transfer) {
    const t = r.transfer;
    out.push('', '### Data plane, tab to tab on loopback (MB/s, median)', '');
    out.push(
      table(
        ['path', 'payload', 'MB/s', 'min–max', 'cores: page main threads', 'WebRTC + network service', 'browser process', 'other', 'total'],
        t.paths.map((p) => [
          p.label,
          `${fmt(t.payloadMB)} MB`,
          fmt(p.mbps, 1),
          `${fmt(p.samples.min, 1)}–${fmt(p.samples.max, 1)}`,
          ...(p.cpu ? [fmt(p.cpu.pages, 2), fmt(p.cpu.webrtc, 2), fmt(p.cpu.browser, 2), fmt(p.cpu.other, 2), fmt(p.cpu.total, 2)] : ['–', '–', '–', '–', '–']),
        ]),
      ),
    );
    out.push('', `app transport ÷ bare channel: ${fmt(t.efficiency, 2)}`);
  }
  if (r.network) {
    const rows = r.network.rows;
    out.push('', "### Network efficiency (verified items/s ÷ (N × one tab's raw items/s), medians)", '');
    out.push(
      table(
        [
          'model',
          'shard',
          'N',
          'repl',
          'prefetch',
          'items',
          'verified items/s',
          'raw 1 tab',
          'efficiency',
          'steady',
          'volunteer busy',
          'session.run ÷ alone',
          'per shard: round trip / compute / coord. ms',
          'inputs MB/s',
          'cores',
        ],
        rows.map((x) => [
          x.model,
          String(x.shardSize),
          String(x.volunteers),
          String(x.replication),
          String(x.prefetch ?? '–'),
          fmt(x.items),
          fmt(x.verifiedItemsPerSec),
          fmt(x.rawItemsPerSec),
          fmt(x.efficiency, 2),
          fmt(x.steadyEfficiency, 2),
          `${fmt(x.volunteerBusy * 100)}%`,
          x.sessionSlowdown === undefined ? '–' : `${fmt(x.sessionSlowdown, 2)}×`,
          `${fmt(x.perShardMs.volunteerRoundTrip, 1)} / ${fmt(x.perShardMs.compute, 1)} / ${fmt(x.perShardMs.coordinator, 1)}`,
          fmt(x.inputMBps, 1),
          x.ownCores ? 'own core per volunteer' : x.oversubscribed ? 'shared, oversubscribed' : 'shared',
        ]),
      ),
    );
    const withCpu = rows.filter((x) => x.cpu);
    if (withCpu.length > 0) {
      out.push('', `### Where the CPU goes while a job runs (cores of ${r.machine.cores}, medians; bench/cpu.ts)`, '');
      out.push(
        table(
          [
            'model',
            'shard',
            'N',
            'repl',
            'prefetch',
            'cores',
            'inference workers',
            'page main threads',
            'WebRTC + network service',
            'browser process',
            'server (node)',
            'other',
            'total',
          ],
          withCpu.map((x) => {
            const c = x.cpu as NonNullable<typeof x.cpu>;
            return [
              x.model,
              String(x.shardSize),
              String(x.volunteers),
              String(x.replication),
              String(x.prefetch),
              x.ownCores ? 'own' : 'shared',
              fmt(c.inference, 2),
              fmt(c.pages, 2),
              fmt(c.webrtc, 2),
              fmt(c.browser, 2),
              fmt(c.node, 2),
              fmt(c.other, 2),
              fmt(c.total, 2),
            ];
          }),
        ),
      );
    }
    // [W-18] The same rows side by side: one lease at a time (prefetch 0) against pipelining.
    const off = rows.filter((x) => x.prefetch === 0);
    const pairs = off.flatMap((a) => {
      const b = rows.find(
        (x) =>
          x.prefetch > 0 &&
          x.model === a.model &&
          x.shardSize === a.shardSize &&
          x.volunteers === a.volunteers &&
          x.replication === a.replication &&
          x.ownCores === a.ownCores,
      );
      return b ? [[a, b] as const] : [];
    });
    if (pairs.length > 0) {
      out.push('', `### Pipelined leases: efficiency with prefetch 0 → ${pairs[0]?.[1].prefetch ?? 1}`, '');
      out.push(
        table(
          ['model', 'shard', 'N', 'repl', 'efficiency off → on', 'steady off → on', 'volunteer busy off → on', 'verified items/s off → on', 'cores'],
          pairs.map(([a, b]) => [
            a.model,
            String(a.shardSize),
            String(a.volunteers),
            String(a.replication),
            `${fmt(a.efficiency, 2)} → ${fmt(b.efficiency, 2)}`,
            `${fmt(a.steadyEfficiency, 2)} → ${fmt(b.steadyEfficiency, 2)}`,
            `${fmt(a.volunteerBusy * 100)}% → ${fmt(b.volunteerBusy * 100)}%`,
            `${fmt(a.verifiedItemsPerSec)} → ${fmt(b.verifiedItemsPerSec)}`,
            a.ownCores ? 'own core per volunteer' : a.oversubscribed ? 'shared, oversubscribed' : 'shared',
          ]),
        ),
      );
    }
  }
  if (r.core) {
    out.push('', '### Coordinator core (results/s, median)', '');
    out.push(
      table(
        ['volunteers', 'results', 'replication', 'core results/s', 'with protocol parse', 'source'],
        r.core.rows.map((x) => [fmt(x.volunteers), fmt(x.results), String(x.replication), fmt(x.resultsPerSec), fmt(x.resultsPerSecWithParse), x.source]),
      ),
    );
  }
  if (r.ocr) out.push('', ...ocrTables(r.ocr));
  if (r.scale) out.push('', ...scaleTables(r.scale));
  if (r.store) out.push('', ...storeCommitTables(r.store));
  return out.join('\n');
}

/** One row per N and coordinator kind (bench/scale.ts). */
export function scaleTables(s: ScaleResult): string[] {
  const kb = (b: number | undefined): string => (b === undefined ? '–' : fmt(b / 1024, 1));
  return [
    `### Scale: N headless volunteers (${s.volunteersPerProcess} per process) on loopback, coordinator tab vs headless`,
    '',
    table(
      [
        'coordinator',
        'N',
        'connected',
        'all connected (s)',
        'shards x size, r',
        'verified shards/s',
        'leases/s',
        'status KB/s',
        'busy idle',
        'busy in job',
        'heap MB',
        'telemetry KB',
        'network frame KB',
        'first thing that broke',
      ],
      s.rows.map((x) => [
        x.coordinator,
        String(x.volunteers),
        String(x.connected),
        fmt(x.connectSec, 1),
        `${x.verified}/${x.shards} x ${x.shardSize}, r${x.replication}`,
        fmt(x.verifiedShardsPerSec, 1),
        fmt(x.leasesPerSec, 1),
        x.statusBytesPerSec === null ? '–' : fmt(x.statusBytesPerSec / 1024, 1),
        fmt(x.idleBusy, 2),
        fmt(x.jobBusy, 2),
        fmt(x.heapMB, 0),
        kb(x.frames?.telemetryBytes),
        kb(x.frames?.networkBytes),
        x.broke ?? (x.firstError ? `nothing (logged: ${x.firstError.slice(0, 120)})` : 'nothing'),
      ]),
    ),
    '',
    `Largest N with every volunteer connected and the job complete: tab ${s.largestClean.tab}, headless ${s.largestClean.headless}.`,
  ];
}

function ocrTables(o: OcrResult): string[] {
  const out: string[] = [];
  out.push(
    `### OCR: PP-OCRv4 bundle (${fmt(o.bundleBytes / 1e6, 1)} MB), ${o.fixtures.lines} text lines + ${o.fixtures.documents} documents (images/s, median)`,
    '',
  );
  out.push(
    table(
      ['set', 'runtime', 'threads', 'images/s', 'bundle load ms', 'note'],
      o.engine.map((x) => [x.set, x.runtime, String(x.threads), fmt(x.imagesPerSec, 2), fmt(x.loadMs), x.note]),
    ),
  );
  out.push(
    '',
    `ort-web wasm / ort-node: ${Object.entries(o.ratioWebToNode)
      .map(([set, ratio]) => `${set} ${fmt(ratio, 2)}`)
      .join(', ')}`,
  );
  if (o.network.length > 0) {
    out.push('', "### OCR network (replication 1; verified images/s ÷ (N × one tab's images/s); coordinator bytes sent ÷ files' bytes)", '');
    out.push(
      table(
        [
          'N',
          'threads each',
          'images',
          'verified images/s',
          'raw 1 tab',
          'efficiency',
          'file bytes/image',
          'sent ÷ file, no model',
          'sent ÷ file, with model (first job)',
        ],
        o.network.map((x) => [
          String(x.volunteers),
          String(x.threadsPerVolunteer),
          fmt(x.images),
          fmt(x.verifiedImagesPerSec, 2),
          fmt(x.rawImagesPerSec, 2),
          fmt(x.efficiency, 2),
          fmt(x.fileBytesPerImage),
          fmt(x.sentPerFileByte, 2),
          `${fmt(x.sentPerFileByteWithModel, 0)} (${x.coldImages} images)`,
        ]),
      ),
    );
  }
  if (o.delivery.length > 0) {
    out.push('', '### OCR model delivery (ms after the first lease, median over volunteers)', '');
    out.push(
      table(
        ['path', 'N', 'first model chunk', 'raw transfer', 'transfer MB/s', 'bundle loaded (ready to run)', 'first result'],
        o.delivery.map((x) => [
          x.path,
          String(x.volunteers),
          fmt(x.firstChunkMs),
          fmt(x.transferMs),
          fmt(x.transferMBps, 1),
          fmt(x.modelLoadedMs),
          fmt(x.firstResultMs),
        ]),
      ),
    );
  }
  return out;
}

export function printTable(r: Results): void {
  console.log('\n' + renderTables(r) + '\n');
}

/** [N-7] The SQLite store's commits, each write alone vs group commit, per writes in flight. */
export function storeCommitTables(s: StoreCommitResult): string[] {
  return [
    '### SQLite store commits: verified shards + persist batches, each write alone vs group commit (median)',
    '',
    table(
      ['in flight', 'mode', 'shards', 'batches', 'writes/s', 'shards/s', 'transactions/write', 'commit ms/write', 'CPU ms/write', 'longest block ms', 'runs'],
      s.rows.map((x) => [
        String(x.inFlight),
        x.mode,
        fmt(x.shards),
        fmt(x.batches),
        fmt(x.writesPerSec),
        fmt(x.shardsPerSec),
        fmt(x.transactionsPerWrite, 3),
        fmt(x.commitMsPerWrite, 3),
        fmt(x.cpuMsPerWrite, 3),
        fmt(x.longestBlockMs, 1),
        String(x.runs),
      ]),
    ),
    '',
    `Group commit over each write alone (writes/s, this run): ${Object.entries(s.speedup)
      .map(([k, v]) => `${k} ${fmt(v, 2)}x`)
      .join(', ')}; time in commits per write, each alone over group commit: ${Object.entries(s.commitTimeRatio)
      .map(([k, v]) => `${k} ${fmt(v, 2)}x`)
      .join(', ')}`,
  ];
}
