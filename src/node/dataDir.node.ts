/**
 * A headless coordinator's data directory: the SQLite database and the requester key, both
 * readable by their owner only. The key is a secret that lets anyone submit jobs, so it is made
 * once (exclusively, so two starts cannot each make one), kept across restarts, and never
 * loosened: a key file others can read is refused rather than used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cryptoSecret } from '../host/secrets.ts';
import { fromBase64Url, identityOf, toBase64Url, type CoordinatorIdentity } from '../host/coordinatorKey.ts';

export const DATABASE_FILE = 'coordinator.sqlite';
export const REQUESTER_KEY_FILE = 'requester.key';

/** Raised when the data directory cannot be used; the message says what to do. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

/** Creates `dir` (owner-only) if needed and returns its absolute path. */
export function prepareDataDir(dir: string): string {
  const abs = path.resolve(dir);
  try {
    fs.mkdirSync(abs, { recursive: true, mode: 0o700 });
    fs.accessSync(abs, fs.constants.W_OK | fs.constants.R_OK);
  } catch (e) {
    throw new DataDirError(`Cannot use ${abs} as the data directory (${(e as Error).message}): give a folder this user can create and write.`);
  }
  return abs;
}

/** The database file's path; it is created owner-only before SQLite opens it. */
export function databasePath(dir: string): string {
  const file = path.join(dir, DATABASE_FILE);
  // SQLite creates files with the umask's permissions (often world-readable); the jobs are not the world's.
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
  return file;
}

const KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * The requester key kept in `dir`: read when it exists, otherwise made with `generate` and
 * written with mode 0600. A key file that group or others may read is refused: it may have leaked.
 */
export function requesterKeyIn(dir: string, generate: () => string = cryptoSecret): string {
  const file = path.join(dir, REQUESTER_KEY_FILE);
  if (!fs.existsSync(file)) {
    try {
      // Exclusive: of two processes starting at once, one writes the key and both read it.
      fs.writeFileSync(file, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(`Cannot write ${file}: ${(e as Error).message}`);
    }
  }
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new DataDirError(
      `${file} may be read by other users (mode ${mode.toString(8)}): the requester key may have leaked. Delete the file to make a new key, or run chmod 600 on it to keep this one.`,
    );
  }
  const key = fs.readFileSync(file, 'utf8').trim();
  if (!KEY_PATTERN.test(key)) throw new DataDirError(`${file} does not hold a requester key (16-128 letters, digits, - or _): delete it to make a new one.`);
  return key;
}

export const COORDINATOR_KEY_FILE = 'coordinator-key.json';

/**
 * [K-1] The coordinator's key pair kept in `dir`, made once: clients pin its fingerprint, so a
 * headless coordinator must keep the same key across restarts (a tab keeps it in IndexedDB as a
 * non-extractable key; a file needs the private key's bytes). Stored as PKCS#8 and SPKI,
 * base64url, mode 0600; the private key is imported non-extractable for signing.
 */
export async function coordinatorKeyIn(dir: string): Promise<CoordinatorIdentity> {
  return keyPairFileIn(dir, COORDINATOR_KEY_FILE, "the coordinator's private key", 'a coordinator key', ' (clients will warn about the new key)');
}

/** [I-2] A headless volunteer's key pair in its state directory: its peer id, standing and leases are this key's. */
export const VOLUNTEER_KEY_FILE = 'volunteer-key.json';

/**
 * [I-2] The volunteer key pair kept in a headless volunteer's state directory `dir`, made once,
 * stored as the coordinator's is (PKCS#8 and SPKI, mode 0600), so a restarted volunteer proves
 * the key its peer id belongs to and keeps its standing.
 */
export function volunteerKeyIn(dir: string): Promise<CoordinatorIdentity> {
  return keyPairFileIn(dir, VOLUNTEER_KEY_FILE, "the volunteer's private key", 'a volunteer key', ' (the volunteer then starts afresh, under a new peer id)');
}

/** A key pair in `dir/fileName`, made on first use; `what`, `kind`, `afterNew` word the errors. */
async function keyPairFileIn(dir: string, fileName: string, what: string, kind: string, afterNew: string): Promise<CoordinatorIdentity> {
  const file = path.join(dir, fileName);
  fs.mkdirSync(dir, { recursive: true });
  const subtle = globalThis.crypto.subtle;
  if (!fs.existsSync(file)) {
    const pair = await subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
    const pkcs8 = toBase64Url(new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey)));
    const spki = toBase64Url(new Uint8Array(await subtle.exportKey('spki', pair.publicKey)));
    try {
      fs.writeFileSync(file, `${JSON.stringify({ v: 1, pkcs8, spki })}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(`Cannot write ${file}: ${(e as Error).message}`);
    }
  }
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new DataDirError(
      `${file} may be read by other users (mode ${mode.toString(8)}): ${what} may have leaked. Delete the file to make a new key${afterNew}, or run chmod 600 on it to keep this one.`,
    );
  }
  const bad = (why: string): DataDirError => new DataDirError(`${file} does not hold ${kind} (${why}): delete it to make a new one${afterNew}.`);
  let stored: unknown;
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw bad((e as Error).message);
  }
  const { pkcs8, spki } = (stored ?? {}) as { pkcs8?: unknown; spki?: unknown };
  if (typeof pkcs8 !== 'string' || typeof spki !== 'string') throw bad('no pkcs8 and spki fields');
  try {
    const privateKey = await subtle.importKey('pkcs8', fromBase64Url(pkcs8), KEY_ALGORITHM, false, ['sign']);
    const publicKey = await subtle.importKey('spki', fromBase64Url(spki), KEY_ALGORITHM, true, ['verify']);
    return identityOf({ privateKey, publicKey });
  } catch (e) {
    throw bad((e as Error).message);
  }
}

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
