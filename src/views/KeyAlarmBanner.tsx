import { trustNewCoordinatorKey } from '../host/keyAlarms.ts';
import { keyAlarmMessage } from '../protocol/coordinatorProof.ts';
import { useQuorumStore } from '../stores/store.ts';
import { type KeyAlarmRole } from '../model/keyTrustView.ts';

/** [K-4] [K-5] The loud warning a client page shows while its coordinator's id holds an untrusted key. */
export function KeyAlarmBanner({ role }: { role: KeyAlarmRole }) {
  const alarm = useQuorumStore((s) => s.keyTrust.alarms[role]);
  const verified = useQuorumStore((s) => s.keyTrust.verified[role]);
  if (alarm === null) {
    return verified !== null ? (
      <p className="muted">
        Coordinator key: <code data-testid="coordinator-key-verified">{verified}</code>
      </p>
    ) : null;
  }
  return (
    <div role="alert" className="badge badge-error key-alarm" data-testid="key-alarm">
      <p>
        <strong>Untrusted coordinator key.</strong> {keyAlarmMessage(alarm)}
      </p>
      <p>
        <button type="button" data-testid="trust-new-key" onClick={() => trustNewCoordinatorKey(alarm)}>
          Trust the new key
        </button>
      </p>
    </div>
  );
}
