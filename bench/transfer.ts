/**
 * Transfer: one big frame from one tab to another through the app's transport
 * (src/transport/peerjsTransport.ts: encode, chunk, backpressure, reassemble, decode), timed from
 * send() to the receiver's ack; beside it the ceiling, the same bytes on a bare RTCDataChannel
 * between the same two tabs (no peerjs, no framing).
 *
 * The full run also sweeps the bare channel (bigger messages, a higher water mark, the bytes
 * striped over 2 and 4 DataChannels of one connection) and records where the CPU goes during
 * each path: whether it is one channel's settings or the machine that sets the ceiling.
 */
import type { Browser } from '@playwright/test';
import { DEFAULT_DATA_PLANE } from '../src/transport/dataPlane.ts';
import { cpuBetween, medianCpu, snapshotCpu, type CpuShare } from './cpu.ts';
import { openTab } from './env.ts';
import { median, spread } from './stats.ts';

/** One way of moving the payload: the app's transport, or the bare channel with these settings. */
interface PathSpec {
  readonly label: string;
  readonly kind: 'transport' | 'bare';
  readonly channels: number;
  readonly messageBytes: number;
  readonly highWaterBytes: number;
}

/** A path as measured. */
export interface TransferPath extends PathSpec {
  /** Median MB/s (1 MB = 10^6 bytes). */
  readonly mbps: number;
  readonly samples: ReturnType<typeof spread>;
  /** Cores used while this path moved the payload (medians over its samples; null without /proc). */
  readonly cpu: CpuShare | null;
}

export interface TransferResult {
  readonly payloadMB: number;
  /** The app's transport, tab to tab (median MB/s, 1 MB = 10^6 bytes). */
  readonly transportMBps: number;
  readonly transportSamples: ReturnType<typeof spread>;
  /** Bare DataChannel with 64 KiB messages and bufferedamountlow backpressure: the ceiling. */
  readonly rawDataChannelMBps: number;
  readonly rawSamples: ReturnType<typeof spread>;
  /** The app's transport as a share of the ceiling. */
  readonly efficiency: number;
  /** Every path measured, the two above first, in the same alternating reps. */
  readonly paths: readonly TransferPath[];
}

const KiB = 1024;
const MiB = 1024 * 1024;

// The transport is opened with its defaults; the row records them for the report.
const TRANSPORT: PathSpec = {
  label: 'app transport (peerjsTransport)',
  kind: 'transport',
  channels: 1,
  messageBytes: DEFAULT_DATA_PLANE.chunkBytes,
  highWaterBytes: DEFAULT_DATA_PLANE.highWaterBytes,
};
const BARE: PathSpec = { label: 'bare RTCDataChannel, 64 KiB messages', kind: 'bare', channels: 1, messageBytes: 64 * KiB, highWaterBytes: 1 * MiB };
/** The ceiling's sweep (full runs): does any setting of the bare channel move more? */
const SWEEP: readonly PathSpec[] = [
  { label: 'bare, 64 KiB messages, 4 MiB high water', kind: 'bare', channels: 1, messageBytes: 64 * KiB, highWaterBytes: 4 * MiB },
  { label: 'bare, 256 KiB messages, 4 MiB high water', kind: 'bare', channels: 1, messageBytes: 256 * KiB, highWaterBytes: 4 * MiB },
  { label: 'bare, striped over 2 DataChannels', kind: 'bare', channels: 2, messageBytes: 64 * KiB, highWaterBytes: 1 * MiB },
  { label: 'bare, striped over 4 DataChannels', kind: 'bare', channels: 4, messageBytes: 64 * KiB, highWaterBytes: 1 * MiB },
];

export async function benchTransfer(browser: Browser, origin: string, opts: { payloadBytes: number; reps: number; sweep: boolean }): Promise<TransferResult> {
  const specs = [TRANSPORT, BARE, ...(opts.sweep ? SWEEP : [])];
  const a = await openTab(browser, origin, 'sender');
  const b = await openTab(browser, origin, 'receiver');
  try {
    const bId = await b.call('transferOpen', null);
    await a.call('transferOpen', null);
    await a.call('transferConnect', bId);
    const offer = await a.call('rawOffer', Math.max(...specs.map((s) => s.channels)));
    const answer = await b.call('rawAnswer', offer);
    await a.call('rawAccept', answer);
    const once = async (s: PathSpec, bytes: number): Promise<number[]> =>
      s.kind === 'transport' ? a.call('transferSend', bId, bytes, 1) : a.call('rawSend', bytes, s.messageBytes, 1, s.highWaterBytes, s.channels);
    // The first transfer on a fresh connection is slower (SCTP window, JIT): warm up, then measure,
    // alternating the paths rep by rep so a drift in the machine's load reaches all of them alike.
    for (const s of specs) await once(s, Math.min(opts.payloadBytes, 8_000_000));
    const rates = specs.map(() => [] as number[]);
    const cpu = specs.map(() => [] as (CpuShare | null)[]);
    for (let r = 0; r < opts.reps; r++) {
      for (const [i, s] of specs.entries()) {
        const before = snapshotCpu();
        rates[i]?.push(...(await once(s, opts.payloadBytes)));
        const after = snapshotCpu();
        cpu[i]?.push(before && after ? cpuBetween(before, after) : null);
      }
    }
    const paths: TransferPath[] = specs.map((s, i) => ({ ...s, mbps: median(rates[i] ?? []), samples: spread(rates[i] ?? []), cpu: medianCpu(cpu[i] ?? []) }));
    const [transport, bare] = paths as [TransferPath, TransferPath];
    return {
      payloadMB: opts.payloadBytes / 1e6,
      transportMBps: transport.mbps,
      transportSamples: transport.samples,
      rawDataChannelMBps: bare.mbps,
      rawSamples: bare.samples,
      efficiency: transport.mbps / bare.mbps,
      paths,
    };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}
