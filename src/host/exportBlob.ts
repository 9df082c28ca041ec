/**
 * Turns an exporter's text pieces into a download without freezing the page. Writing a
 * recognizer's 10.6 M float32 values as text takes seconds; done in one go, the page would not
 * paint or answer a click until it was over. Here the pieces are drawn a few milliseconds at a
 * time, and the event loop gets its turn between runs.
 *
 * The text never becomes one string: pieces go into a Blob, and every few MiB the pieces so far
 * become a Blob of their own, so the page does not hold the whole text as strings either.
 */
import type { ExportProgress } from '../workloads/export/exporters.ts';

export interface ExportBlobOptions {
  /** The Blob's MIME type. */
  readonly type: string;
  /** Longest run of work between two turns of the event loop, in ms. */
  readonly sliceMs?: number;
  /** Characters held as strings before they are handed to a Blob. */
  readonly blobChars?: number;
  readonly now?: () => number;
  /** Gives the event loop a turn (rendering, input, network). */
  readonly yieldToLoop?: () => Promise<void>;
  /** The share of the export written so far, 0..1, after each run of work. */
  readonly onProgress?: (fraction: number) => void;
}

export const EXPORT_SLICE_MS = 12;
const BLOB_CHARS = 8 * 1024 * 1024;

/**
 * A turn of the event loop. A MessageChannel message rather than setTimeout(0): timers are
 * clamped to 4 ms when nested and to 1 s or more in a background tab, which would make an export
 * started before switching tabs take minutes.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Draws every piece of `pieces` (an exporter, given a progress callback) into a Blob. An exporter
 * that throws rejects the promise with its error; nothing is half-downloaded.
 */
export async function buildExportBlob(pieces: (progress: ExportProgress) => Iterable<string>, options: ExportBlobOptions): Promise<Blob> {
  const now = options.now ?? (() => performance.now());
  const yieldToLoop = options.yieldToLoop ?? yieldToEventLoop;
  const sliceMs = options.sliceMs ?? EXPORT_SLICE_MS;
  const blobChars = options.blobChars ?? BLOB_CHARS;
  let fraction = 0;
  const blobs: Blob[] = [];
  let held: string[] = [];
  let heldChars = 0;
  let sliceStart = now();
  for (const piece of pieces((f) => (fraction = f))) {
    held.push(piece);
    heldChars += piece.length;
    if (heldChars >= blobChars) {
      blobs.push(new Blob(held));
      held = [];
      heldChars = 0;
    }
    if (now() - sliceStart >= sliceMs) {
      options.onProgress?.(fraction);
      await yieldToLoop();
      sliceStart = now();
    }
  }
  blobs.push(new Blob(held));
  options.onProgress?.(1);
  return new Blob(blobs, { type: options.type });
}
