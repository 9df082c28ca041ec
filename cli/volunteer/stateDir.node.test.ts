/**
 * [W-24] A headless volunteer's files: what it writes it reads back exactly, what it did not
 * write (damaged, another volunteer's or network's, too old) never reaches the core.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../src/core/volunteer/volunteer.ts';
import { OUTBOX_MAX_AGE_MS } from '../../src/persistence/outboxStore.ts';
import type { LeaseId, ModelHash, ShardId } from '../../src/protocol/ids.ts';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';
import { fileIdentityStorage, fileModelStorage, fileOutboxStorage, writeFileAtomic } from './stateDir.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-state-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const entry = (lease: string, values: number[]): OutboxEntry => ({
  leaseId: lease as LeaseId,
  shardId: 'job1/3' as ShardId,
  frame: {
    v: PROTOCOL_VERSION,
    t: 'result',
    leaseId: lease as LeaseId,
    outputs: [{ name: 'y', dtype: 'float32', dims: [values.length], data: new Float32Array(values).buffer }],
    backend: 'node-cpu',
    inferMs: 2,
  },
});

describe('a headless volunteer state directory', () => {
  it('[W-17] keeps the identity across a restart, and ignores a file that is not one', () => {
    const dir = tmp();
    const logged: string[] = [];
    const store = fileIdentityStorage(dir, (t) => logged.push(t));
    expect(store.load()).toBeNull();
    store.save({ peerId: 'v-123', token: 'tok' });
    expect(fileIdentityStorage(dir).load()).toEqual({ peerId: 'v-123', token: 'tok' });
    expect(fs.readdirSync(dir)).toEqual(['identity.json']); // no temporary file left behind
    fs.writeFileSync(path.join(dir, 'identity.json'), '{"peerId": "../../etc"}');
    expect(store.load()).toBeNull();
    expect(logged.join()).toMatch(/is not a volunteer identity; starting under a fresh peer id/);
  });

  it("[W-15] gives back held results byte for byte, oldest first, and only this volunteer's on this network", async () => {
    const dir = tmp();
    const outbox = fileOutboxStorage(dir);
    await outbox.put('v1', 'net', entry('l-2', [3, 4]), 2_000);
    await outbox.put('v1', 'net', entry('l-1', [1, 2]), 1_000);
    await outbox.put('v1', 'other', entry('l-3', [5]), 1_000);
    const back = await outbox.load('v1', 'net', 3_000);
    expect(back.map((e) => e.leaseId)).toEqual(['l-1', 'l-2']);
    expect(back[0]!.shardId).toBe('job1/3');
    const frame = back[0]!.frame;
    expect(frame.backend).toBe('node-cpu');
    expect(Array.from(new Float32Array(frame.outputs[0]!.data))).toEqual([1, 2]);
    expect(await outbox.load('v2', 'net', 3_000)).toEqual([]);
    await outbox.delete('v1', 'l-1' as LeaseId);
    expect((await outbox.load('v1', 'net', 3_000)).map((e) => e.leaseId)).toEqual(['l-2']);
  });

  it('[W-15] drops damaged, foreign and day-old files with a log line instead of handing them to the core', async () => {
    const dir = tmp();
    const logged: string[] = [];
    const outbox = fileOutboxStorage(dir, (t) => logged.push(t));
    await outbox.put('v1', 'net', entry('l-1', [1]), 0);
    await outbox.put('v1', 'net', entry('l-2', [2]), OUTBOX_MAX_AGE_MS);
    const file = path.join(dir, 'outbox', 'l-2.bin');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 3)); // cut short
    fs.writeFileSync(path.join(dir, 'outbox', 'l-4.bin'), 'hello');
    expect(await outbox.load('v1', 'net', OUTBOX_MAX_AGE_MS + 1)).toEqual([]);
    expect(logged).toHaveLength(3);
    expect(logged.join('\n')).toMatch(/l-1\.bin: older than a day/);
    expect(logged.join('\n')).toMatch(/l-4\.bin: not an outbox file/);
    expect(fs.readdirSync(path.join(dir, 'outbox'))).toEqual([]);
  });

  it('serves a model only while its bytes still hash to its name', async () => {
    const dir = tmp();
    const models = fileModelStorage(dir);
    const bytes = new TextEncoder().encode('model bytes').buffer as ArrayBuffer;
    const hash = await sha256Hex(bytes);
    await models.put(hash, bytes, 0);
    expect(new Uint8Array((await models.get(hash))!)).toEqual(new Uint8Array(bytes));
    fs.writeFileSync(path.join(dir, `${hash}.onnx`), 'tampered');
    expect(await models.get(hash)).toBeNull();
    expect(await models.get('f'.repeat(64) as ModelHash)).toBeNull();
  });

  it('replaces a file whole: a reader sees the old content or the new, never a mix', () => {
    const dir = tmp();
    const file = path.join(dir, 'a', 'b.json');
    writeFileAtomic(file, 'old');
    writeFileAtomic(file, 'new');
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['b.json']);
  });
});
