/** Test builds only: what the map exposes on `window` so e2e tests can find nodes on the canvas. */
import type { FrameStats } from './mapScene.ts';

export interface MapTestHook {
  /** Where a node is drawn, in CSS pixels relative to the canvas. */
  positionOf(id: string): { x: number; y: number } | null;
  /** The scene's own frame statistics of the last full second. */
  stats(): FrameStats | null;
}

declare global {
  interface Window {
    __quorumMap?: MapTestHook;
  }
}
