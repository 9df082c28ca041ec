/**
 * [AU-4] [AU-6] The dashboard's "Verify receipt": the person picks an export (and, for CSV,
 * text or `.npy`, its `.receipt.json` sidecar); the page checks it offline against the key this
 * browser trusts for the network (the join link's `fp`, else its pin) and says what it found.
 * The same check as `npm run verify-receipt`.
 */
import { errorMessage } from '../protocol/errorMessage.ts';
import { ui } from './uiPorts.ts';
import { readExportForReceipt } from '../workloads/export/receiptExport.ts';
import { localPinStore } from './coordinatorTrust.ts';
import { pageLinkFingerprint } from './pageTrust.ts';
import { verdictLines, verifyReceipt } from './receiptSigner.ts';

/** Checks the chosen files and shows the verdict on the page. */
export async function verifyReceiptFiles(files: readonly File[]): Promise<void> {
  const main = files.find((f) => !/\.receipt\.json$/i.test(f.name));
  const sidecar = files.find((f) => /\.receipt\.json$/i.test(f.name));
  if (!main) {
    ui().requester.patch({
      receiptCheck: {
        state: 'invalid',
        file: sidecar?.name ?? '',
        lines: ['Choose the exported file itself too (with its .receipt.json beside it for CSV, text or .npy).'],
      },
    });
    return;
  }
  ui().requester.patch({ receiptCheck: { state: 'checking', file: main.name, lines: [] } });
  try {
    const read = readExportForReceipt(main.name, new Uint8Array(await main.arrayBuffer()), sidecar ? await sidecar.text() : null);
    const networkId = ui().requester.get().networkId;
    const trusted = pageLinkFingerprint() ?? localPinStore().get(networkId);
    const verdict = await verifyReceipt(read.receipt, read.exported, trusted);
    ui().requester.patch({ receiptCheck: { state: verdict.ok ? 'valid' : 'invalid', file: main.name, lines: verdictLines(verdict, read.what) } });
  } catch (e) {
    ui().requester.patch({ receiptCheck: { state: 'invalid', file: main.name, lines: [errorMessage(e)] } });
  }
}
