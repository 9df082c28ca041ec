/**
 * [J-6] What each item of a job is called in its exports: the image file it was decoded from, or
 * `file#i` for row i of a .npy or .json batch (and of a built-in workload). Pure.
 */
import { LIMITS } from '../../protocol/limits.ts';

/** Where a job's items came from: one image file per item, or the rows of one batch. */
export type ItemSource = { readonly images: readonly string[] } | { readonly batchFile: string };

/**
 * A name within the protocol's limit. The end is kept: `…scan-0042.png` and `…batch.npy#17`
 * still tell items apart where a common prefix would not.
 */
function bounded(name: string): string {
  return name.length <= LIMITS.maxNameLength ? name : `…${name.slice(name.length - LIMITS.maxNameLength + 1)}`;
}

/** One name per item, or undefined when the source cannot name `items` items one to one. */
export function itemNamesFor(source: ItemSource, items: number): string[] | undefined {
  if (items < 1) return undefined;
  if ('images' in source) {
    if (source.images.length !== items || source.images.some((n) => n === '')) return undefined;
    return source.images.map(bounded);
  }
  if (source.batchFile === '') return undefined;
  return Array.from({ length: items }, (_, i) => bounded(`${source.batchFile}#${i}`));
}
