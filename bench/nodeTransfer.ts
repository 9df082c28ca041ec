/**
 * One big frame between two Node endpoints over the Node transport (src/transport/
 * nodeTransport.node.ts: peerjs over node-datachannel, the same encode, chunk, backpressure and
 * reassembly as the browser), signaled by a PeerServer on a random loopback port; timed from
 * send() to the whole frame decoded on the other side.
 *
 *   npx tsx bench/nodeTransfer.ts [runs=5] [megabytes=50]
 *
 * Prints each run and the median MB/s (1 MB = 10^6 bytes). Not part of `npm run bench`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { attachSignaling } from '../server/signaling.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from '../src/transport/nodeTransport.node.ts';
import type { EndpointHandlers } from '../src/transport/transport.ts';
import { median } from './stats.ts';

const runs = Number(process.argv[2] ?? 5);
const megabytes = Number(process.argv[3] ?? 50);

const app = express();
const server = http.createServer(app);
const signaling = attachSignaling(server, app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const factory = nodeEndpointFactory(signalingForServer(`http://127.0.0.1:${port}`));

let opens = 0;
let bothOpen: () => void = () => undefined;
let received: (frame: unknown) => void = () => undefined;
const handlers = (): EndpointHandlers => ({
  open: () => {
    if (++opens === 2) bothOpen();
  },
  data: (_peer, frame) => received(frame),
  close: () => undefined,
  signaling: () => undefined,
  error: (e) => console.error(e.message),
});
const sender = await factory(null, handlers());
const receiver = await factory(null, handlers());
await new Promise<void>((resolve) => {
  bothOpen = resolve;
  sender.connect(receiver.selfId);
});
// The sender opened the connection; the receiver lets it past the pre-hello allowance [B-3].
receiver.greeted(sender.selfId, 'requester');

const payload = new Uint8Array(megabytes * 1e6);
for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
const rates: number[] = [];
for (let run = 1; run <= runs; run++) {
  const arrived = new Promise<unknown>((resolve) => (received = resolve));
  const t0 = performance.now();
  sender.send(receiver.selfId, { type: 'bench', bytes: payload.buffer });
  const frame = (await arrived) as { bytes: ArrayBuffer };
  const ms = performance.now() - t0;
  if (frame.bytes.byteLength !== payload.length) throw new Error(`run ${run}: ${frame.bytes.byteLength} bytes arrived of ${payload.length}`);
  rates.push(megabytes / (ms / 1000));
  console.log(`run ${run}: ${ms.toFixed(0)} ms, ${(megabytes / (ms / 1000)).toFixed(1)} MB/s`);
}
console.log(
  `median ${median(rates).toFixed(1)} MB/s (min ${Math.min(...rates).toFixed(1)}, max ${Math.max(...rates).toFixed(1)}) over ${runs} runs of a ${megabytes} MB frame`,
);

sender.destroy();
receiver.destroy();
// destroy() closes the channels first and the peer connections once they have closed.
await new Promise((resolve) => setTimeout(resolve, 1_500));
await signaling.detach();
server.close();
closeNodeTransport();
