/**
 * A headless volunteer's state directory: its identity (peer id and resume token, [W-17]), its
 * outbox of results the coordinator has not acknowledged ([W-15]), and the models it has
 * verified. Every file is written whole to a temporary name and renamed over the old one, so a
 * crash or Ctrl-C mid-write leaves the old file or the new one, never half of one. What is read
 * back is as untrusted as a peer's frame: parsed with the protocol's own parsers, and a file that
 * does not parse is dropped (and named in the log), never fed to the core.
 *
 *   <dir>/identity.json         { "peerId": "...", "token": "..." | null }
 *   <dir>/volunteer-key.json    [I-2] its key pair (PKCS#8 and SPKI, mode 0600; src/node/dataDir.node.ts)
 *   <dir>/outbox/<leaseId>.bin  one held-back result frame, in the wire's frame codec
 *   <models>/<sha256>.onnx      shared by every volunteer of a process (content-addressed)
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { OutboxEntry } from '../../src/core/volunteer/volunteer.ts';
import type { ModelStorage, OutboxStorage } from '../../src/host/volunteerDriver.ts';
import { parseIdentity, type IdentityStorage, type VolunteerIdentity } from '../../src/host/volunteerIdentity.ts';
import { OUTBOX_MAX_AGE_MS } from '../../src/persistence/outboxStore.ts';
import { isModelHash, isSafeId, type LeaseId, type ModelHash } from '../../src/protocol/ids.ts';
import { parseToCoordinator } from '../../src/protocol/parse.ts';
import { shardIdSchema } from '../../src/protocol/schemas.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';
import { decodeFrame, encodeFrame } from '../../src/transport/frameCodec.ts';
import { errorMessage } from '../../src/protocol/errorMessage.ts';

/** Writes `data` to `file` atomically: a temporary file beside it, flushed, then renamed over it. */
export function writeFileAtomic(file: string, data: Uint8Array | string | Iterable<string | Uint8Array>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    // Piece by piece: an export can be larger than any one string can be.
    const pieces = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
    for (const piece of pieces) fs.writeSync(fd, typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece);
    // Durable before the rename makes it the file: a power cut must not leave an empty one.
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** [W-17] The peer id and resume token, in `<dir>/identity.json`. */
export function fileIdentityStorage(dir: string, log: (text: string) => void = () => undefined): IdentityStorage {
  const file = path.join(dir, 'identity.json');
  return {
    load(): VolunteerIdentity | null {
      let raw: string;
      try {
        raw = fs.readFileSync(file, 'utf8');
      } catch {
        return null; // a fresh state directory: the signaling server assigns an id
      }
      const identity = parseIdentity(raw);
      if (!identity) log(`${file} is not a volunteer identity; starting under a fresh peer id (delete the file to silence this)`);
      return identity;
    },
    save(identity: VolunteerIdentity): void {
      writeFileAtomic(file, `${JSON.stringify(identity)}\n`);
    },
  };
}

/** What an outbox file holds: the result frame and what it was stored under. */
interface OutboxRecord {
  readonly volunteerId: string;
  readonly networkId: string;
  readonly shardId: string;
  readonly storedAtMs: number;
  readonly frame: unknown;
}

/** "QOB1", then the part count and each part's length (u32 little-endian), then the parts. */
const OUTBOX_MAGIC = 0x3142_4f51;
/** An outbox file is one result frame: the protocol's frame limit, with room for the record around it. */
const MAX_OUTBOX_FILE_BYTES = 512 * 1024 * 1024;

function packParts(parts: readonly Uint8Array[]): Uint8Array {
  const header = new DataView(new ArrayBuffer(8 + 4 * parts.length));
  header.setUint32(0, OUTBOX_MAGIC, true);
  header.setUint32(4, parts.length, true);
  parts.forEach((p, i) => header.setUint32(8 + 4 * i, p.byteLength, true));
  return Buffer.concat([new Uint8Array(header.buffer), ...parts]);
}

function unpackParts(bytes: Uint8Array): Uint8Array[] | null {
  if (bytes.byteLength < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  if (view.getUint32(0, true) !== OUTBOX_MAGIC || count < 1 || count > 1024 || bytes.byteLength < 8 + 4 * count) return null;
  const parts: Uint8Array[] = [];
  let at = 8 + 4 * count;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(8 + 4 * i, true);
    if (at + len > bytes.byteLength) return null;
    // A plain copy, not a view: the codec owns binaries by `.slice().buffer`, which on a Node
    // Buffer would be a view of the whole file (Buffer's slice does not copy).
    parts.push(new Uint8Array(bytes.subarray(at, at + len)));
    at += len;
  }
  return at === bytes.byteLength ? parts : null;
}

/** An entry read back, or null (with why) when the file is not one of this volunteer's results. */
function entryOf(bytes: Uint8Array, volunteerId: string, networkId: string, leaseId: string, nowMs: number): { entry: OutboxEntry; atMs: number } | string {
  const parts = unpackParts(bytes);
  if (!parts) return 'not an outbox file';
  let record: unknown;
  try {
    record = decodeFrame(parts);
  } catch (e) {
    return `damaged (${errorMessage(e)})`;
  }
  const r = record as Partial<OutboxRecord> | null;
  if (!r || typeof r !== 'object' || r.volunteerId !== volunteerId || r.networkId !== networkId) return 'held for another volunteer or network';
  if (typeof r.storedAtMs !== 'number' || !(nowMs - r.storedAtMs <= OUTBOX_MAX_AGE_MS)) return 'older than a day';
  const shardId = shardIdSchema.safeParse(r.shardId);
  const parsed = parseToCoordinator(r.frame);
  if (!shardId.success || !parsed.ok || parsed.msg.t !== 'result' || parsed.msg.leaseId !== leaseId) return 'not a result frame this version can send';
  return { entry: { leaseId: parsed.msg.leaseId, shardId: shardId.data, frame: parsed.msg }, atMs: r.storedAtMs };
}

/**
 * [W-15] Held-back results, one file per lease under `<dir>/outbox/`. A state directory holds
 * one volunteer, but the record names the peer id and network all the same: a directory copied
 * to another volunteer, or pointed at another network, must not deliver someone else's results.
 */
export function fileOutboxStorage(dir: string, log: (text: string) => void = () => undefined): OutboxStorage {
  const outbox = path.join(dir, 'outbox');
  const fileOf = (leaseId: string): string => {
    // Ids come from the coordinator: only safe ones become file names.
    if (!isSafeId(leaseId)) throw new Error(`lease id "${leaseId}" cannot name a file`);
    return path.join(outbox, `${leaseId}.bin`);
  };
  return {
    async put(volunteerId: string, networkId: string, entry: OutboxEntry, nowMs: number): Promise<void> {
      const record: OutboxRecord = { volunteerId, networkId, shardId: entry.shardId, storedAtMs: nowMs, frame: entry.frame };
      writeFileAtomic(fileOf(entry.leaseId), packParts(encodeFrame(record, MAX_OUTBOX_FILE_BYTES)));
    },
    async delete(_volunteerId: string, leaseId: LeaseId): Promise<void> {
      fs.rmSync(fileOf(leaseId), { force: true });
    },
    async load(volunteerId: string, networkId: string, nowMs: number): Promise<OutboxEntry[]> {
      let names: string[];
      try {
        names = fs.readdirSync(outbox);
      } catch {
        return [];
      }
      const kept: { entry: OutboxEntry; atMs: number }[] = [];
      for (const name of names) {
        const file = path.join(outbox, name);
        const leaseId = name.endsWith('.bin') ? name.slice(0, -4) : '';
        if (!isSafeId(leaseId)) {
          // A temporary file of a write cut short, or something that is not ours: leave it be
          // unless it is our own leftover.
          if (name.endsWith('.tmp')) fs.rmSync(file, { force: true });
          continue;
        }
        const bytes = fs.readFileSync(file);
        const read = entryOf(bytes, volunteerId, networkId, leaseId, nowMs);
        if (typeof read === 'string') {
          if (read !== 'held for another volunteer or network') {
            log(`dropped the held-back result in ${file}: ${read}`);
            fs.rmSync(file, { force: true });
          }
          continue;
        }
        kept.push(read);
      }
      return kept.sort((a, b) => a.atMs - b.atMs).map((k) => k.entry);
    },
  };
}

/**
 * Verified models by sha256, one file each. Read back only if the bytes still hash to their
 * name: a damaged file is a cache miss (the model is fetched again), never a wrong model.
 */
export function fileModelStorage(dir: string): ModelStorage {
  const fileOf = (hash: ModelHash): string => {
    if (!isModelHash(hash)) throw new Error(`"${hash}" is not a sha256 model hash`);
    return path.join(dir, `${hash}.onnx`);
  };
  return {
    async get(hash: ModelHash): Promise<ArrayBuffer | null> {
      let bytes: Buffer;
      try {
        bytes = await fs.promises.readFile(fileOf(hash));
      } catch {
        return null;
      }
      const copy = new Uint8Array(bytes).slice().buffer;
      return (await sha256Hex(copy)) === hash ? copy : null;
    },
    async put(hash: ModelHash, bytes: ArrayBuffer): Promise<void> {
      writeFileAtomic(fileOf(hash), new Uint8Array(bytes));
    },
  };
}
