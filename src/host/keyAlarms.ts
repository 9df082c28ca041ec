/**
 * [K-4] [K-5] What the pages show about the coordinator's key, and the one thing a person may do
 * about an alarm: trust the new key. Each client role registers the CoordinatorTrust its link
 * uses; the view only calls `trustNewCoordinatorKey`.
 */
import type { KeyAlarm } from '../protocol/coordinatorProof.ts';
import type { KeyAlarmRole, KeyTrustView } from '../model/keyTrustView.ts';
import type { ViewPort } from '../model/viewPort.ts';
import type { CoordinatorTrust } from './coordinatorTrust.ts';
import type { LinkHandlers } from './coordinatorLink.ts';

/** Per role: the trust its link uses, and where its page shows the key. */
const trusts = new Map<KeyAlarmRole, { readonly trust: CoordinatorTrust; readonly view: ViewPort<KeyTrustView> }>();

function setAlarm(view: ViewPort<KeyTrustView>, role: KeyAlarmRole, alarm: KeyAlarm | null): void {
  view.patch((prev) => ({ alarms: { ...prev.alarms, [role]: alarm } }));
}

/** The link handlers that put a role's key alarms and verified key on its page. */
export function keyTrustHandlers(role: KeyAlarmRole, trust: CoordinatorTrust, view: ViewPort<KeyTrustView>): Pick<LinkHandlers, 'untrusted' | 'verified'> {
  trusts.set(role, { trust, view });
  return {
    untrusted: (alarm) => setAlarm(view, role, alarm),
    verified: (fingerprint) => {
      setAlarm(view, role, null);
      view.patch((prev) => ({ verified: { ...prev.verified, [role]: fingerprint } }));
    },
  };
}

/**
 * [K-5] The "Trust the new key" button: pins the key the alarm names for its network, in every
 * role of this tab that watches that network. The links reconnect on their own (within their
 * back-off, at most 5 s) and then accept it.
 */
export function trustNewCoordinatorKey(alarm: KeyAlarm): void {
  for (const [role, { trust, view }] of trusts) {
    if (trust.networkId !== alarm.networkId) continue;
    trust.accept(alarm.seen);
    setAlarm(view, role, null);
  }
}
