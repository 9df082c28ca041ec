/**
 * Server configuration, read from the environment.
 *
 *   PORT                 port to listen on (default 8080)
 *   HOST                 address to bind (default 0.0.0.0, so other machines on the LAN can join)
 *   QUORUM_DIST          folder with the built app (default dist/)
 *   QUORUM_ICE_SERVERS   JSON array of RTCIceServer handed to the app via /config.json
 *                        (default [], none needed on one machine or a LAN)
 *   QUORUM_TLS_CERT/KEY  optional PEM files: serve HTTPS (a LAN address over plain http is not a
 *                        secure context, so it gets no crossOriginIsolated and no crypto.subtle)
 *   QUORUM_ADMIN_TOKEN   the secret that POST /admin/... requests must carry (QUORUM_ADMIN=1 needs it)
 *   QUORUM_ALLOWED_ORIGINS  extra page origins allowed to open signaling sockets (comma-separated),
 *                        e.g. the public name of a reverse proxy in front of this server
 *   QUORUM_SIGNALING_MAX_IDS_PER_ADDRESS, QUORUM_SIGNALING_CONNECT_BURST,
 *   QUORUM_SIGNALING_CONNECTS_PER_MINUTE  override the per-address limits below
 */
import path from 'node:path';

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '0.0.0.0';

/**
 * Budgets of the signaling server (README, "Signaling limits"). Every one is a per-client bound
 * that an honest browser tab stays far below, so that one client cannot exhaust what all share.
 */
export const SIGNALING_LIMITS = Object.freeze({
  /**
   * Peer ids and peerjs tokens follow the protocol's id grammar (src/protocol/ids.ts: 1-64 letters,
   * digits, - or _), so nothing longer or stranger is ever stored, logged or relayed.
   */
  maxIdLength: 64,
  /**
   * Open signaling sockets (= registered ids) per client address (an IPv6 /64 counts as one).
   * A browser tab holds one; the e2e suite opens about ten per test, all from 127.0.0.1.
   */
  maxIdsPerAddress: 64,
  /**
   * New signaling sockets per address: a bucket of this many (enough to open every id the address
   * may hold at once), refilled at the rate below.
   */
  connectBurst: 100,
  /** peerjs reconnects at most every few seconds per tab, so 120/min leaves honest reloads alone. */
  connectsPerMinute: 120,
  /** Ids on the whole server (peer's own `concurrent_limit`). */
  maxClients: 5000,
  /** One relayed signaling message (an SDP offer is a few KiB; ws's default allows 100 MiB). */
  maxMessageBytes: 64 * 1024,
  /** Messages per socket: a bucket of this many, refilled per second below. */
  messageBurst: 200,
  messagesPerSecond: 50,
  /** Bytes per socket: a bucket of this many, refilled per second below. */
  byteBurst: 512 * 1024,
  bytesPerSecond: 128 * 1024,
  /**
   * [K-8] The budget of a socket registered under a coordinator id (`quorum-<network>`) with a live
   * [K-7] ticket, shared by every socket of that id. A coordinator relays an answer and its ICE
   * candidates for every volunteer that joins, so its socket carries N times what a volunteer's
   * does. Measured (BENCHMARKS.md, "Signaling per join"): a tab coordinator sends 3 to 4.2
   * messages and 1.25 to 1.6 KB per join on loopback (1 answer of ~620 B, 2-3 candidates of
   * ~320 B), the headless one 2 and 0.9 KB; a real network adds server-reflexive, relay and IPv6
   * candidates, so allow ~10 messages and ~4 KB a join. That at 50 joins/s is 500 messages/s and 200 KB/s (rounded up to
   * 256 KiB/s), and the bursts hold 200 volunteers joining at once (2,000 messages, 800 KB → 1 MiB).
   */
  coordinatorMessageBurst: 2_000,
  coordinatorMessagesPerSecond: 500,
  coordinatorByteBurst: 1024 * 1024,
  coordinatorBytesPerSecond: 256 * 1024,
  /**
   * Messages for ids that are not connected wait in peer's queue until the id connects or the
   * queue expires (expireTimeoutMs, checked every cleanupIntervalMs); while they wait they are
   * charged to their sender's address and to the server, and beyond these they are refused.
   */
  maxQueuedBytesPerAddress: 512 * 1024,
  maxQueuedMessagesPerAddress: 256,
  maxQueuedBytesTotal: 16 * 1024 * 1024,
  /** Each queued message also costs peer an object, however small the message: count them too. */
  maxQueuedMessagesTotal: 16_384,
  expireTimeoutMs: 5000,
  cleanupIntervalMs: 1000,
  /**
   * [E-4] GET /presence per address: a bucket of this many, refilled per minute below. A waiting
   * tab asks at most every 10 s (6/min), so 240/min serves 40 waiting tabs behind one NAT.
   */
  presenceBurst: 120,
  presencePerMinute: 240,
});

export type SignalingLimits = { -readonly [K in keyof typeof SIGNALING_LIMITS]: number };

/** The subset of RTCIceServer that we accept and pass through to the browser. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface ServerConfig {
  port: number;
  host: string;
  distDir: string;
  iceServers: IceServer[];
  tls: TlsFiles | null;
  /** Admin endpoints are served only when this is set (QUORUM_ADMIN=1 and QUORUM_ADMIN_TOKEN). */
  adminToken: string | null;
  allowedOrigins: string[];
  signalingLimits: SignalingLimits;
}

/** Admin tokens shorter than this are refused: they could be guessed. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/**
 * Parses QUORUM_ICE_SERVERS. Unset or blank means no ICE servers. Anything else must be a JSON
 * array of objects with `urls` (a string or array of strings) and optional string
 * `username`/`credential`; otherwise a ConfigError says what is wrong.
 */
export function parseIceServers(raw: string | undefined, varName = 'QUORUM_ICE_SERVERS'): IceServer[] {
  if (raw === undefined || raw.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(
      `${varName} is not valid JSON (${(e as Error).message}). Expected e.g. ` +
        `'[{"urls":"stun:stun.example.org:3478"},{"urls":["turn:turn.example.org:3478"],"username":"u","credential":"p"}]'`,
    );
  }
  if (!Array.isArray(value)) {
    throw new ConfigError(`${varName} must be a JSON array of RTCIceServer objects, got ${typeof value}`);
  }
  return value.map((entry: unknown, i): IceServer => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`${varName}[${i}] must be an object with "urls"`);
    }
    const { urls, username, credential } = entry as Record<string, unknown>;
    const urlsOk = isNonEmptyString(urls) || (Array.isArray(urls) && urls.length > 0 && urls.every(isNonEmptyString));
    if (!urlsOk) {
      throw new ConfigError(`${varName}[${i}].urls must be a non-empty string or array of strings`);
    }
    const server: IceServer = { urls: urls as string | string[] };
    if (username !== undefined) {
      if (typeof username !== 'string') throw new ConfigError(`${varName}[${i}].username must be a string`);
      server.username = username;
    }
    if (credential !== undefined) {
      if (typeof credential !== 'string') throw new ConfigError(`${varName}[${i}].credential must be a string`);
      server.credential = credential;
    }
    return server;
  });
}

export function parsePort(raw: string | undefined, fallback = DEFAULT_PORT, varName = 'PORT'): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${varName} must be an integer in 0..65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

function parsePositiveInt(raw: string | undefined, fallback: number, varName: string): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${varName} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** SIGNALING_LIMITS with the per-address ones overridden from the environment. */
export function parseSignalingLimits(env: Env): SignalingLimits {
  return {
    ...SIGNALING_LIMITS,
    maxIdsPerAddress: parsePositiveInt(env['QUORUM_SIGNALING_MAX_IDS_PER_ADDRESS'], SIGNALING_LIMITS.maxIdsPerAddress, 'QUORUM_SIGNALING_MAX_IDS_PER_ADDRESS'),
    connectBurst: parsePositiveInt(env['QUORUM_SIGNALING_CONNECT_BURST'], SIGNALING_LIMITS.connectBurst, 'QUORUM_SIGNALING_CONNECT_BURST'),
    connectsPerMinute: parsePositiveInt(
      env['QUORUM_SIGNALING_CONNECTS_PER_MINUTE'],
      SIGNALING_LIMITS.connectsPerMinute,
      'QUORUM_SIGNALING_CONNECTS_PER_MINUTE',
    ),
  };
}

/** QUORUM_ALLOWED_ORIGINS: comma-separated `scheme://host[:port]` origins. */
export function parseAllowedOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      let url: URL;
      try {
        url = new URL(s);
      } catch {
        throw new ConfigError(`QUORUM_ALLOWED_ORIGINS: ${JSON.stringify(s)} is not an origin such as https://quorum.example.org`);
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== s.replace(/\/$/, '')) {
        throw new ConfigError(`QUORUM_ALLOWED_ORIGINS: ${JSON.stringify(s)} is not an origin such as https://quorum.example.org (scheme, host and port only)`);
      }
      return url.origin;
    });
}

/** QUORUM_ADMIN=1 turns the admin endpoints on, and then QUORUM_ADMIN_TOKEN must hold a long secret. */
export function parseAdminToken(env: Env): string | null {
  if (env['QUORUM_ADMIN'] !== '1') return null;
  const token = env['QUORUM_ADMIN_TOKEN']?.trim() ?? '';
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError(
      `QUORUM_ADMIN=1 needs QUORUM_ADMIN_TOKEN, a secret of at least ${MIN_ADMIN_TOKEN_LENGTH} characters ` +
        '(e.g. QUORUM_ADMIN_TOKEN=$(openssl rand -hex 16)); admin requests send it as "Authorization: Bearer <token>"',
    );
  }
  return token;
}

/** Reads the whole configuration; throws ConfigError with a readable message on bad input. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): ServerConfig {
  const certFile = env['QUORUM_TLS_CERT'];
  const keyFile = env['QUORUM_TLS_KEY'];
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError('QUORUM_TLS_CERT and QUORUM_TLS_KEY must be set together');
  }
  return {
    port: parsePort(env['PORT']),
    host: env['HOST']?.trim() || DEFAULT_HOST,
    distDir: path.resolve(cwd, env['QUORUM_DIST']?.trim() || 'dist'),
    iceServers: parseIceServers(env['QUORUM_ICE_SERVERS']),
    tls: certFile && keyFile ? { certFile: path.resolve(cwd, certFile), keyFile: path.resolve(cwd, keyFile) } : null,
    adminToken: parseAdminToken(env),
    allowedOrigins: parseAllowedOrigins(env['QUORUM_ALLOWED_ORIGINS']),
    signalingLimits: parseSignalingLimits(env),
  };
}
