/**
 * A client's link to its network's coordinator (used by volunteers, requesters and observers):
 * connects, parses every frame at the boundary, and reconnects with back-off when the
 * coordinator or the signaling server goes away. Requesters and observers take a fresh random
 * peer id for every connection; a volunteer keeps one ([W-17]): the coordinator takes a result
 * only from the peer id its lease was issued to.
 *
 * [K-2] A peer id proves nothing (any page may register it while the coordinator is away), so
 * every connection starts with a challenge: the link sends a fresh nonce, and the coordinator
 * must answer with a signature by the network's key over it and both ends' DTLS fingerprints.
 * Until that proof checks, the link is not open: the role hears nothing (no `open`, no frame,
 * not even a `refused`), and `send` sends nothing.
 */
import type { PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type ToCoordinator } from '../protocol/messages.ts';
import { parseFromCoordinator, type ProtocolError } from '../protocol/parse.ts';
import { TransportError, type Endpoint, type EndpointFactory } from '../transport/transport.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import type { KeyAlarm } from '../protocol/coordinatorProof.ts';
import type { VolunteerProofContext } from '../protocol/volunteerProof.ts';
import type { LinkTrust } from './coordinatorTrust.ts';
import { presenceWaitMs } from '../core/connectionBudget.ts';
import type { Presence } from '../protocol/presence.ts';

const RETRY_MS = [500, 1_000, 2_000, 3_000, 5_000];
/** A connection attempt that has not opened by then is abandoned and retried. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Liveness: ping this often; a coordinator silent for SILENCE_MS is treated as gone. */
const PING_MS = 3_000;
const SILENCE_MS = 12_000;
/**
 * Registrations refused because the stable id is taken before a fresh id is used instead. After a
 * reload or a signaling restart the old registration frees within a second or two; an id that
 * stays taken belongs to another live tab (a duplicated tab copies sessionStorage).
 */
const ID_TAKEN_RETRIES = 4;

export interface LinkHandlers {
  /** [K-2] The coordinator proved its key on this connection: the role may say hello now. */
  open(): void;
  frame(msg: FromCoordinator): void;
  protocolError(error: ProtocolError): void;
  close(): void;
  /** For the page: what the link is doing now, in words. */
  status(state: 'connecting' | 'connected', detail: string): void;
  /** Signaling registered this link under `id` (each time it does, before connecting). */
  registered?(id: PeerId): void;
  /** [K-4] The peer holding the coordinator's id proved a key this client does not trust. */
  untrusted?(alarm: KeyAlarm): void;
  /** [K-4] The coordinator proved the key this client trusts (`firstUse`: just pinned). */
  verified?(fingerprint: string, firstUse: boolean): void;
}

export interface LinkOptions {
  /** [K-2] How the coordinator is authenticated on each connection. */
  readonly trust: LinkTrust;
  /**
   * Keep one peer id for every connection: this one, or (null) the first the signaling server
   * assigns. If it stays taken, the link moves to a fresh id and keeps that. Absent: a fresh
   * random id per connection.
   */
  readonly stableId?: string | null;
}

export class CoordinatorLink {
  private endpoint: Endpoint | null = null;
  private connected = false;
  private stopped = false;
  private attempt = 0;
  /** Events from an endpoint older than the current one are ignored. */
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private lastFrameAt = 0;
  private readonly stable: boolean;
  private stableId: string | null;
  /** Registrations in a row refused because the stable id was taken. */
  private idTaken = 0;
  /** [I-2] What a volunteer signs to prove its own key on the open, proven connection; null otherwise. */
  private keySession: VolunteerProofContext | null = null;
  /** [K-2] The open connection's challenge, until its proof has been checked; null otherwise. */
  private challenge: { readonly nonce: string; checking: boolean } | null = null;
  /** [K-2] Frames the coordinator's id sent before proving its key, ignored (for the status line). */
  private unproven = 0;
  private readonly trust: LinkTrust;
  /** [E-4] Answers in a row that the coordinator is not registered (the wait grows with them). */
  private absentChecks = 0;

  constructor(
    private readonly factory: EndpointFactory,
    private readonly coordinator: PeerId,
    private readonly handlers: LinkHandlers,
    options: LinkOptions,
  ) {
    this.stable = options.stableId !== undefined;
    this.stableId = options.stableId ?? null;
    this.trust = options.trust;
  }

  /** The id this link registers under (volunteers: stable); null before the first registration. */
  peerId(): string | null {
    return this.stableId;
  }

  start(): void {
    void this.dial();
  }

  /**
   * [W-20] The coordinator refused this link's id as another volunteer's: drop the connection and
   * register under a fresh id (kept from then on, as after an id that stays taken). Links without
   * a stable id take a fresh one per connection anyway.
   */
  renewId(why: string): void {
    if (!this.stable || this.stopped) return;
    this.stableId = null;
    this.idTaken = 0;
    this.retry(why);
  }

  /**
   * [I-2] What a volunteer signs on the open connection (the coordinator's nonce, both ids and
   * DTLS fingerprints); null while none is open and proven, or when the coordinator sent no nonce.
   * The same object for the life of one connection, so a signer can tell whether it changed.
   */
  volunteerProofContext(): VolunteerProofContext | null {
    return this.connected ? this.keySession : null;
  }

  send(msg: ToCoordinator): boolean {
    return this.connected && this.endpoint !== null && this.endpoint.send(this.coordinator, msg);
  }

  stop(): void {
    this.stopped = true;
    this.stopPinging();
    if (this.timer) clearTimeout(this.timer);
    this.endpoint?.destroy();
    this.endpoint = null;
  }

  private async dial(): Promise<void> {
    if (this.stopped) return;
    if (!this.endpoint) this.handlers.status('connecting', `connecting to ${this.coordinator}…`);
    try {
      if (!this.endpoint) {
        const gen = ++this.generation;
        const live = (peer: PeerId): boolean => gen === this.generation && peer === this.coordinator;
        const endpoint = await this.factory(this.stable ? this.stableId : null, {
          open: (peer) => {
            if (!live(peer)) return;
            this.challengeCoordinator(gen);
          },
          data: (peer, raw) => {
            if (!live(peer)) return; // only the coordinator speaks to clients
            const parsed = parseFromCoordinator(raw);
            if (!this.connected) {
              // [K-2] Before the proof checks, nothing is acted on: only the proof is read.
              if (parsed.ok && parsed.msg.t === 'proof') this.checkProof(gen, parsed.msg);
              else this.unproven++;
              return;
            }
            this.lastFrameAt = Date.now();
            if (parsed.ok) {
              if (parsed.msg.t !== 'pong' && parsed.msg.t !== 'proof') this.handlers.frame(parsed.msg);
            } else this.handlers.protocolError(parsed.error);
          },
          // [P-8] A big frame still arriving (a model, a job's results) is no silence.
          progress: (peer) => {
            if (live(peer) && this.connected) this.lastFrameAt = Date.now();
          },
          close: (peer) => {
            if (!live(peer)) return;
            const was = this.connected;
            this.connected = false;
            this.challenge = null;
            if (was) this.handlers.close();
            this.retry('connection closed');
          },
          signaling: () => {},
          error: (error: TransportError) => {
            if (gen !== this.generation || this.connected) return;
            if (error.kind === 'peer-unreachable') this.retry('coordinator not online');
            // [E-2] No dial was made: say why (the page must be replaced by a new tab).
            else if (error.kind === 'connection-budget') this.retry(error.message);
          },
        });
        this.endpoint = endpoint;
        if (this.stopped) return endpoint.destroy();
        this.idTaken = 0;
        if (this.stable) this.stableId = endpoint.selfId;
        // Once per registration, not per dial: a link waiting for its coordinator dials again.
        this.handlers.registered?.(endpoint.selfId);
      }
      if (this.stopped) return this.endpoint.destroy();
      // [E-4] Where every dial spends one of the page's few RTCPeerConnections, dial only a
      // coordinator that signaling holds; wait while it is away, however long that is. The link
      // stays registered meanwhile (a signaling socket, no RTCPeerConnection), so a volunteer
      // holds its id and its held-back results come back from storage ([W-15]) during the outage.
      const presence = this.factory.presence;
      if (presence) {
        const gen = this.generation;
        const answer = await presence(this.coordinator);
        if (this.stopped || gen !== this.generation || !this.endpoint) return;
        if (answer.kind === 'absent' || answer.kind === 'slow-down') return this.waitForCoordinator(answer);
      }
      this.absentChecks = 0;
      this.handlers.status('connecting', `connecting to ${this.coordinator}…`);
      this.endpoint.connect(this.coordinator);
      this.timer = setTimeout(() => {
        if (!this.connected) this.retry('connection attempt timed out');
      }, CONNECT_TIMEOUT_MS);
    } catch (e) {
      this.endpoint = null;
      if (e instanceof TransportError && e.kind === 'id-taken' && this.stable && this.stableId !== null) {
        const id = this.stableId;
        if (++this.idTaken > ID_TAKEN_RETRIES) {
          this.idTaken = 0;
          this.stableId = null;
          this.retry(`peer id ${id} stays taken (another tab holds it?); registering under a fresh id`);
        } else {
          this.retry(`peer id ${id} is still taken`);
        }
        return;
      }
      this.retry(errorMessage(e));
    }
  }

  /**
   * [E-4] The coordinator is not registered (or the server asks us to slow down): ask again
   * later, spending no connection meanwhile.
   */
  private waitForCoordinator(answer: Extract<Presence, { kind: 'absent' | 'slow-down' }>): void {
    const delay = presenceWaitMs(this.absentChecks++, answer.kind === 'slow-down' ? answer.retryAfterMs : 0);
    const why =
      answer.kind === 'absent'
        ? `${this.coordinator} is not online; waiting for it (no connection is spent meanwhile)`
        : 'the server asks this page to check less often';
    this.handlers.status('connecting', `${why}; asking again in ${(delay / 1000).toFixed(0)} s`);
    this.timer = setTimeout(() => void this.dial(), delay);
  }

  /** [K-2] The connection is open: challenge the coordinator to prove its key on it. */
  private challengeCoordinator(gen: number): void {
    const endpoint = this.endpoint;
    if (!endpoint || gen !== this.generation) return;
    let nonce: string;
    try {
      nonce = this.trust.nonce();
    } catch (e) {
      this.retry(errorMessage(e));
      return;
    }
    this.challenge = { nonce, checking: false };
    this.unproven = 0;
    this.handlers.status('connecting', `checking the key of ${this.coordinator}…`);
    if (!endpoint.send(this.coordinator, { v: PROTOCOL_VERSION, t: 'challenge', nonce })) this.retry('the connection closed before the challenge was sent');
    // The connect timer keeps running: a coordinator that never proves its key is dropped by it.
  }

  /** [K-2] [K-4] Checks the coordinator's proof; the link opens only if it holds and the key is trusted. */
  private checkProof(gen: number, proof: { readonly key: string; readonly sig: string; readonly nonce?: string | undefined }): void {
    const challenge = this.challenge;
    const endpoint = this.endpoint;
    // One proof per challenge: a second one while the first is checked is ignored.
    if (!challenge || challenge.checking || !endpoint) return;
    challenge.checking = true;
    const fps = endpoint.dtlsFingerprints(this.coordinator);
    if (fps === null) {
      this.retry('the connection has no DTLS fingerprints to check the coordinator against');
      return;
    }
    void this.trust
      .check(proof, challenge.nonce, { coordinator: fps.remote, client: fps.local })
      .catch((e: unknown) => ({ ok: false as const, kind: 'bad-proof' as const, reason: `checking the coordinator's key failed: ${errorMessage(e)}` }))
      .then((verdict) => {
        if (gen !== this.generation || this.challenge !== challenge || this.stopped) return;
        this.challenge = null;
        if (!verdict.ok) {
          if (verdict.kind === 'untrusted-key') {
            this.handlers.untrusted?.(verdict.alarm);
            this.retry(`the peer at ${this.coordinator} is not the coordinator this page trusts (key ${verdict.alarm.seen}); nothing was sent to it`);
          } else this.retry(verdict.reason);
          return;
        }
        this.connected = true;
        this.attempt = 0;
        // [I-2] The coordinator's nonce, bound to this connection as its proof was.
        this.keySession =
          proof.nonce !== undefined
            ? { networkId: this.trust.networkId, nonce: proof.nonce, peerId: endpoint.selfId, dtls: { coordinator: fps.remote, client: fps.local } }
            : null;
        if (this.timer) clearTimeout(this.timer);
        this.startPinging();
        this.handlers.verified?.(verdict.fingerprint, verdict.firstUse);
        this.handlers.status('connected', `connected to ${this.coordinator} (key ${verdict.fingerprint})`);
        this.handlers.open();
      });
  }

  private startPinging(): void {
    this.stopPinging();
    this.lastFrameAt = Date.now();
    this.pinger = setInterval(() => {
      if (!this.connected) return;
      if (Date.now() - this.lastFrameAt > SILENCE_MS) {
        this.connected = false;
        this.handlers.close();
        this.retry('the coordinator went silent');
        return;
      }
      this.send({ v: PROTOCOL_VERSION, t: 'ping' });
    }, PING_MS);
  }

  private stopPinging(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
  }

  private retry(why: string): void {
    if (this.stopped) return;
    this.challenge = null;
    this.keySession = null;
    if (this.unproven > 0) why += ` (${this.unproven} frame(s) sent before a proof were ignored)`;
    this.unproven = 0;
    this.stopPinging();
    if (this.timer) clearTimeout(this.timer);
    const delay = RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)] ?? 5_000;
    this.handlers.status('connecting', `${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    // A fresh endpoint each time: after a coordinator reload the old one may hold stale state.
    this.generation++;
    const old = this.endpoint;
    this.endpoint = null;
    this.connected = false;
    old?.destroy();
    this.timer = setTimeout(() => void this.dial(), delay);
  }
}
