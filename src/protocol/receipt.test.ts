import { describe, expect, it } from 'vitest';
import { canonicalJson, toHex, utf8 } from './canonicalJson.ts';
import type { PeerId } from './ids.ts';
import type { VerifiedShard } from './messages.ts';
import type { Answer } from './pipeline.ts';
import { DEFAULT_POLICY } from './policy.ts';
import { answersBytes, buildReceipt, outputBytes, receiptLeaf, receiptLeafSchema, receiptPayload, signedReceiptSchema } from './receipt.ts';
import { sha256 } from './testing/sha256.ts';

const peer = (s: string): PeerId => s as PeerId;
const shard = (index: number, values: number[]): VerifiedShard => ({
  index,
  start: index * 2,
  count: 2,
  outputs: [{ name: 'y', dtype: 'float32', dims: [2, values.length / 2], data: new Float32Array(values).buffer }],
  volunteers: [peer('v1'), peer('v2')],
  backends: ['wasm', 'webgpu'],
});
const JOB = { networkId: 'net', jobId: 'j1', jobName: 'digits', modelHash: 'a'.repeat(64), policy: DEFAULT_POLICY, items: 5, shards: 3, complete: true };

describe('receipt leaves and bodies', () => {
  it('[AU-1] an output is encoded as its layout then its bytes; every NaN is one NaN, so payload bits do not count', async () => {
    const quiet = new Float32Array([NaN, 1]);
    const payload = new Float32Array([1, 1]);
    new DataView(payload.buffer).setUint32(0, 0x7fc01234, true); // a NaN with payload bits
    const a = outputBytes({ name: 'y', dtype: 'float32', dims: [1, 2], data: quiet.buffer });
    const b = outputBytes({ name: 'y', dtype: 'float32', dims: [1, 2], data: payload.buffer });
    expect(toHex(a)).toBe(toHex(b));
    expect(toHex(a.slice(0, a.length - 8))).toBe(toHex(utf8('{"dims":[1,2],"dtype":"float32","name":"y"}\n')));
    expect(toHex(a.slice(a.length - 4))).toBe('0000803f');
    // A value one ulp away is another encoding.
    const near = outputBytes({ name: 'y', dtype: 'float32', dims: [1, 2], data: new Float32Array([NaN, 1.0000001]).buffer });
    expect(toHex(near)).not.toBe(toHex(a));
  });

  it('[AU-2] a leaf holds the shard, a digest per output and the agreeing volunteers with their backends', async () => {
    const leaf = await receiptLeaf(sha256, shard(1, [1, 2, 3, 4]));
    expect(leaf).toEqual({
      shard: 1,
      start: 2,
      count: 2,
      outputs: [{ name: 'y', dtype: 'float32', dims: [2, 2], digest: toHex(await sha256(outputBytes(shard(1, [1, 2, 3, 4]).outputs[0]!))) }],
      volunteers: [
        { peer: 'v1', backend: 'wasm' },
        { peer: 'v2', backend: 'webgpu' },
      ],
    });
    expect(receiptLeafSchema.safeParse(leaf).success).toBe(true);
  });

  it('[AU-2] volunteer keys, result signatures, leases, adapters and own digests slot into the leaf when the verified shard has them all; part of them is refused', async () => {
    const key = 'K'.repeat(91);
    const sig = 'S'.repeat(86);
    const [da, db] = ['a'.repeat(64), 'b'.repeat(64)];
    const signed = {
      volunteerKeys: [key, key],
      resultSigs: [sig, sig],
      resultLeases: ['l1', 'l2'],
      adapters: [null, 'nvidia hopper'],
      resultDigests: [da, db],
    };
    const leaf = await receiptLeaf(sha256, { ...shard(0, [1, 2, 3, 4]), ...(signed as Partial<VerifiedShard>) });
    expect(leaf.volunteers).toEqual([
      { peer: 'v1', backend: 'wasm', key, sig, lease: 'l1', adapter: null, digest: da },
      { peer: 'v2', backend: 'webgpu', key, sig, lease: 'l2', adapter: 'nvidia hopper', digest: db },
    ]);
    expect(receiptLeafSchema.safeParse(leaf).success).toBe(true);
    // A record without the digests each volunteer signed (accepted before they were kept): nothing to check, so none.
    const { resultDigests: _, ...undigested } = signed;
    expect((await receiptLeaf(sha256, { ...shard(0, [1, 2, 3, 4]), ...(undigested as Partial<VerifiedShard>) })).volunteers).toEqual([
      { peer: 'v1', backend: 'wasm' },
      { peer: 'v2', backend: 'webgpu' },
    ]);
    const half = { ...leaf, volunteers: [{ peer: 'v1', backend: 'wasm', key, sig, lease: 'l1', adapter: null }] };
    expect(receiptLeafSchema.safeParse(half).error?.issues[0]?.message).toMatch(/together, or none of them/);
    const mixed = {
      ...leaf,
      volunteers: [
        { peer: 'v1', backend: 'wasm', key, sig, lease: 'l1', adapter: null, digest: da },
        { peer: 'v2', backend: 'wasm' },
      ],
    };
    expect(receiptLeafSchema.safeParse(mixed).error?.issues[0]?.message).toMatch(/every volunteer of a leaf/);
  });

  it('[AU-2] a pipeline shard digests its answers in canonical JSON, whatever their key order', async () => {
    const answers: Answer[] = [{ kind: 'segments', segments: [{ start: 0.5, end: 1 }] }];
    const leaf = await receiptLeaf(sha256, { index: 0, start: 0, count: 1, outputs: [], answers, volunteers: [peer('v1')], backends: ['node-cpu'] } as never);
    expect(leaf.outputs).toBeUndefined();
    expect(leaf.answers).toBe(toHex(await sha256(utf8('[{"kind":"segments","segments":[{"end":1,"start":0.5}]}]'))));
    expect(toHex(answersBytes(JSON.parse('[{"segments":[{"end":1,"start":0.5}],"kind":"segments"}]')))).toBe(toHex(answersBytes(answers)));
  });

  it('[AU-3] a receipt covers the verified shards in shard order; its payload is a fixed label and the canonical body', async () => {
    const r = await buildReceipt(sha256, JOB, [shard(2, [5, 6, 7, 8]), shard(0, [1, 2, 3, 4])], 1234.7);
    expect(r?.leaves.map((l) => l.shard)).toEqual([0, 2]);
    expect(r?.body).toMatchObject({ format: 'quorum-receipt/1', jobId: 'j1', leafCount: 2, issuedAtMs: 1234, complete: true });
    expect(r?.proofs.map((p) => p.length)).toEqual([1, 1]);
    const text = String.fromCharCode(...receiptPayload(r!.body));
    expect(text).toBe(`quorum-receipt\n${canonicalJson(r!.body)}`);
    expect(signedReceiptSchema.safeParse({ ...r, key: 'K'.repeat(91), sig: 'S'.repeat(86) }).success).toBe(true);
    expect(await buildReceipt(sha256, JOB, [], 0)).toBeNull();
  });

  it('[AU-5] re-verified shards make another root: a changed accepted value or another quorum is another receipt', async () => {
    const first = await buildReceipt(sha256, JOB, [shard(0, [1, 2, 3, 4]), shard(1, [5, 6, 7, 8])], 0);
    const value = await buildReceipt(sha256, JOB, [shard(0, [1, 2, 3, 4]), shard(1, [5, 6, 7, 9])], 0);
    const quorum = await buildReceipt(sha256, JOB, [shard(0, [1, 2, 3, 4]), { ...shard(1, [5, 6, 7, 8]), volunteers: [peer('v2'), peer('v3')] }], 0);
    expect(new Set([first?.body.root, value?.body.root, quorum?.body.root]).size).toBe(3);
  });
});
