/** [K-1] [K-4] What client pages show of the coordinator's key. */
import type { KeyAlarm } from '../protocol/coordinatorProof.ts';

/** [K-4] The client roles whose pages warn about a coordinator key they do not trust. */
export type KeyAlarmRole = 'volunteer' | 'requester' | 'network';

/** [K-1] [K-4] The coordinator's key, as this tab knows it. */
export interface KeyTrustView {
  /** The coordinator page's own key fingerprint (what its join links carry as `fp`); null until loaded. */
  readonly coordinatorFingerprint: string | null;
  /** Per client role: the key this tab verified its coordinator by (null until verified). */
  readonly verified: Readonly<Record<KeyAlarmRole, string | null>>;
  /** Per client role: the untrusted key presented under the coordinator's id, while it is a problem. */
  readonly alarms: Readonly<Record<KeyAlarmRole, KeyAlarm | null>>;
}
