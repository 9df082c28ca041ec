/**
 * [J-9] An asset bundle's entries with their content hashes: how the coordinator checks that a
 * bundle holds what its pipeline names, and how a volunteer finds each model by the hash the
 * pipeline gives. Parsing throws with a reason when the bytes are not a sound bundle.
 */
import { parseAssetBundle, type AssetEntry } from '../protocol/assetBundle.ts';
import type { ModelHash } from '../protocol/ids.ts';
import { sha256Hex } from './sha256.ts';

export interface HashedAsset extends AssetEntry {
  readonly hash: ModelHash;
}

export async function hashedAssets(bundle: Uint8Array): Promise<HashedAsset[]> {
  const entries = parseAssetBundle(bundle);
  return Promise.all(entries.map(async (e) => ({ ...e, hash: await sha256Hex(e.bytes) })));
}
