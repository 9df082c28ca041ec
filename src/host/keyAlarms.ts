/**
 * [K-4] [K-5] What the pages show about the coordinator's key, and the one thing a person may do
 * about an alarm: trust the new key. Each client role registers the CoordinatorTrust its link
 * uses; the view only calls `trustNewCoordinatorKey`.
 */
import type { KeyAlarm } from '../protocol/coordinatorProof.ts';
import { patch, type KeyAlarmRole } from '../stores/store.ts';
import type { CoordinatorTrust } from './coordinatorTrust.ts';
import type { LinkHandlers } from './coordinatorLink.ts';

const trusts = new Map<KeyAlarmRole, CoordinatorTrust>();

function setAlarm(role: KeyAlarmRole, alarm: KeyAlarm | null): void {
  patch('keyTrust', (prev) => ({ alarms: { ...prev.alarms, [role]: alarm } }));
}

/** The link handlers that put a role's key alarms and verified key on its page. */
export function keyTrustHandlers(role: KeyAlarmRole, trust: CoordinatorTrust): Pick<LinkHandlers, 'untrusted' | 'verified'> {
  trusts.set(role, trust);
  return {
    untrusted: (alarm) => setAlarm(role, alarm),
    verified: (fingerprint) => {
      setAlarm(role, null);
      patch('keyTrust', (prev) => ({ verified: { ...prev.verified, [role]: fingerprint } }));
    },
  };
}

/**
 * [K-5] The "Trust the new key" button: pins the key the alarm names for its network, in every
 * role of this tab that watches that network. The links reconnect on their own (within their
 * back-off, at most 5 s) and then accept it.
 */
export function trustNewCoordinatorKey(alarm: KeyAlarm): void {
  for (const [role, trust] of trusts) {
    if (trust.networkId !== alarm.networkId) continue;
    trust.accept(alarm.seen);
    setAlarm(role, null);
  }
}
