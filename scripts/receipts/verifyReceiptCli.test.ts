import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCoordinatorKeyPair, identityOf, type CoordinatorIdentity } from '../../src/host/coordinatorKey.ts';
import { issueReceipt } from '../../src/host/receiptSigner.ts';
import type { PeerId } from '../../src/protocol/ids.ts';
import type { VerifiedShard } from '../../src/protocol/messages.ts';
import { DEFAULT_POLICY } from '../../src/protocol/policy.ts';
import { assembleResults, type AssembledResults } from '../../src/workloads/export/assemble.ts';
import { resultsToCsvParts, resultsToJsonParts } from '../../src/workloads/export/exporters.ts';
import { receiptSidecar } from '../../src/workloads/export/receiptExport.ts';
import { verifyReceiptCli } from './verifyReceiptCli.ts';

const shards: VerifiedShard[] = [0, 1, 2].map((index) => ({
  index,
  start: index * 2,
  count: 2,
  outputs: [{ name: 'logits', dtype: 'float32', dims: [2, 3], data: new Float32Array(6).map((_, i) => index + i / 4).buffer }],
  volunteers: ['a' as PeerId, 'b' as PeerId],
  backends: ['wasm', 'node-cpu'],
}));

let dir: string;
let identity: CoordinatorIdentity;
let results: AssembledResults;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'receipt-cli-'));
  identity = await identityOf(await generateCoordinatorKeyPair());
  const job = { networkId: 'net', jobId: 'job7', jobName: 'mnist', modelHash: 'c'.repeat(64), policy: DEFAULT_POLICY, items: 6, shards: 3, complete: true };
  const receipt = (await issueReceipt(identity, job, shards, 0))!;
  results = { ...assembleResults('job7', 'mnist', 6, shards), receipt };
  fs.writeFileSync(path.join(dir, 'job7-results.json'), [...resultsToJsonParts(results)].join(''));
  fs.writeFileSync(path.join(dir, 'job7-results.csv'), [...resultsToCsvParts(results)].join(''));
  fs.writeFileSync(path.join(dir, 'job7-results.csv.receipt.json'), receiptSidecar(receipt, 'job7-results.csv', 'results-csv'));
});

const file = (name: string): string => path.join(dir, name);
function tampered(name: string, from: string, to: string): string {
  const text = fs.readFileSync(file(name), 'utf8');
  expect(text).toContain(from);
  const out = file(`tampered-${name}`);
  fs.writeFileSync(out, text.replace(from, to));
  return out;
}

describe('[AU-4] npm run verify-receipt', () => {
  it('[AU-4] a JSON export verifies against --fp; one changed number fails naming the shard; another --fp fails', async () => {
    const ok = await verifyReceiptCli([file('job7-results.json'), '--fp', identity.fingerprint]);
    expect(ok.code).toBe(0);
    expect(ok.lines[0]).toBe(
      `The receipt verifies: job job7, 3 shard(s) of this JSON results hash into the signed root, signed by the trusted coordinator key ${identity.fingerprint}.`,
    );
    expect(JSON.parse(ok.lines.at(-1)!)).toEqual({
      ok: true,
      jobId: 'job7',
      shards: 3,
      fingerprint: identity.fingerprint,
      fingerprintChecked: true,
      problems: 0,
    });

    const bad = await verifyReceiptCli([tampered('job7-results.json', '[2,2.25,2.5]', '[2,2.25,2.6]'), '--fp', identity.fingerprint]);
    expect(bad.code).toBe(1);
    expect(bad.lines.slice(0, 2)).toEqual([
      'The receipt does NOT verify for this JSON results:',
      'shard 2 (items 4–5): output "logits" does not hash to the receipt\'s digest: its values were changed.',
    ]);

    const other = await identityOf(await generateCoordinatorKeyPair());
    const wrongKey = await verifyReceiptCli([file('job7-results.json'), '--fp', other.fingerprint]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.lines[1]).toMatch(/^the receipt is signed by key .*, not by the trusted coordinator key/);
  });

  it('[AU-6] a CSV export is checked with the sidecar beside it; without one it says where to put it', async () => {
    expect((await verifyReceiptCli([file('job7-results.csv'), '--fp', identity.fingerprint])).code).toBe(0);
    const bad = tampered('job7-results.csv', ',1,1.25,', ',1,1.5,');
    const outcome = await verifyReceiptCli([bad, '--receipt', file('job7-results.csv.receipt.json'), '--fp', identity.fingerprint]);
    expect(outcome.lines[1]).toBe('shard 1 (items 2–3): output "logits" does not hash to the receipt\'s digest: its values were changed.');
    const alone = await verifyReceiptCli([bad]);
    expect(alone).toEqual({
      code: 2,
      lines: [expect.stringMatching(/needs its receipt: put .*tampered-job7-results.csv.receipt.json beside it \(or name it with --receipt\)/)],
    });
    expect((await verifyReceiptCli([file('job7-results.json'), '--fp', 'nope'])).code).toBe(2);
  });

  it('[AU-4] the npm script runs it: exit 0 for a good export, 1 for a tampered one', async () => {
    const run = promisify(execFile);
    const good = await run('npm', ['run', '--silent', 'verify-receipt', '--', file('job7-results.json'), '--fp', identity.fingerprint]);
    expect(good.stdout).toMatch(/^The receipt verifies: job job7/);
    const bad = tampered('job7-results.json', '[0,0.25,0.5]', '[0,0.25,0.75]');
    await expect(run('npm', ['run', '--silent', 'verify-receipt', '--', bad])).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('shard 0 (items 0–1)'),
    });
  });
});
