/**
 * A client's link to its network's coordinator (used by volunteers, requesters and observers):
 * connects, parses every frame at the boundary, and reconnects with back-off when the
 * coordinator or the signaling server goes away. Requesters and observers take a fresh random
 * peer id for every connection; a volunteer keeps one ([W-17]): the coordinator takes a result
 * only from the peer id its lease was issued to.
 */
import type { PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type ToCoordinator } from '../protocol/messages.ts';
import { parseFromCoordinator, type ProtocolError } from '../protocol/parse.ts';
import { TransportError, type Endpoint, type EndpointFactory } from '../transport/transport.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

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
  open(): void;
  frame(msg: FromCoordinator): void;
  protocolError(error: ProtocolError): void;
  close(): void;
  /** For the page: what the link is doing now, in words. */
  status(state: 'connecting' | 'connected', detail: string): void;
  /** Signaling registered this link under `id` (each time it does, before connecting). */
  registered?(id: PeerId): void;
}

export interface LinkOptions {
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

  constructor(
    private readonly factory: EndpointFactory,
    private readonly coordinator: PeerId,
    private readonly handlers: LinkHandlers,
    options: LinkOptions = {},
  ) {
    this.stable = options.stableId !== undefined;
    this.stableId = options.stableId ?? null;
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
    this.handlers.status('connecting', `connecting to ${this.coordinator}…`);
    try {
      if (!this.endpoint) {
        const gen = ++this.generation;
        const live = (peer: PeerId): boolean => gen === this.generation && peer === this.coordinator;
        this.endpoint = await this.factory(this.stable ? this.stableId : null, {
          open: (peer) => {
            if (!live(peer)) return;
            this.connected = true;
            this.attempt = 0;
            if (this.timer) clearTimeout(this.timer);
            this.startPinging();
            this.handlers.status('connected', `connected to ${this.coordinator}`);
            this.handlers.open();
          },
          data: (peer, raw) => {
            if (!live(peer)) return; // only the coordinator speaks to clients
            this.lastFrameAt = Date.now();
            const parsed = parseFromCoordinator(raw);
            if (parsed.ok) {
              if (parsed.msg.t !== 'pong') this.handlers.frame(parsed.msg);
            } else this.handlers.protocolError(parsed.error);
          },
          close: (peer) => {
            if (!live(peer)) return;
            const was = this.connected;
            this.connected = false;
            if (was) this.handlers.close();
            this.retry('connection closed');
          },
          signaling: () => {},
          error: (error: TransportError) => {
            if (gen === this.generation && !this.connected && error.kind === 'peer-unreachable') this.retry('coordinator not online');
          },
        });
      }
      if (this.stopped) return this.endpoint.destroy();
      this.idTaken = 0;
      if (this.stable) this.stableId = this.endpoint.selfId;
      this.handlers.registered?.(this.endpoint.selfId);
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
