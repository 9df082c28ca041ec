import { beforeAll, describe, expect, it } from 'vitest';
import { shardIdOf, type JobId, type PeerId } from '../protocol/ids.ts';
import type { VerifiedShard } from '../protocol/messages.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import type { SignedReceipt } from '../protocol/receipt.ts';
import { answersToCsvParts, answersToJsonParts } from '../workloads/export/answerExporters.ts';
import { assembleResults, type AssembledResults } from '../workloads/export/assemble.ts';
import { resultsToCsvParts, resultsToJsonParts, resultsToNpy } from '../workloads/export/exporters.ts';
import { readExportForReceipt, receiptSidecar } from '../workloads/export/receiptExport.ts';
import { generateCoordinatorKeyPair, identityOf, type CoordinatorIdentity } from './coordinatorKey.ts';
import { issueReceipt, verdictLines, verifyReceipt } from './receiptSigner.ts';
import { resultDigest, signResult } from './volunteerKey.ts';

const peer = (s: string): PeerId => s as PeerId;
const JOB = { networkId: 'net', jobId: 'j1', jobName: 'digits', modelHash: 'b'.repeat(64), policy: DEFAULT_POLICY, items: 7, shards: 3, complete: true };

/** Shards of 3 items (the last of 1), two outputs: y float32 [n, 2], k int64 [n]. */
function tensorShards(): VerifiedShard[] {
  return [0, 1, 2].map((index) => {
    const count = index === 2 ? 1 : 3;
    const y = new Float32Array(count * 2).map((_, i) => index * 10 + i * 0.1);
    const k = new BigInt64Array(count).map((_, i) => BigInt(index * 100 + i) * 10_000_000_000_000_000n);
    return {
      index,
      start: index * 3,
      count,
      outputs: [
        { name: 'y', dtype: 'float32', dims: [count, 2], data: y.buffer },
        { name: 'k', dtype: 'int64', dims: [count], data: k.buffer },
      ],
      volunteers: [peer(`v${index}`), peer('-w')],
      backends: ['wasm', 'webgpu'],
    };
  });
}

const text = (parts: Iterable<string>): Uint8Array => new TextEncoder().encode([...parts].join(''));

let identity: CoordinatorIdentity;
let results: AssembledResults;
let receipt: SignedReceipt;

beforeAll(async () => {
  identity = await identityOf(await generateCoordinatorKeyPair());
  const shards = tensorShards();
  receipt = (await issueReceipt(identity, JOB, shards, 1000))!;
  results = { ...assembleResults('j1', 'digits', 7, shards), receipt };
});

async function verify(name: string, bytes: Uint8Array, sidecar: string | null, fp: string | null = identity.fingerprint) {
  const read = readExportForReceipt(name, bytes, sidecar);
  return verifyReceipt(read.receipt, read.exported, fp);
}

/** The export's text with the `n`th occurrence of `from` (a whole line's number) replaced. */
function tamper(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const s = new TextDecoder().decode(bytes);
  expect(s).toContain(from);
  return new TextEncoder().encode(s.replace(from, to));
}

describe('[AU-3] [AU-4] [AU-6] signed receipts on exports', () => {
  it('[AU-4] the JSON export carries its receipt, which verifies against the pinned key', async () => {
    const verdict = await verify('j1-results.json', text(resultsToJsonParts(results)), null);
    expect(verdict).toMatchObject({
      ok: true,
      problems: [],
      jobId: 'j1',
      fingerprint: identity.fingerprint,
      fingerprintChecked: true,
      shardsChecked: 3,
      complete: true,
    });
  });

  it('[AU-4] one number changed in the JSON export fails, naming the shard and the output', async () => {
    const bytes = tamper(text(resultsToJsonParts(results)), '[10.2,10.3]', '[10.2,10.35]');
    const verdict = await verify('j1-results.json', bytes, null);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toEqual(['shard 1 (items 3–5): output "y" does not hash to the receipt\'s digest: its values were changed.']);
  });

  it('[AU-4] an int64 beyond 2^53 (a JSON string) verifies, and changed it fails naming its shard', async () => {
    const bytes = text(resultsToJsonParts(results));
    expect((await verify('j1-results.json', bytes, null)).ok).toBe(true);
    const changed = await verify('j1-results.json', tamper(bytes, '"2000000000000000000"', '"2000000000000000001"'), null);
    expect(changed.problems).toEqual(['shard 2 (item 6): output "k" does not hash to the receipt\'s digest: its values were changed.']);
  });

  it('[AU-4] another key, a changed body, a changed leaf or a dropped shard each fail with what to look at', async () => {
    const other = await identityOf(await generateCoordinatorKeyPair());
    const forged = (await issueReceipt(other, JOB, tensorShards(), 1000))!;
    const byOther = await verify('j1-results.json', text(resultsToJsonParts({ ...results, receipt: forged })), null);
    expect(byOther.problems).toEqual([
      `the receipt is signed by key ${other.fingerprint}, not by the trusted coordinator key ${identity.fingerprint}: it was not issued by this network's coordinator.`,
    ]);
    // Without a pin the key is reported, not judged.
    expect(await verify('j1-results.json', text(resultsToJsonParts({ ...results, receipt: forged })), null, null)).toMatchObject({
      ok: true,
      fingerprintChecked: false,
      fingerprint: other.fingerprint,
    });

    const body = await verify(
      'j1-results.json',
      text(resultsToJsonParts({ ...results, receipt: { ...receipt, body: { ...receipt.body, complete: false } } })),
      null,
    );
    expect(body.problems).toEqual(["the coordinator's signature over the receipt does not verify: the receipt was changed after it was signed."]);

    const leaves = receipt.leaves.map((l, i) => (i === 0 ? { ...l, volunteers: [{ peer: peer('v9'), backend: 'wasm' as const }] } : l));
    const leaf = await verify('j1-results.json', text(resultsToJsonParts({ ...results, receipt: { ...receipt, leaves } })), null);
    expect(leaf.problems).toEqual([
      "shard 0 (items 0–2): its leaf does not hash into the signed root: the receipt's entry for it was changed.",
      'shard 0 (items 0–2): the export names volunteers v0, -w, the receipt v9.',
    ]);

    const dropped = assembleResults('j1', 'digits', 7, tensorShards().slice(0, 2));
    const missing = await verify('j1-results.json', text(resultsToJsonParts({ ...dropped, receipt })), null);
    expect(missing.problems).toEqual(['shard 2 (item 6) is in the receipt but not in the export: the export is missing verified results.']);
  });

  it('[AU-4] an export shard the receipt has no leaf for fails, naming the shard: nothing vouches for it', async () => {
    // A receipt signed before the last shard was verified, on an export that holds it: every leaf
    // checks, yet shard 2's numbers are the export's word alone.
    const partial = (await issueReceipt(identity, { ...JOB, complete: false }, tensorShards().slice(0, 2), 1000))!;
    const verdict = await verify('j1-results.json', text(resultsToJsonParts({ ...results, receipt: partial })), null);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toEqual(['shard 2 (item 6) is in the export but not in the receipt: nothing vouches for its results.']);
  });

  it('[AU-6] a CSV export verifies with its sidecar; one changed cell fails naming the shard', async () => {
    const csv = text(resultsToCsvParts(results));
    const sidecar = receiptSidecar(receipt, 'j1-results.csv', 'results-csv');
    expect((await verify('j1-results.csv', csv, sidecar)).ok).toBe(true);
    const bad = await verify('j1-results.csv', tamper(csv, ',0.1,', ',0.2,'), sidecar);
    expect(bad.problems).toEqual(['shard 0 (items 0–2): output "y" does not hash to the receipt\'s digest: its values were changed.']);
    await expect(verify('j1-results.csv', csv, null)).rejects.toThrow(/needs its receipt: put j1-results.csv.receipt.json beside it/);
  });

  it('[AU-6] an .npy export of one output verifies with its sidecar; one changed float fails naming the shard', async () => {
    const npy = resultsToNpy(results, 'y');
    const sidecar = receiptSidecar(receipt, 'j1-y.npy', 'npy', 'y');
    expect(await verify('j1-y.npy', npy, sidecar)).toMatchObject({ ok: true, shardsChecked: 3 });
    const bad = npy.slice();
    const view = new DataView(bad.buffer, bad.length - 4 * 2); // the last item's two floats: shard 2
    view.setFloat32(0, view.getFloat32(0, true) + 1, true);
    expect((await verify('j1-y.npy', bad, sidecar)).problems).toEqual([
      'shard 2 (item 6): output "y" does not hash to the receipt\'s digest: its values were changed.',
    ]);
  });

  it('[AU-6] a JSON export of answers verifies; a changed word fails naming the shard; CSV of answers says to use the JSON', async () => {
    const ocr = (t: string) => ({
      kind: 'ocr' as const,
      lines: [
        {
          text: t,
          confidence: 0.9,
          box: [
            [0, 0],
            [4, 0],
            [4, 2],
            [0, 2],
          ] as [[number, number], [number, number], [number, number], [number, number]],
        },
      ],
    });
    const shards: VerifiedShard[] = [0, 1].map((index) => ({
      index,
      start: index,
      count: 1,
      outputs: [],
      answers: [ocr(index === 0 ? 'hello' : 'world')],
      volunteers: [peer('v1'), peer('v2')],
      backends: ['wasm', 'wasm'],
    }));
    const signed = (await issueReceipt(identity, { ...JOB, items: 2, shards: 2 }, shards, 5))!;
    const r = { ...assembleResults('j1', 'ocr', 2, shards), receipt: signed };
    const json = text(answersToJsonParts(r));
    expect((await verify('j1-answers.json', json, null)).ok).toBe(true);
    expect((await verify('j1-answers.json', tamper(json, '"world"', '"w0rld"'), null)).problems).toEqual([
      "shard 1 (item 1): its answers do not hash to the receipt's digest: they were changed.",
    ]);
    await expect(verify('j1-answers.csv', text(answersToCsvParts(r)), receiptSidecar(signed, 'j1-answers.csv', 'answers-csv'))).rejects.toThrow(
      /only the JSON export of answers/,
    );
  });
});

/**
 * `s` as two keyed volunteers computed and signed it: the first's outputs are the accepted ones;
 * the second's differ in their last bits, as a tolerance comparator accepts, so it signed
 * another digest. Its adapter is named, as provenance names a WebGPU one.
 */
async function signedByVolunteers(s: VerifiedShard, keys: readonly CoordinatorIdentity[]): Promise<VerifiedShard> {
  const adapters = s.backends.map((b) => (b === 'webgpu' ? 'nvidia hopper' : null));
  const own = (j: number) =>
    j === 0 ? s.outputs : s.outputs.map((t) => (t.dtype === 'float32' ? { ...t, data: new Float32Array(t.data).map((x) => x + 1e-6).buffer } : t));
  const resultDigests = await Promise.all(keys.map((_, j) => resultDigest(own(j), undefined)));
  const resultLeases = keys.map((_, j) => `lease-${s.index}-${j}`);
  const resultSigs = await Promise.all(
    keys.map((k, j) =>
      signResult(k, {
        networkId: JOB.networkId,
        jobId: JOB.jobId,
        shardId: shardIdOf(JOB.jobId as JobId, s.index),
        leaseId: resultLeases[j]!,
        outputDigest: resultDigests[j]!,
        backend: s.backends[j]!,
        adapter: adapters[j]!,
      }),
    ),
  );
  return { ...s, adapters, volunteerKeys: keys.map((k) => k.publicKey), resultSigs, resultLeases, resultDigests } as VerifiedShard;
}

describe('[AU-4] volunteer result signatures in a receipt', () => {
  let volunteers: CoordinatorIdentity[];
  let shards: VerifiedShard[];
  beforeAll(async () => {
    volunteers = await Promise.all([0, 1].map(async () => identityOf(await generateCoordinatorKeyPair())));
    shards = await Promise.all(tensorShards().map((s) => signedByVolunteers(s, volunteers)));
  });

  async function exportOf(signedShards: VerifiedShard[]): Promise<{ receipt: SignedReceipt; json: Uint8Array }> {
    const signed = (await issueReceipt(identity, JOB, signedShards, 1000))!;
    return { receipt: signed, json: text(resultsToJsonParts({ ...assembleResults('j1', 'digits', 7, signedShards), receipt: signed })) };
  }

  it('[AU-2] [AU-4] every volunteer signature verifies offline, also the one over outputs that differ from the accepted ones within tolerance', async () => {
    const { receipt: signed, json } = await exportOf(shards);
    expect(signed.leaves[1]!.volunteers[1]).toMatchObject({ peer: '-w', backend: 'webgpu', lease: 'lease-1-1', adapter: 'nvidia hopper' });
    expect(signed.leaves[1]!.volunteers[1]!.digest).toBe(shards[1]!.resultDigests![1]);
    expect(signed.leaves[1]!.volunteers[1]!.digest).not.toBe(shards[1]!.resultDigests![0]);
    const verdict = await verify('j1-results.json', json, null);
    expect(verdict).toMatchObject({ ok: true, problems: [], shardsChecked: 3, volunteerSignatures: 6 });
    expect(verdictLines(verdict, 'export')).toContain("Its 6 volunteer result signature(s) verify, each by its volunteer's key.");
  });

  it('[AU-4] a volunteer signature altered in the receipt fails, naming the shard and the volunteer', async () => {
    const { json } = await exportOf(shards);
    const doc = JSON.parse(new TextDecoder().decode(json)) as { receipt: SignedReceipt };
    const entry = doc.receipt.leaves[1]!.volunteers[0]!;
    const other = shards[1]!.resultSigs![1]!; // a real signature, by another key over another result
    (entry as { sig?: string }).sig = other;
    const verdict = await verify('j1-results.json', new TextEncoder().encode(JSON.stringify(doc)), null);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toContain(
      "shard 1 (items 3–5): volunteer v1's result signature does not verify: the receipt's entry for it was changed, or that volunteer did not sign this result.",
    );
  });

  it('[AU-4] a receipt its coordinator signed over a volunteer signature that is not the volunteer’s fails, naming the shard and the volunteer', async () => {
    // The leaf hashes into the signed root: only the volunteer's own key can vouch for its entry.
    const forged = shards.map((s) => (s.index === 2 ? { ...s, resultDigests: [s.resultDigests![0]!, 'f'.repeat(64)] } : s));
    const { json } = await exportOf(forged);
    expect((await verify('j1-results.json', json, null)).problems).toEqual([
      "shard 2 (item 6): volunteer -w's result signature does not verify: the receipt's entry for it was changed, or that volunteer did not sign this result.",
    ]);
  });
});
