/**
 * [AU-4] `npm run verify-receipt -- <export> [--receipt <file>] [--fp <fingerprint>]`: checks an
 * export's receipt offline — every shard's outputs hash into the signed root, the coordinator's
 * signature verifies, and (with `--fp`, the join link's `fp`) the key is the network's. A CSV,
 * text or `.npy` export needs its sidecar: `<export>.receipt.json` beside it, or `--receipt`.
 */
import fs from 'node:fs';
import { isKeyFingerprint } from '../../src/protocol/coordinatorProof.ts';
import { errorMessage } from '../../src/protocol/errorMessage.ts';
import { verdictLines, verifyReceipt } from '../../src/host/receiptSigner.ts';
import { readExportForReceipt, sidecarName } from '../../src/workloads/export/receiptExport.ts';

export const USAGE = 'usage: npm run verify-receipt -- <export.json|.csv|.txt|.npy> [--receipt <export>.receipt.json] [--fp <coordinator key fingerprint>]';

export interface CliOutcome {
  /** 0: the receipt verifies; 1: it does not; 2: the files could not be read (or bad arguments). */
  readonly code: 0 | 1 | 2;
  readonly lines: readonly string[];
}

export async function verifyReceiptCli(argv: readonly string[]): Promise<CliOutcome> {
  const positional: string[] = [];
  let receiptPath: string | null = null;
  let fp: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--receipt') receiptPath = argv[++i] ?? '';
    else if (a === '--fp') fp = argv[++i] ?? '';
    else if (a.startsWith('--')) return { code: 2, lines: [`unknown option ${a}`, USAGE] };
    else positional.push(a);
  }
  const file = positional[0];
  if (file === undefined || positional.length > 1) return { code: 2, lines: [USAGE] };
  if (fp !== null && !isKeyFingerprint(fp))
    return { code: 2, lines: [`--fp "${fp}" is not a key fingerprint (43 base64url characters, as a join link's fp=).`] };
  try {
    const bytes = fs.readFileSync(file);
    const side = receiptPath ?? sidecarName(file);
    const sidecar = receiptPath !== null || fs.existsSync(side) ? fs.readFileSync(side, 'utf8') : null;
    const read = readExportForReceipt(file, bytes, sidecar);
    const verdict = await verifyReceipt(read.receipt, read.exported, fp);
    const summary = JSON.stringify({
      ok: verdict.ok,
      jobId: verdict.jobId,
      shards: verdict.shardsChecked,
      fingerprint: verdict.fingerprint,
      fingerprintChecked: verdict.fingerprintChecked,
      problems: verdict.problems.length,
    });
    return { code: verdict.ok ? 0 : 1, lines: [...verdictLines(verdict, read.what), summary] };
  } catch (e) {
    return { code: 2, lines: [`cannot check ${file}: ${errorMessage(e)}`] };
  }
}
