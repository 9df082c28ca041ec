/**
 * [AU-2] A Merkle tree over a receipt's leaves, with inclusion proofs. Pure: the hash function
 * is a parameter (WebCrypto's SHA-256 on the page and in Node), so the core never touches
 * WebCrypto and tests can count what is hashed.
 *
 * - Domain separation (as RFC 6962 does): a leaf is hashed as H(0x00 ‖ bytes), an inner node as
 *   H(0x01 ‖ left ‖ right), so no leaf can pass for an inner node and no subtree for a leaf.
 * - An odd node at the end of a level is carried up unchanged, never paired with a copy of itself
 *   (copying it would let two different leaf lists share a root, as Bitcoin's CVE-2012-2459 did).
 * - A proof is the sibling hashes from the leaf up. Which side each is on follows from the leaf's
 *   index and the leaf count, which the verifier takes from the signed receipt, never from the
 *   proof: a proof cannot move a leaf to another place.
 */

/** SHA-256 (or any fixed-size hash) of some bytes. */
export type Digest = (bytes: Uint8Array<ArrayBuffer>) => Promise<Uint8Array>;

const LEAF = 0x00;
const NODE = 0x01;

function concat(tag: number, ...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
  out[0] = tag;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function leafHash(digest: Digest, leaf: Uint8Array): Promise<Uint8Array> {
  return digest(concat(LEAF, leaf));
}

export function nodeHash(digest: Digest, left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return digest(concat(NODE, left, right));
}

/** The root and every leaf's proof, for leaves already hashed with `leafHash`. */
export interface MerkleTree {
  readonly root: Uint8Array;
  /** `proofs[i]`: the sibling hashes of leaf i, from the bottom up. */
  readonly proofs: readonly (readonly Uint8Array[])[];
}

/** Builds the tree over at least one leaf hash. */
export async function merkleTree(digest: Digest, leafHashes: readonly Uint8Array[]): Promise<MerkleTree> {
  if (leafHashes.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
  const proofs: Uint8Array[][] = leafHashes.map(() => []);
  // Which node of the current level each leaf has become.
  const position = leafHashes.map((_, i) => i);
  let level = [...leafHashes];
  while (level.length > 1) {
    for (let leaf = 0; leaf < position.length; leaf++) {
      const at = position[leaf] as number;
      const sibling = at ^ 1;
      if (sibling < level.length) (proofs[leaf] as Uint8Array[]).push(level[sibling] as Uint8Array);
      position[leaf] = at >> 1;
    }
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? await nodeHash(digest, level[i] as Uint8Array, level[i + 1] as Uint8Array) : (level[i] as Uint8Array));
    }
    level = next;
  }
  return { root: level[0] as Uint8Array, proofs };
}

/**
 * The root that leaf `index` of `count` leaves, with this proof, hashes up to; null when the
 * proof has the wrong number of hashes for that place (too few, or extra ones to hide a change).
 */
export async function rootFromProof(digest: Digest, leaf: Uint8Array, index: number, count: number, proof: readonly Uint8Array[]): Promise<Uint8Array | null> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count) return null;
  let hash = leaf;
  let at = index;
  let size = count;
  let used = 0;
  while (size > 1) {
    const sibling = at ^ 1;
    if (sibling < size) {
      const other = proof[used++];
      if (other === undefined) return null;
      hash = at % 2 === 0 ? await nodeHash(digest, hash, other) : await nodeHash(digest, other, hash);
    }
    at >>= 1;
    size = Math.ceil(size / 2);
  }
  return used === proof.length ? hash : null;
}

/** Whether two hashes are the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
