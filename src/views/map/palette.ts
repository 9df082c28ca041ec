/**
 * How the map encodes what it shows. Status is never colour alone: every status has its own
 * shape (and the legend names both). Colours are the Okabe-Ito palette, safe for the common
 * forms of colour blindness.
 */
import type { Backend } from '../../protocol/capabilities.ts';
import type { PeerStatus } from '../../protocol/telemetry.ts';

/** Okabe & Ito (2008), "Color Universal Design". */
export const OKABE_ITO = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

export type NodeKind = PeerStatus | 'coordinator' | 'requester' | 'observer' | 'rest';

export type Shape = 'circle' | 'ring' | 'square' | 'triangle' | 'diamond' | 'hollow-diamond' | 'hexagon' | 'dashed-circle';

export interface NodeStyle {
  readonly label: string;
  readonly shape: Shape;
  readonly colour: string;
  /** What the legend says the symbol means. */
  readonly meaning: string;
}

export const NODE_STYLES: Readonly<Record<Exclude<NodeKind, 'online'>, NodeStyle>> = {
  coordinator: { label: 'Coordinator', shape: 'hexagon', colour: OKABE_ITO.black, meaning: 'leases shards and verifies results' },
  working: { label: 'Working', shape: 'circle', colour: OKABE_ITO.bluishGreen, meaning: 'volunteer with a shard in hand (filled circle)' },
  idle: { label: 'Idle', shape: 'ring', colour: OKABE_ITO.skyBlue, meaning: 'volunteer waiting for work (hollow ring)' },
  paused: { label: 'Paused', shape: 'square', colour: OKABE_ITO.orange, meaning: 'volunteer that paused (square with bars)' },
  quarantined: {
    label: 'Quarantined',
    shape: 'triangle',
    colour: OKABE_ITO.vermillion,
    meaning: 'caught lying against known answers: gets no more work (triangle with ✕)',
  },
  requester: { label: 'Requester', shape: 'diamond', colour: OKABE_ITO.reddishPurple, meaning: 'submits jobs (filled diamond)' },
  observer: { label: 'Observer', shape: 'hollow-diamond', colour: OKABE_ITO.blue, meaning: 'read-only map like this one (hollow diamond)' },
  rest: { label: 'More peers', shape: 'dashed-circle', colour: '#6b7385', meaning: 'peers beyond the frame limit, summarised' },
};

/**
 * Where a volunteer gathers on the map: GPUs to one side (-1), CPUs to the other (+1). A
 * headless volunteer's onnxruntime-node CPU sits with the tabs' WASM: both compute on the CPU.
 * A record, so a new backend cannot reach the map without a place on it.
 */
export const BACKEND_SIDE: Readonly<Record<Backend, -1 | 1>> = { webgpu: -1, wasm: 1, 'node-cpu': 1 };

/** Edge and flow colours; each flow also has its own form (moving dot in or out, solid or dashed flash). */
export const FLOW_STYLES = {
  lease: { colour: OKABE_ITO.blue, meaning: 'lease issued: dot travels out to the volunteer' },
  result: { colour: OKABE_ITO.bluishGreen, meaning: 'result in: dot travels back to the coordinator' },
  verified: { colour: OKABE_ITO.bluishGreen, meaning: 'verified: edge flashes solid' },
  disagreement: { colour: OKABE_ITO.vermillion, meaning: 'disagreement: edge flashes dashed' },
} as const;

/** The part of the canvas path API the shapes use; a canvas context, a Path2D or `svgPath`. */
export interface PathSink {
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, r: number, start: number, end: number): void;
  rect(x: number, y: number, w: number, h: number): void;
  closePath(): void;
}

/** Traces one shape centred on (x, y) with "radius" r into the current path. */
export function traceShape(ctx: PathSink, shape: Shape, x: number, y: number, r: number): void {
  switch (shape) {
    case 'circle':
    case 'ring':
    case 'dashed-circle':
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, Math.PI * 2);
      break;
    case 'square': {
      const s = r * 0.9;
      ctx.rect(x - s, y - s, 2 * s, 2 * s);
      break;
    }
    case 'triangle': {
      const h = r * 1.25;
      ctx.moveTo(x, y - h);
      ctx.lineTo(x + h * 0.95, y + h * 0.7);
      ctx.lineTo(x - h * 0.95, y + h * 0.7);
      ctx.closePath();
      break;
    }
    case 'diamond':
    case 'hollow-diamond': {
      const d = r * 1.2;
      ctx.moveTo(x, y - d);
      ctx.lineTo(x + d, y);
      ctx.lineTo(x, y + d);
      ctx.lineTo(x - d, y);
      ctx.closePath();
      break;
    }
    case 'hexagon':
      for (let i = 0; i < 6; i++) {
        const a = (Math.PI / 3) * i + Math.PI / 6;
        const px = x + r * Math.cos(a);
        const py = y + r * Math.sin(a);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      ctx.closePath();
      break;
  }
}

/** Shapes drawn as outlines only (with a white fill). */
export const HOLLOW: ReadonlySet<Shape> = new Set(['ring', 'hollow-diamond', 'dashed-circle']);

/** The same shapes as SVG path data, for the legend (full circles only, as the map draws them). */
export function svgPath(shape: Shape, x: number, y: number, r: number): string {
  const parts: string[] = [];
  const f = (n: number): string => n.toFixed(2);
  traceShape(
    {
      moveTo: (px, py) => parts.push(`M${f(px)} ${f(py)}`),
      lineTo: (px, py) => parts.push(`L${f(px)} ${f(py)}`),
      arc: (cx, cy, rr) => parts.push(`M${f(cx + rr)} ${f(cy)}A${f(rr)} ${f(rr)} 0 1 1 ${f(cx - rr)} ${f(cy)}A${f(rr)} ${f(rr)} 0 1 1 ${f(cx + rr)} ${f(cy)}`),
      rect: (rx, ry, w, h) => parts.push(`M${f(rx)} ${f(ry)}h${f(w)}v${f(h)}h${f(-w)}Z`),
      closePath: () => parts.push('Z'),
    },
    shape,
    x,
    y,
    r,
  );
  return parts.join('');
}
