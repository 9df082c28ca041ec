/**
 * [K-2] [K-4] A client's side of the coordinator proof: fresh nonces, checking a `proof`
 * against this connection, and the pins (which key this browser trusts for each network). The
 * decisions are pure (protocol/coordinatorProof.ts); this file holds the WebCrypto calls, the
 * CSPRNG and the storage.
 */
import { judgePin, type ConnectionFingerprints, type KeyAlarm } from '../protocol/coordinatorProof.ts';
import { NONCE_BYTES } from '../protocol/keySchemas.ts';
import { keyFingerprint, toBase64Url, verifyProof } from './coordinatorKey.ts';

/** Where a client keeps the key fingerprint it trusts for each network. */
export interface PinStore {
  get(networkId: string): string | null;
  set(networkId: string, fingerprint: string): void;
}

const PIN_PREFIX = 'quorum.coordinatorKey.';

/**
 * [K-4] Pins in localStorage, shared by every tab of the origin (a pin is about the network, not
 * the tab). Without localStorage (blocked by the browser) pins live in memory: trust on first use
 * then lasts as long as the page.
 */
export function localPinStore(storage: Pick<Storage, 'getItem' | 'setItem'> | null = browserStorage()): PinStore {
  const memory = new Map<string, string>();
  return {
    get(networkId) {
      try {
        if (storage) return storage.getItem(PIN_PREFIX + networkId);
      } catch {
        // fall through to the memory copy
      }
      return memory.get(networkId) ?? null;
    },
    set(networkId, fingerprint) {
      memory.set(networkId, fingerprint);
      try {
        storage?.setItem(PIN_PREFIX + networkId, fingerprint);
      } catch {
        // A full or blocked storage keeps the pin for this page only.
      }
    },
  };
}

function browserStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** [K-2] A fresh nonce of 128 bits from the platform's CSPRNG, base64url. Never a seeded Rng. */
export function cryptoNonce(): string {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (!c?.getRandomValues) throw new Error('this browser has no crypto.getRandomValues to make nonces with: use a current browser.');
  return toBase64Url(c.getRandomValues(new Uint8Array(NONCE_BYTES)));
}

export type ProofCheck =
  | { readonly ok: true; readonly fingerprint: string; readonly firstUse: boolean }
  /** The signature does not check for this connection: a relay in the middle, a replay, a broken coordinator. */
  | { readonly ok: false; readonly kind: 'bad-proof'; readonly reason: string }
  /** A valid proof by a key this client does not trust. */
  | { readonly ok: false; readonly kind: 'untrusted-key'; readonly alarm: KeyAlarm };

/** What a CoordinatorLink needs to authenticate the coordinator on each connection. */
export interface LinkTrust {
  readonly networkId: string;
  /** A fresh nonce for one connection's challenge. */
  nonce(): string;
  /** Checks a proof for this connection; pins a key it trusts on first use. */
  check(proof: { readonly key: string; readonly sig: string }, nonce: string, dtls: ConnectionFingerprints): Promise<ProofCheck>;
}

export interface CoordinatorTrustOptions {
  readonly networkId: string;
  /** [K-1] The `fp` of the join link this page was opened with, if any. */
  readonly linkFingerprint: string | null;
  readonly pins: PinStore;
  readonly newNonce?: () => string;
}

/** [K-2] [K-4] The client's trust in its network's coordinator key. */
export class CoordinatorTrust implements LinkTrust {
  readonly networkId: string;
  private linkFingerprint: string | null;
  private readonly newNonce: () => string;

  constructor(private readonly options: CoordinatorTrustOptions) {
    this.networkId = options.networkId;
    this.linkFingerprint = options.linkFingerprint;
    this.newNonce = options.newNonce ?? cryptoNonce;
  }

  nonce(): string {
    return this.newNonce();
  }

  async check(proof: { readonly key: string; readonly sig: string }, nonce: string, dtls: ConnectionFingerprints): Promise<ProofCheck> {
    // The signature first: a proof that does not check is no evidence of any key, so it must
    // not raise a "new key" alarm a person might be tempted to accept.
    if (!(await verifyProof(proof.key, proof.sig, { networkId: this.networkId, nonce, dtls }))) {
      return {
        ok: false,
        kind: 'bad-proof',
        reason: "the coordinator's proof of its key does not check for this connection (a relay in the middle, or a broken coordinator)",
      };
    }
    const seen = await keyFingerprint(proof.key);
    const verdict = judgePin({ linkFingerprint: this.linkFingerprint, pinnedFingerprint: this.options.pins.get(this.networkId) }, seen);
    if (!verdict.ok)
      return { ok: false, kind: 'untrusted-key', alarm: { networkId: this.networkId, expected: verdict.expected, seen, source: verdict.source } };
    if (this.options.pins.get(this.networkId) !== verdict.pin) this.options.pins.set(this.networkId, verdict.pin);
    return { ok: true, fingerprint: seen, firstUse: verdict.firstUse };
  }

  /**
   * [K-5] A person chose to trust `fingerprint` (the "Trust the new key" button): it is pinned,
   * and replaces the join link's expectation for the rest of this page's life.
   */
  accept(fingerprint: string): void {
    this.linkFingerprint = null;
    this.options.pins.set(this.networkId, fingerprint);
  }
}
