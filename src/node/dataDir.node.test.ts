/** [N-2] The data directory's requester key: made once, owner-only, reused; a loosened one refused. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirError, databasePath, prepareDataDir, REQUESTER_KEY_FILE, requesterKeyIn } from './dataDir.node.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-datadir-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('[N-2] the requester key in the data directory', () => {
  it('is made once with mode 0600 and read back unchanged on every later start', () => {
    const dir = prepareDataDir(path.join(tmp(), 'nested', 'data'));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    let made = 0;
    const generate = (): string => `key${++made}`.padEnd(32, '0');
    const first = requesterKeyIn(dir, generate);
    expect(first).toBe('key1'.padEnd(32, '0'));
    expect(fs.statSync(path.join(dir, REQUESTER_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(requesterKeyIn(dir, generate)).toBe(first);
    expect(made).toBe(1);
  });

  it('makes a random 128-bit key by default', () => {
    expect(requesterKeyIn(tmp())).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses a key file others may read, and one that holds no key, saying what to do', () => {
    const dir = tmp();
    requesterKeyIn(dir);
    const file = path.join(dir, REQUESTER_KEY_FILE);
    fs.chmodSync(file, 0o644);
    expect(() => requesterKeyIn(dir)).toThrow(DataDirError);
    expect(() => requesterKeyIn(dir)).toThrow(/may be read by other users \(mode 644\).*chmod 600/);
    fs.writeFileSync(file, 'short\n', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    expect(() => requesterKeyIn(dir)).toThrow(/does not hold a requester key.*delete it/);
  });

  it('creates the database file owner-only before SQLite opens it', () => {
    const dir = tmp();
    const file = databasePath(dir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('names a data directory it cannot create', () => {
    const file = path.join(tmp(), 'a-file');
    fs.writeFileSync(file, '');
    expect(() => prepareDataDir(path.join(file, 'data'))).toThrow(/Cannot use .* as the data directory/);
  });
});
