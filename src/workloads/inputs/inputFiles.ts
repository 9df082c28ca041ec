/**
 * Which kind of input file is this, and which model input does it feed? Pure rules the dashboard
 * applies to the files a requester chooses:
 *   - `x.npy` feeds input "x"; any .npy feeds the model's only input when it has one;
 *   - a .json file holds one array (for the only input) or {"name": array, ...};
 *   - PNG/JPEG images are stacked, in the order chosen, into one batch for the image input
 *     (the only input, or the only one of rank 3 or 4).
 */

export type InputFileKind = 'npy' | 'json' | 'image';

export class InputFileError extends Error {
  override readonly name = 'InputFileError';
}

export function inputFileKind(fileName: string, mimeType = ''): InputFileKind {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.npy')) return 'npy';
  if (lower.endsWith('.json') || mimeType === 'application/json') return 'json';
  if (/\.(png|jpe?g)$/.test(lower) || mimeType === 'image/png' || mimeType === 'image/jpeg') return 'image';
  throw new InputFileError(`"${fileName}" is not an input file Quorum reads: use .npy (NumPy), .json (nested arrays) or PNG/JPEG images.`);
}

interface PortLike {
  readonly name: string;
  readonly dims: readonly (number | string)[] | null;
}

const list = (ports: readonly PortLike[]): string => ports.map((p) => `"${p.name}"`).join(', ');

/** The input a `.npy` file feeds: the one it is named after, else the model's only input. */
export function npyTarget(fileName: string, ports: readonly PortLike[]): string {
  const stem = fileName.replace(/^.*[\\/]/, '').replace(/\.npy$/i, '');
  const named = ports.find((p) => p.name === stem);
  if (named) return named.name;
  if (ports.length === 1) return (ports[0] as PortLike).name;
  throw new InputFileError(
    `"${fileName}" does not say which input it is for: the model takes ${list(ports)}; name each .npy file after its input (e.g. "${ports[0]?.name ?? 'input'}.npy").`,
  );
}

/** The input a bare JSON array feeds: the model's only input, else none (the file must name them). */
export function jsonSingleTarget(ports: readonly PortLike[]): string | null {
  return ports.length === 1 ? (ports[0] as PortLike).name : null;
}

/** The input images feed: the only input, or the only one of rank 3 or 4. */
export function imageTarget(ports: readonly PortLike[]): string {
  if (ports.length === 1) return (ports[0] as PortLike).name;
  const imageLike = ports.filter((p) => p.dims !== null && (p.dims.length === 4 || p.dims.length === 3));
  if (imageLike.length === 1) return (imageLike[0] as PortLike).name;
  throw new InputFileError(
    `images can only feed a model with one image input; this model takes ${list(ports)}: give its inputs as .npy or .json files instead.`,
  );
}
