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
 */
import path from 'node:path';

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '0.0.0.0';

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
}

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
  };
}
