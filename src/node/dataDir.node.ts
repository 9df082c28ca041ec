/**
 * A headless coordinator's data directory: the SQLite database and the requester key, both
 * readable by their owner only. The key is a secret that lets anyone submit jobs, so it is made
 * once (exclusively, so two starts cannot each make one), kept across restarts, and never
 * loosened: a key file others can read is refused rather than used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cryptoSecret } from '../host/secrets.ts';

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
