/**
 * The signaling server's budgets (server/config.ts SIGNALING_LIMITS, README "Signaling limits"),
 * kept in front of peer's PeerServer, which has none of its own but a global id count:
 *
 *   before the WebSocket upgrade   Origin (403) and new connections per address (429);
 *   after it, before peer sees it  id and token grammar, ids per address (an ERROR message, closed);
 *   every message, before peer     messages/s and bytes/s per socket, well-formed JSON, and a share
 *                                  of the queue for ids that are not connected.
 * [K-8] A socket registered under a coordinator id with a live [K-7] ticket has the coordinator's
 * larger messages/s and bytes/s instead, one budget per id, shared by every socket of that id.
 * (The size of one message is ws's `maxPayload`, set where the WebSocket server is made.)
 *
 * A client over a budget is refused or dropped with a reason, counted in `stats()` and logged at
 * most once per reason every LOG_INTERVAL_MS, so a flood cannot turn into a flood of log lines.
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { isSafeId } from '../src/protocol/ids.ts';
import { addressKey } from './clientAddress.ts';
import type { SignalingLimits } from './config.ts';
import { originAllowed } from './origin.ts';
import { createTokenBucket, type TokenBucket } from './tokenBucket.ts';

const LOG_INTERVAL_MS = 10_000;
/** Message types peer relays or handles; anything else it would ignore, so we drop it first. */
const KNOWN_TYPES = new Set(['HEARTBEAT', 'OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE', 'EXPIRE']);
/** The types peer queues when their destination is not connected (it drops LEAVE and EXPIRE). */
const QUEUED_TYPES = new Set(['OFFER', 'ANSWER', 'CANDIDATE']);
/** WebSocket close code for a policy violation. */
const POLICY_VIOLATION = 1008;

export interface SignalingStats {
  /** Connections refused before peer saw them, by reason. */
  refusedConnections: Record<string, number>;
  /** Open sockets closed for going over a budget, by reason. */
  droppedSockets: Record<string, number>;
  /** Single messages not relayed, by reason (the socket stays open). */
  refusedMessages: Record<string, number>;
}

export interface SignalingGuardOptions {
  limits: SignalingLimits;
  allowedOrigins?: readonly string[];
  now?: () => number;
  log?: (line: string) => void;
}

export interface SignalingGuard {
  /** Before the upgrade: null to go on, or the HTTP status and reason to refuse it with. */
  checkUpgrade(req: IncomingMessage): { status: number; reason: string } | null;
  /**
   * After the upgrade, before peer sees the socket: null when peer may have it (its messages then
   * pass the gate), or the reason to send in an ERROR message before closing it. `claimed`: [K-8]
   * the registration names a coordinator id and carries a live [K-7] ticket for it.
   */
  admit(ws: WebSocket, req: IncomingMessage, claimed?: boolean): string | null;
  /** peer's 'connection' and 'disconnect': which ids are connected (others' messages are queued). */
  connected(id: string): void;
  disconnected(id: string): void;
  /** [E-4] Whether `id` is registered now (peer said 'connection' and not yet 'disconnect'). */
  registered(id: string): boolean;
  /** Logs an error from peer or ws, throttled like every other reason. */
  error(err: Error): void;
  stats(): SignalingStats;
}

interface AddressState {
  sockets: number;
  connects: TokenBucket;
  queuedBytes: number;
  queuedMessages: number;
}

interface Budget {
  messages: TokenBucket;
  bytes: TokenBucket;
  messagesPerSecond: number;
  bytesPerSecond: number;
}

/** [K-8] One claimed coordinator id's budget, and how many of its sockets are open. */
interface CoordinatorBudget {
  budget: Budget;
  sockets: number;
}

interface QueuedCharge {
  expiresAt: number;
  bytes: number;
  address: AddressState;
}

function count(record: Record<string, number>, reason: string): void {
  record[reason] = (record[reason] ?? 0) + 1;
}

export function createSignalingGuard(options: SignalingGuardOptions): SignalingGuard {
  const { limits } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.warn(line));
  const allowedOrigins = options.allowedOrigins ?? [];
  const stats: SignalingStats = { refusedConnections: {}, droppedSockets: {}, refusedMessages: {} };
  const addresses = new Map<string, AddressState>();
  const coordinators = new Map<string, CoordinatorBudget>();
  const live = new Set<string>();
  // Every queued message lives at most until peer's next expiry sweep after expireTimeoutMs; all
  // charges have that same lifetime, so this list is in expiry order.
  const queueLifetimeMs = limits.expireTimeoutMs + limits.cleanupIntervalMs;
  const charges: QueuedCharge[] = [];
  let queuedBytesTotal = 0;
  let queuedMessagesTotal = 0;
  let upgradesSinceSweep = 0;

  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  const note = (what: string, detail: string): void => {
    const t = now();
    const last = lastLogged.get(what);
    if (last && t - last.at < LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const more = last && last.suppressed > 0 ? ` (and ${last.suppressed} more since the last report)` : '';
    lastLogged.set(what, { at: t, suppressed: 0 });
    log(`[signaling] ${what}: ${detail}${more}`);
  };

  const stateOf = (key: string): AddressState => {
    let s = addresses.get(key);
    if (!s) {
      s = { sockets: 0, connects: createTokenBucket(limits.connectBurst, limits.connectsPerMinute / 60, now), queuedBytes: 0, queuedMessages: 0 };
      addresses.set(key, s);
    }
    return s;
  };

  /** Forgets addresses that hold nothing, so that many one-off clients do not grow the map. */
  const sweep = (): void => {
    for (const [key, s] of addresses) {
      if (s.sockets === 0 && s.queuedMessages === 0 && s.connects.full()) addresses.delete(key);
    }
  };

  const socketBudget = (): Budget => ({
    messages: createTokenBucket(limits.messageBurst, limits.messagesPerSecond, now),
    bytes: createTokenBucket(limits.byteBurst, limits.bytesPerSecond, now),
    messagesPerSecond: limits.messagesPerSecond,
    bytesPerSecond: limits.bytesPerSecond,
  });

  /**
   * [K-8] The budget of claimed coordinator id `id`, held while any of its sockets is open. It is
   * kept after the last one closes until it has refilled, so that reconnecting (peerjs re-registers
   * with the same ticket, and peer lets a second socket in under the same id and token) never
   * buys a fresh burst: one claimed id has one budget.
   */
  const coordinatorBudget = (id: string, ws: WebSocket): Budget => {
    for (const [key, c] of coordinators) {
      if (c.sockets === 0 && c.budget.messages.full() && c.budget.bytes.full()) coordinators.delete(key);
    }
    let c = coordinators.get(id);
    if (!c) {
      c = {
        budget: {
          messages: createTokenBucket(limits.coordinatorMessageBurst, limits.coordinatorMessagesPerSecond, now),
          bytes: createTokenBucket(limits.coordinatorByteBurst, limits.coordinatorBytesPerSecond, now),
          messagesPerSecond: limits.coordinatorMessagesPerSecond,
          bytesPerSecond: limits.coordinatorBytesPerSecond,
        },
        sockets: 0,
      };
      coordinators.set(id, c);
    }
    const held = c;
    held.sockets++;
    ws.once('close', () => held.sockets--);
    return held.budget;
  };

  const expireCharges = (): void => {
    const t = now();
    while (charges.length > 0 && (charges[0]?.expiresAt ?? Infinity) <= t) {
      const c = charges.shift();
      if (!c) break;
      c.address.queuedBytes -= c.bytes;
      c.address.queuedMessages--;
      queuedBytesTotal -= c.bytes;
      queuedMessagesTotal--;
    }
  };

  /** Charges a message for an absent id to its sender's address; the reason when it may not be queued. */
  const chargeQueue = (address: AddressState, bytes: number): string | null => {
    expireCharges();
    if (address.queuedMessages + 1 > limits.maxQueuedMessagesPerAddress || address.queuedBytes + bytes > limits.maxQueuedBytesPerAddress) {
      return 'queue full (address)';
    }
    if (queuedBytesTotal + bytes > limits.maxQueuedBytesTotal || queuedMessagesTotal + 1 > limits.maxQueuedMessagesTotal) return 'queue full (server)';
    address.queuedBytes += bytes;
    address.queuedMessages++;
    queuedBytesTotal += bytes;
    queuedMessagesTotal++;
    charges.push({ expiresAt: now() + queueLifetimeMs, bytes, address });
    return null;
  };

  const drop = (ws: WebSocket, key: string, id: string, reason: string, message: string): void => {
    count(stats.droppedSockets, reason);
    note(`dropped (${reason})`, `${id} from ${key}`);
    if (ws.readyState === ws.OPEN) {
      ws.send(JSON.stringify({ type: 'ERROR', payload: { msg: message } }));
      ws.close(POLICY_VIOLATION, reason);
    }
  };

  /** What to do with one incoming message: relay it (true) or not (false). */
  const inspect = (ws: WebSocket, key: string, address: AddressState, id: string, budget: Budget, data: RawData): boolean => {
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : data.byteLength;
    if (!budget.messages.take(1)) {
      drop(ws, key, id, 'message rate', `too many signaling messages (over ${budget.messagesPerSecond}/s); reconnect later`);
      return false;
    }
    if (!budget.bytes.take(bytes)) {
      drop(ws, key, id, 'byte rate', `too many signaling bytes (over ${budget.bytesPerSecond} bytes/s); reconnect later`);
      return false;
    }
    let message: unknown;
    try {
      const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.isBuffer(data) ? data.toString() : Buffer.from(data).toString();
      message = JSON.parse(text);
    } catch {
      message = undefined;
    }
    const m = typeof message === 'object' && message !== null && !Array.isArray(message) ? (message as Record<string, unknown>) : null;
    const dst = m?.['dst'];
    if (!m || typeof m['type'] !== 'string' || (dst !== undefined && (typeof dst !== 'string' || !isSafeId(dst)))) {
      drop(ws, key, id, 'malformed message', 'malformed signaling message: expected a JSON object with a "type" and a valid "dst" peer id');
      return false;
    }
    if (!KNOWN_TYPES.has(m['type'])) {
      count(stats.refusedMessages, 'unknown type');
      note('refused message (unknown type)', `${id} from ${key}`);
      return false;
    }
    if (typeof dst === 'string' && QUEUED_TYPES.has(m['type']) && !live.has(dst)) {
      const refused = chargeQueue(address, bytes);
      if (refused) {
        count(stats.refusedMessages, refused);
        note(`refused message (${refused})`, `${id} from ${key} for ${dst}`);
        // Tell the sender, as peer does when a queued message expires, so it stops waiting.
        ws.send(JSON.stringify({ type: 'EXPIRE', src: dst, dst: id }));
        return false;
      }
    }
    return true;
  };

  const refuse = (reason: string, key: string): void => {
    count(stats.refusedConnections, reason);
    note(`refused connection (${reason})`, `from ${key}`);
  };

  return {
    checkUpgrade(req) {
      const key = addressKey(req.socket.remoteAddress);
      if (++upgradesSinceSweep >= 1000) {
        upgradesSinceSweep = 0;
        sweep();
      }
      if (!originAllowed(req, allowedOrigins)) {
        refuse('origin', key);
        return { status: 403, reason: `Origin ${String(req.headers.origin).slice(0, 100)} may not use this signaling server` };
      }
      if (!stateOf(key).connects.take(1)) {
        refuse('connect rate', key);
        return { status: 429, reason: `Too many signaling connections from your address (over ${limits.connectsPerMinute}/min); try again shortly` };
      }
      return null;
    },

    admit(ws, req, claimed = false) {
      const key = addressKey(req.socket.remoteAddress);
      const params = new URL(req.url ?? '', 'http://signaling').searchParams;
      const id = params.get('id');
      const token = params.get('token');
      // Missing parameters are peer's to refuse (with its own message).
      if (id !== null && id !== '' && !isSafeId(id)) {
        refuse('bad id', key);
        return `invalid peer id: use 1-${limits.maxIdLength} letters, digits, - or _`;
      }
      if (token !== null && token !== '' && !isSafeId(token)) {
        refuse('bad token', key);
        return `invalid token: use 1-${limits.maxIdLength} letters, digits, - or _`;
      }
      const address = stateOf(key);
      if (address.sockets >= limits.maxIdsPerAddress) {
        refuse('ids per address', key);
        return `too many peer ids from your address (${limits.maxIdsPerAddress}); close other tabs or try again later`;
      }
      address.sockets++;
      ws.once('close', () => address.sockets--);
      ws.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') count(stats.droppedSockets, 'message too large');
      });

      const shownId = id ?? '?';
      const budget = claimed && id !== null && id !== '' ? coordinatorBudget(id, ws) : socketBudget();
      // peer listens for 'message' itself; the gate sits in front of every listener by wrapping emit.
      const emit = ws.emit.bind(ws) as (event: string | symbol, ...args: unknown[]) => boolean;
      const gated = (event: string | symbol, ...args: unknown[]): boolean => {
        if (event !== 'message') return emit(event, ...args);
        if (ws.readyState !== ws.OPEN) return false; // dropped: nothing more is relayed
        return inspect(ws, key, address, shownId, budget, args[0] as RawData) ? emit(event, ...args) : false;
      };
      ws.emit = gated as typeof ws.emit;
      return null;
    },

    connected: (id) => live.add(id),
    disconnected: (id) => live.delete(id),
    registered: (id) => live.has(id),

    error(err) {
      note('error', err.message.slice(0, 200));
    },

    stats: () => structuredClone(stats),
  };
}
