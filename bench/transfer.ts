/**
 * Transfer: one big frame from one tab to another through the app's transport
 * (src/transport/peerjsTransport.ts: encode, chunk, backpressure, reassemble, decode), timed from
 * send() to the receiver's ack; beside it the ceiling, the same bytes on a bare RTCDataChannel
 * between the same two tabs (no peerjs, no framing).
 */
import type { Browser } from '@playwright/test';
import { openTab } from './env.ts';
import { median, spread } from './stats.ts';

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
}

export async function benchTransfer(browser: Browser, origin: string, opts: { payloadBytes: number; reps: number }): Promise<TransferResult> {
  const a = await openTab(browser, origin, 'sender');
  const b = await openTab(browser, origin, 'receiver');
  try {
    const bId = await b.call('transferOpen', null);
    await a.call('transferOpen', null);
    await a.call('transferConnect', bId);
    const offer = await a.call('rawOffer');
    const answer = await b.call('rawAnswer', offer);
    await a.call('rawAccept', answer);
    // The first transfer on a fresh connection is slower (SCTP window, JIT): warm up, then measure,
    // alternating the two paths rep by rep so a drift in the machine's load reaches both alike.
    await a.call('transferSend', bId, Math.min(opts.payloadBytes, 8_000_000), 1);
    await a.call('rawSend', Math.min(opts.payloadBytes, 8_000_000), 64 * 1024, 1, 1024 * 1024);
    const transport: number[] = [];
    const raw: number[] = [];
    for (let r = 0; r < opts.reps; r++) {
      transport.push(...(await a.call('transferSend', bId, opts.payloadBytes, 1)));
      raw.push(...(await a.call('rawSend', opts.payloadBytes, 64 * 1024, 1, 1024 * 1024)));
    }
    return {
      payloadMB: opts.payloadBytes / 1e6,
      transportMBps: median(transport),
      transportSamples: spread(transport),
      rawDataChannelMBps: median(raw),
      rawSamples: spread(raw),
      efficiency: median(transport) / median(raw),
    };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}
