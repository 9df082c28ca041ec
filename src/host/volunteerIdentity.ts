/**
 * [W-17] A volunteer tab's peer id and the coordinator's resume token for it, per network, in
 * sessionStorage: a reload of the tab keeps them (so results held back across the reload are
 * still this tab's to deliver), while every other tab and browser has its own. A duplicated tab
 * copies sessionStorage; its link finds the id taken and moves to a fresh one.
 */
import { isSafeId } from '../protocol/ids.ts';

export interface VolunteerIdentity {
  readonly peerId: string;
  /** From the coordinator's first welcome for this id; null until then. */
  readonly token: string | null;
}

export interface IdentityStorage {
  load(): VolunteerIdentity | null;
  save(identity: VolunteerIdentity): void;
}

const keyOf = (networkId: string): string => `quorum.volunteer.${networkId}`;

/** Reads what is stored defensively: it is as untrusted as anything else that outlives a page. */
export function parseIdentity(raw: string | null): VolunteerIdentity | null {
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as { peerId?: unknown; token?: unknown } | null;
    if (!v || typeof v.peerId !== 'string' || !isSafeId(v.peerId)) return null;
    const token = typeof v.token === 'string' && v.token.length > 0 && v.token.length <= 128 ? v.token : null;
    return { peerId: v.peerId, token };
  } catch {
    return null;
  }
}

/** sessionStorage, or nothing where the page may not use it (the tab then gets a fresh id per load). */
export function sessionIdentityStorage(networkId: string): IdentityStorage {
  const storage = (): Storage | null => {
    try {
      return globalThis.sessionStorage ?? null;
    } catch {
      return null;
    }
  };
  return {
    load: () => {
      try {
        return parseIdentity(storage()?.getItem(keyOf(networkId)) ?? null);
      } catch {
        return null;
      }
    },
    save: (identity) => {
      try {
        storage()?.setItem(keyOf(networkId), JSON.stringify(identity));
      } catch {
        // Full or forbidden: the id still holds for this page's life.
      }
    },
  };
}
