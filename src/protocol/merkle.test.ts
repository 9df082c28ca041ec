import { describe, expect, it } from 'vitest';
import { leafHash, merkleTree, nodeHash, rootFromProof, sameBytes } from './merkle.ts';
import { sha256 } from './testing/sha256.ts';
import { toHex, utf8 } from './canonicalJson.ts';

const leaves = (n: number): Promise<Uint8Array[]> => Promise.all(Array.from({ length: n }, (_, i) => leafHash(sha256, utf8(`shard ${i}`))));

describe('merkle', () => {
  it('[AU-2] leaves and inner nodes are hashed in separate domains: a leaf of two hashes is not their node', async () => {
    const [a, b] = (await leaves(2)) as [Uint8Array, Uint8Array];
    const joined = new Uint8Array([...a, ...b]);
    expect(toHex(await leafHash(sha256, joined))).not.toBe(toHex(await nodeHash(sha256, a, b)));
    // The tags are the bytes RFC 6962 uses: 0x00 before a leaf, 0x01 before two children.
    expect(toHex(await leafHash(sha256, utf8('x')))).toBe(toHex(await sha256(new Uint8Array([0, 0x78]))));
    expect(toHex(await nodeHash(sha256, a, b))).toBe(toHex(await sha256(new Uint8Array([1, ...a, ...b]))));
  });

  it('[AU-2] one leaf is its own root, with an empty proof; no leaves is an error', async () => {
    const [a] = (await leaves(1)) as [Uint8Array];
    const tree = await merkleTree(sha256, [a]);
    expect(sameBytes(tree.root, a)).toBe(true);
    expect(tree.proofs).toEqual([[]]);
    await expect(merkleTree(sha256, [])).rejects.toThrow(/at least one leaf/);
  });

  it('[AU-2] an odd last node is carried up, not paired with itself: [a,b,c] and [a,b,c,c] have different roots', async () => {
    const [a, b, c] = (await leaves(3)) as [Uint8Array, Uint8Array, Uint8Array];
    const three = await merkleTree(sha256, [a, b, c]);
    expect(toHex(three.root)).toBe(toHex(await nodeHash(sha256, await nodeHash(sha256, a, b), c)));
    const four = await merkleTree(sha256, [a, b, c, c]);
    expect(toHex(four.root)).not.toBe(toHex(three.root));
  });

  it('[AU-2] every leaf of trees of 1 to 13 leaves proves its way to the root, and only at its own place', async () => {
    for (let n = 1; n <= 13; n++) {
      const hashes = await leaves(n);
      const tree = await merkleTree(sha256, hashes);
      for (let i = 0; i < n; i++) {
        const root = await rootFromProof(sha256, hashes[i] as Uint8Array, i, n, tree.proofs[i] as Uint8Array[]);
        expect(root && toHex(root), `leaf ${i} of ${n}`).toBe(toHex(tree.root));
        if (n > 1) {
          const moved = await rootFromProof(sha256, hashes[i] as Uint8Array, (i + 1) % n, n, tree.proofs[i] as Uint8Array[]);
          expect(moved && toHex(moved), `leaf ${i} of ${n} claimed at another place`).not.toBe(toHex(tree.root));
        }
      }
    }
  });

  it('[AU-2] a changed leaf, a changed sibling, a missing or an extra proof hash does not reach the root', async () => {
    const hashes = await leaves(5);
    const tree = await merkleTree(sha256, hashes);
    const proof = tree.proofs[2] as Uint8Array[];
    const [other] = (await leaves(6)).slice(5) as [Uint8Array];
    const changedLeaf = await rootFromProof(sha256, other, 2, 5, proof);
    expect(changedLeaf && toHex(changedLeaf)).not.toBe(toHex(tree.root));
    const changedSibling = await rootFromProof(sha256, hashes[2] as Uint8Array, 2, 5, [other, ...proof.slice(1)]);
    expect(changedSibling && toHex(changedSibling)).not.toBe(toHex(tree.root));
    expect(await rootFromProof(sha256, hashes[2] as Uint8Array, 2, 5, proof.slice(1))).toBeNull();
    expect(await rootFromProof(sha256, hashes[2] as Uint8Array, 2, 5, [...proof, other])).toBeNull();
    expect(await rootFromProof(sha256, hashes[2] as Uint8Array, 5, 5, proof)).toBeNull();
  });
});
