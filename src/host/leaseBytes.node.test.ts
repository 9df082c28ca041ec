/**
 * [J-7] What the coordinator sends per item, measured on the wire format: the six 192×48 text-line
 * fixtures leased to two volunteers each, once as float tensors (the way images travelled before)
 * and once as the PNG files with their pipeline. Every lease frame is encoded by the transport's
 * own codec and its bytes counted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CoordinatorCore } from '../core/coordinator/coordinator.ts';
import { DEFAULT_COORDINATOR_CONFIG } from '../core/coordinator/state.ts';
import { seededRng } from '../core/rng.ts';
import { checkFrames, only, sent, submitAndAdmit } from '../core/testing/coordinatorFrames.ts';
import { imagePipeline } from '../core/testing/fileJobFixtures.ts';
import { HASH_A, V, countingBytes, hello, policy } from '../core/testing/fixtures.ts';
import { asPeerId } from '../protocol/ids.ts';
import type { JobSpec } from '../protocol/messages.ts';
import { encodeFrame } from '../transport/frameCodec.ts';
import { pixelsToTensor, stackImages, type ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';

const LINES = new URL('../../e2e/fixtures/ocr-lines/', import.meta.url);
const names = readdirSync(LINES)
  .filter((f) => f.endsWith('.png'))
  .sort();
const pngs = names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(new URL(name, LINES))).buffer }));
const P: ImagePreprocessing = { width: 192, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' };

/** Every byte of every lease frame the coordinator sends for `spec` at replication 2, shard size 2. */
function leaseBytes(spec: JobSpec): number {
  const core = new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, peerTimeoutMs: 600_000 }, seededRng(1));
  const req = asPeerId('req');
  core.connect(req, 0);
  core.handle(req, hello('requester'), 0);
  submitAndAdmit(core, req, spec, 0, HASH_A);
  let bytes = 0;
  for (const name of ['a', 'b']) {
    const v = asPeerId(name);
    core.connect(v, 0);
    core.handle(v, hello('volunteer'), 0);
    for (let shard = 0; shard < 3; shard++) {
      const lease = only(sent(checkFrames(core.handle(v, { v: V, t: 'lease-request' }, 0)), v), 'lease');
      bytes += encodeFrame(lease).reduce((n, part) => n + part.byteLength, 0);
      core.handle(v, { v: V, t: 'lease-abandon', leaseId: lease.leaseId, reason: 'measured' }, 0);
    }
  }
  return bytes;
}

describe('bytes the coordinator sends per item [J-7]', () => {
  it('[J-7] a line image costs its PNG size per copy, not its float tensor', () => {
    const base = { name: 'lines', model: countingBytes(1000), shardSize: 2, policy: { ...policy(2, 2, 4), canaryRate: 0 }, requesterKey: '' };
    const batch = stackImages(
      pngs.map((f) => {
        const png = PNG.sync.read(Buffer.from(f.bytes));
        return pixelsToTensor(png.data, png.width, png.height, P);
      }),
      P,
    );
    const tensors = leaseBytes({ ...base, inputs: [{ name: 'x', dtype: 'float32', dims: batch.shape, data: batch.data }] });
    const files = leaseBytes({ ...base, inputs: [], files: pngs, pipeline: imagePipeline(HASH_A) });
    const fileBytes = pngs.reduce((n, f) => n + f.bytes.byteLength, 0);
    const copies = 2;
    const perItem = (total: number): number => total / (pngs.length * copies);
    console.info(
      `six 192×48 lines, 2 copies each: tensor leases ${tensors} B (${perItem(tensors).toFixed(0)} B per item per copy), ` +
        `file leases ${files} B (${perItem(files).toFixed(0)} B per item per copy; the PNGs average ${(fileBytes / pngs.length).toFixed(0)} B): ` +
        `${(tensors / files).toFixed(1)}× less; ${(files / (fileBytes * copies)).toFixed(3)} × file size × copies`,
    );
    expect(perItem(tensors)).toBeGreaterThanOrEqual(3 * 48 * 192 * 4);
    // The files themselves, plus a frame's names, ids and pipeline.
    expect(files).toBeLessThan(fileBytes * copies * 1.25);
    expect(files).toBeGreaterThanOrEqual(fileBytes * copies);
  });
});
