/** [AU-4] "Verify receipt": pick an export (and its sidecar) and see whether its receipt holds. */
import { useRef } from 'react';
import { verifyReceiptFiles } from '../host/receiptVerification.ts';
import { useQuorumStore } from '../stores/store.ts';

export function ReceiptVerifier() {
  const check = useQuorumStore((s) => s.requester.receiptCheck);
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="receipt-verifier">
      <button type="button" data-testid="verify-receipt" onClick={() => input.current?.click()}>
        Verify receipt…
      </button>{' '}
      <span className="muted">an export (JSON), or a CSV or .npy export with its .receipt.json</span>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="verify-receipt-files"
        onChange={(e) => {
          const files = [...(e.currentTarget.files ?? [])];
          e.currentTarget.value = '';
          void verifyReceiptFiles(files);
        }}
      />
      {check ? (
        <div data-testid="receipt-verdict" data-state={check.state} className={check.state === 'invalid' ? 'error' : undefined}>
          {check.state === 'checking' ? <p>Checking {check.file}…</p> : check.lines.map((line, i) => <p key={i}>{line}</p>)}
        </div>
      ) : null}
    </div>
  );
}
