/**
 * The network map's drawing: a d3-force layout of the coordinator and its peers, drawn on one
 * canvas. Kept out of React so that 500 nodes cost one draw per animation frame and no DOM.
 *
 * Layout: the coordinator sits fixed in the middle; volunteers gather in a disc around it, WebGPU
 * ones to the left and WASM ones to the right; paused and quarantined volunteers are pushed out to
 * a ring around the disc, requesters and observers stay close to the coordinator; repulsion and
 * collision keep nodes apart.
 * Every telemetry frame's flows become one batch of animations: lease dots travel out, result
 * dots travel in, verified edges flash solid, disagreements flash dashed.
 */
import { forceCollide, forceManyBody, forceRadial, forceSimulation, forceX, forceY, type Simulation, type SimulationNodeDatum } from 'd3-force';
import type { TelemetryFrame } from '../../core/telemetry/aggregator.ts';
import type { TelemetryPeer } from '../../protocol/telemetry.ts';
import { BACKEND_SIDE, FLOW_STYLES, HOLLOW, NODE_STYLES, traceShape, type NodeKind } from './palette.ts';

export const COORDINATOR_ID = '__coordinator';
export const REST_ID = '__rest';

export interface MapNode extends SimulationNodeDatum {
  readonly id: string;
  kind: Exclude<NodeKind, 'online'>;
  /** Radius in world units. */
  r: number;
  webgpu: boolean;
  peer: TelemetryPeer | null;
  /** Distance from the coordinator this node is pulled to; 0 = no pull (it joins the disc). */
  ring: number;
  /** -1 pulls left (WebGPU), +1 right (WASM), 0 neither. */
  side: number;
  /** 0..1, spreads this node's flow dots over the tick. */
  phase: number;
}

interface FlowBatch {
  readonly startMs: number;
  readonly leases: MapNode[];
  readonly results: MapNode[];
  readonly verified: MapNode[];
  readonly disagreements: MapNode[];
}

export interface FrameStats {
  /** Frames drawn in the last full second. */
  readonly fps: number;
  /** Mean and worst time spent in one frame (layout + draw), in ms. */
  readonly meanFrameMs: number;
  readonly maxFrameMs: number;
  readonly nodes: number;
}

export interface MapSceneOptions {
  /** Called once a second with the scene's own frame statistics. */
  onStats?: (stats: FrameStats) => void;
}

const TRAVEL_MS = 500;
const SPREAD_MS = 400;
const FLASH_MS = 1200;
const BATCH_LIFE_MS = SPREAD_MS + Math.max(TRAVEL_MS, FLASH_MS);

/** A stable number in [0, 1) from an id, so a node's place and timing do not jump between frames. */
function hash01(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) / 4294967296;
}

function kindOf(p: TelemetryPeer): MapNode['kind'] {
  if (p.role === 'requester') return 'requester';
  if (p.role === 'observer') return 'observer';
  return p.status === 'online' ? 'idle' : p.status;
}

/** Volunteers gather by the kind of hardware that computes; others (and unknown backends) in the middle. */
function sideOf(p: TelemetryPeer): number {
  return p.role === 'volunteer' && p.backend !== null ? BACKEND_SIDE[p.backend] : 0;
}

/** Node radius: volunteers grow with throughput (results/s), on a square-root scale. */
export function radiusOf(p: TelemetryPeer): number {
  if (p.role !== 'volunteer') return 6;
  const r = 3.5 + 2.4 * Math.sqrt(Math.min(p.throughputPerS, 16));
  // Volunteers that do no work would be the smallest, yet they are the ones to notice.
  return p.status === 'quarantined' ? Math.max(r, 7) : p.status === 'paused' ? Math.max(r, 5) : r;
}

export class MapScene {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly sim: Simulation<MapNode, undefined>;
  private readonly nodes = new Map<string, MapNode>();
  private readonly coordinator: MapNode;
  private batches: FlowBatch[] = [];
  private widthCss = 300;
  private heightCss = 300;
  private dpr = 1;
  /** World → screen: screen = world * scale + offset (CSS pixels). */
  private view = { scale: 1, ox: 150, oy: 150 };
  private raf = 0;
  private hovered: MapNode | null = null;
  private selectedId: string | null = null;
  private unit = 80;
  private portrait = false;
  private readonly reducedMotion: boolean;
  private stats = { frames: 0, totalMs: 0, maxMs: 0, since: 0 };
  private frameNo = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly options: MapSceneOptions = {},
  ) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('This browser cannot draw on a canvas, so the network map cannot be shown.');
    this.ctx = ctx;
    this.reducedMotion = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.coordinator = { id: COORDINATOR_ID, kind: 'coordinator', r: 13, webgpu: false, peer: null, ring: 0, side: 0, phase: 0, x: 0, y: 0, fx: 0, fy: 0 };
    this.nodes.set(COORDINATOR_ID, this.coordinator);
    this.sim = forceSimulation<MapNode>([...this.nodes.values()])
      // Repulsion only among near neighbours: collision does the packing.
      .force('charge', forceManyBody<MapNode>().strength(-8).theta(1.2).distanceMax(60))
      .force(
        'ring',
        forceRadial<MapNode>((d) => d.ring, 0, 0).strength((d) => (d.ring > 0 ? 0.2 : 0)),
      )
      // The two backends side by side, or one above the other on a tall (phone) screen.
      .force(
        'x',
        forceX<MapNode>((d) => (this.portrait ? 0 : d.side * this.unit * 0.5)).strength((d) => (d.ring > 0 ? 0 : 0.07)),
      )
      .force(
        'y',
        forceY<MapNode>((d) => (this.portrait ? d.side * this.unit * 0.5 : 0)).strength((d) => (d.ring > 0 ? 0 : 0.07)),
      )
      .force(
        'collide',
        forceCollide<MapNode>((d) => d.r + 2),
      )
      .stop(); // ticked from our own animation frame, so there is one loop
    this.raf = requestAnimationFrame(this.loop);
  }

  /** Takes a new telemetry frame: syncs nodes, restarts the layout if needed, queues flows. */
  update(frame: TelemetryFrame | null, nowMs: number): void {
    const peers = frame?.peers ?? [];
    const seen = new Set<string>([COORDINATOR_ID]);
    // Nodes that came or went shake the layout up; a node moving to another ring nudges it.
    let structural = false;
    let moved = false;
    const volunteers = peers.filter((p) => p.role === 'volunteer').length;
    // About the radius of the disc the volunteers fill.
    this.unit = 40 + 11 * Math.sqrt(volunteers + 1);
    const batch: FlowBatch = { startMs: nowMs, leases: [], results: [], verified: [], disagreements: [] };
    for (const p of peers) {
      seen.add(p.peerId);
      let node = this.nodes.get(p.peerId);
      const kind = kindOf(p);
      const ring = this.ringOf(kind);
      if (!node) {
        // New nodes start at a stable place near where they belong, so the layout settles fast.
        const angle = hash01(p.peerId) * Math.PI * 2;
        const dist = ring > 0 ? ring : this.unit * Math.sqrt(hash01(`${p.peerId}~`));
        node = {
          id: p.peerId,
          kind,
          r: radiusOf(p),
          webgpu: p.backend === 'webgpu',
          peer: p,
          ring,
          side: sideOf(p),
          phase: hash01(`${p.peerId}#`),
          x: Math.cos(angle) * dist,
          y: Math.sin(angle) * dist,
        };
        this.nodes.set(p.peerId, node);
        structural = true;
      } else {
        if (node.ring !== ring) moved = true;
        node.kind = kind;
        node.ring = ring;
        node.peer = p;
        node.r = radiusOf(p);
        node.webgpu = p.backend === 'webgpu';
        node.side = sideOf(p);
      }
      if (p.flow.leases > 0) batch.leases.push(node);
      if (p.flow.results > 0) batch.results.push(node);
      if (p.flow.verified > 0) batch.verified.push(node);
      if (p.flow.disagreements > 0) batch.disagreements.push(node);
    }
    const rest = frame?.rest.peers ?? 0;
    if (rest > 0) {
      seen.add(REST_ID);
      let node = this.nodes.get(REST_ID);
      if (!node) {
        node = { id: REST_ID, kind: 'rest', r: 10, webgpu: false, peer: null, ring: 45, side: 0, phase: 0, x: 0, y: 45 };
        this.nodes.set(REST_ID, node);
        structural = true;
      }
      node.r = 8 + Math.min(20, Math.sqrt(rest));
    }
    for (const id of [...this.nodes.keys()]) {
      if (!seen.has(id)) {
        this.nodes.delete(id);
        structural = true;
        if (this.hovered?.id === id) this.hovered = null;
      }
    }
    if (structural || moved) {
      this.sim.nodes([...this.nodes.values()]);
      (this.sim.force('collide') as ReturnType<typeof forceCollide<MapNode>>).radius((d) => d.r + 2);
      this.sim.alpha(Math.max(this.sim.alpha(), structural ? 0.4 : 0.12));
    }
    if (batch.leases.length + batch.results.length + batch.verified.length + batch.disagreements.length > 0) this.batches.push(batch);
  }

  resize(widthCss: number, heightCss: number, dpr: number): void {
    this.widthCss = Math.max(1, widthCss);
    this.heightCss = Math.max(1, heightCss);
    this.dpr = Math.max(1, Math.min(dpr, 2));
    this.canvas.width = Math.round(this.widthCss * this.dpr);
    this.canvas.height = Math.round(this.heightCss * this.dpr);
    const portrait = this.heightCss > this.widthCss * 1.15;
    if (portrait !== this.portrait) {
      this.portrait = portrait;
      this.sim.nodes([...this.nodes.values()]); // re-reads the side targets
      this.sim.alpha(Math.max(this.sim.alpha(), 0.5));
    }
  }

  /** The node under a point in CSS pixels relative to the canvas, if any. */
  nodeAt(x: number, y: number): MapNode | null {
    const { scale, ox, oy } = this.view;
    const wx = (x - ox) / scale;
    const wy = (y - oy) / scale;
    // Generous on small screens: at least 10 CSS pixels of slop.
    const found = this.sim.find(wx, wy, 40) ?? null;
    if (!found) return null;
    const d = Math.hypot(found.x! - wx, found.y! - wy);
    return d <= found.r + 10 / scale ? found : null;
  }

  /** Where a node is drawn, in CSS pixels relative to the canvas (for tooltips and tests). */
  screenPosition(id: string): { x: number; y: number } | null {
    const n = this.nodes.get(id);
    if (!n) return null;
    return { x: n.x! * this.view.scale + this.view.ox, y: n.y! * this.view.scale + this.view.oy };
  }

  setHovered(node: MapNode | null): void {
    this.hovered = node;
  }

  setSelected(id: string | null): void {
    this.selectedId = id;
  }

  destroy(): void {
    cancelAnimationFrame(this.raf);
    this.sim.stop();
  }

  private ringOf(kind: MapNode['kind']): number {
    switch (kind) {
      case 'requester':
      case 'observer':
        return 30;
      case 'paused':
        return this.unit * 1.2;
      case 'quarantined':
        return this.unit * 1.4;
      default:
        return 0;
    }
  }

  private readonly loop = (t: number): void => {
    this.raf = requestAnimationFrame(this.loop);
    const start = performance.now();
    // The layout is the costliest part of a frame: once it has nearly settled, it is stepped on
    // every third frame only (the nudges of later frames need no 60 Hz).
    const alpha = this.sim.alpha();
    this.frameNo++;
    if (alpha >= this.sim.alphaMin() && (alpha > 0.05 || this.frameNo % 3 === 0)) this.sim.tick();
    this.fitView();
    this.draw(start);
    const spent = performance.now() - start;
    const s = this.stats;
    if (s.since === 0) s.since = t;
    s.frames++;
    s.totalMs += spent;
    s.maxMs = Math.max(s.maxMs, spent);
    if (t - s.since >= 1000) {
      const stats: FrameStats = {
        fps: Math.round((s.frames * 1000) / (t - s.since)),
        meanFrameMs: s.totalMs / s.frames,
        maxFrameMs: s.maxMs,
        nodes: this.nodes.size,
      };
      this.canvas.dataset['fps'] = String(stats.fps);
      this.canvas.dataset['frameMs'] = stats.meanFrameMs.toFixed(2);
      this.canvas.dataset['maxFrameMs'] = stats.maxFrameMs.toFixed(2);
      this.canvas.dataset['nodes'] = String(stats.nodes);
      this.options.onStats?.(stats);
      this.stats = { frames: 0, totalMs: 0, maxMs: 0, since: t };
    }
  };

  /** Eases the view towards one that shows every node with a margin. */
  private fitView(): void {
    let minX = -20;
    let maxX = 20;
    let minY = -20;
    let maxY = 20;
    for (const n of this.nodes.values()) {
      const x = n.x ?? 0;
      const y = n.y ?? 0;
      if (x - n.r < minX) minX = x - n.r;
      if (x + n.r > maxX) maxX = x + n.r;
      if (y - n.r < minY) minY = y - n.r;
      if (y + n.r > maxY) maxY = y + n.r;
    }
    const margin = 16;
    const scale = Math.min(2.2, (this.widthCss - 2 * margin) / (maxX - minX), (this.heightCss - 2 * margin) / (maxY - minY));
    const ox = this.widthCss / 2 - ((minX + maxX) / 2) * scale;
    const oy = this.heightCss / 2 - ((minY + maxY) / 2) * scale;
    const v = this.view;
    const k = v.scale === 1 && v.ox === 150 ? 1 : 0.12;
    v.scale += (scale - v.scale) * k;
    v.ox += (ox - v.ox) * k;
    v.oy += (oy - v.oy) * k;
  }

  private draw(nowMs: number): void {
    const ctx = this.ctx;
    const { scale, ox, oy } = this.view;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, this.widthCss, this.heightCss);
    ctx.setTransform(this.dpr * scale, 0, 0, this.dpr * scale, this.dpr * ox, this.dpr * oy);
    const px = 1 / scale; // one CSS pixel in world units
    const c = this.coordinator;

    // Spokes: every peer's channel to the coordinator, in one path.
    ctx.beginPath();
    for (const n of this.nodes.values()) {
      if (n === c) continue;
      ctx.moveTo(c.x!, c.y!);
      ctx.lineTo(n.x!, n.y!);
    }
    ctx.strokeStyle = 'rgba(29, 35, 48, 0.10)';
    ctx.lineWidth = px;
    ctx.stroke();

    this.batches = this.batches.filter((b) => nowMs - b.startMs < BATCH_LIFE_MS);
    for (const b of this.batches) this.drawFlashes(b, nowMs, px);
    this.drawNodes(px);
    if (!this.reducedMotion) for (const b of this.batches) this.drawDots(b, nowMs, px);
    this.drawCoordinator(px);
    this.drawHighlights(px);
  }

  private drawFlashes(b: FlowBatch, nowMs: number, px: number): void {
    const ctx = this.ctx;
    const c = this.coordinator;
    const age = (nowMs - b.startMs - SPREAD_MS / 2) / FLASH_MS;
    if (age < 0 || age >= 1) return;
    const alpha = 0.6 * (1 - age);
    // The outer part of each edge only: as readable, and far fewer pixels to paint.
    const from = 0.45;
    const edge = (list: MapNode[], colour: string, width: number, dash: number[]): void => {
      if (list.length === 0) return;
      ctx.beginPath();
      for (const n of list) {
        ctx.moveTo(c.x! + (n.x! - c.x!) * from, c.y! + (n.y! - c.y!) * from);
        ctx.lineTo(n.x!, n.y!);
      }
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = colour;
      ctx.lineWidth = width * px;
      ctx.setLineDash(dash.map((d) => d * px));
      ctx.stroke();
    };
    edge(b.verified, FLOW_STYLES.verified.colour, 1.2, []);
    edge(b.disagreements, FLOW_STYLES.disagreement.colour, 2.4, [5, 3]);
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  }

  private drawDots(b: FlowBatch, nowMs: number, px: number): void {
    const ctx = this.ctx;
    const c = this.coordinator;
    const dots = (list: MapNode[], colour: string, outward: boolean): void => {
      if (list.length === 0) return;
      ctx.beginPath();
      const r = 2.2 * px;
      for (const n of list) {
        const t = (nowMs - b.startMs - n.phase * SPREAD_MS) / TRAVEL_MS;
        if (t < 0 || t > 1) continue;
        const f = outward ? t : 1 - t;
        const x = c.x! + (n.x! - c.x!) * f;
        const y = c.y! + (n.y! - c.y!) * f;
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, Math.PI * 2);
      }
      ctx.fillStyle = colour;
      ctx.fill();
    };
    dots(b.leases, FLOW_STYLES.lease.colour, true);
    dots(b.results, FLOW_STYLES.result.colour, false);
  }

  private drawNodes(px: number): void {
    const ctx = this.ctx;
    // One path per kind: a handful of fills and strokes whatever the number of nodes.
    const groups = new Map<MapNode['kind'], MapNode[]>();
    for (const n of this.nodes.values()) {
      if (n === this.coordinator) continue;
      const g = groups.get(n.kind);
      if (g) g.push(n);
      else groups.set(n.kind, [n]);
    }
    for (const [kind, list] of groups) {
      const style = NODE_STYLES[kind];
      ctx.beginPath();
      for (const n of list) traceShape(ctx, style.shape, n.x!, n.y!, n.r);
      const hollow = HOLLOW.has(style.shape);
      ctx.fillStyle = hollow ? '#ffffff' : style.colour;
      ctx.fill();
      ctx.strokeStyle = hollow ? style.colour : 'rgba(0,0,0,0.55)';
      ctx.lineWidth = (hollow ? 2 : 0.8) * px;
      if (style.shape === 'dashed-circle') ctx.setLineDash([3 * px, 2 * px]);
      ctx.stroke();
      ctx.setLineDash([]);
      // Glyphs inside larger symbols: pause bars, a cross for quarantine.
      if (kind === 'paused' || kind === 'quarantined') {
        ctx.beginPath();
        for (const n of list) {
          if (n.r * (1 / px) < 4) continue;
          const s = n.r * 0.45;
          if (kind === 'paused') {
            ctx.moveTo(n.x! - s * 0.5, n.y! - s);
            ctx.lineTo(n.x! - s * 0.5, n.y! + s);
            ctx.moveTo(n.x! + s * 0.5, n.y! - s);
            ctx.lineTo(n.x! + s * 0.5, n.y! + s);
          } else {
            ctx.moveTo(n.x! - s, n.y! - s * 0.4);
            ctx.lineTo(n.x! + s, n.y! + s * 1.2);
            ctx.moveTo(n.x! + s, n.y! - s * 0.4);
            ctx.lineTo(n.x! - s, n.y! + s * 1.2);
          }
        }
        ctx.strokeStyle = '#ffffff';
        ctx.lineWidth = 1.5 * px;
        ctx.stroke();
      }
    }
    // WebGPU volunteers wear a second ring.
    ctx.beginPath();
    for (const n of this.nodes.values()) {
      if (!n.webgpu || n.kind === 'quarantined') continue;
      ctx.moveTo(n.x! + n.r + 2 * px, n.y!);
      ctx.arc(n.x!, n.y!, n.r + 2 * px, 0, Math.PI * 2);
    }
    ctx.strokeStyle = 'rgba(0, 114, 178, 0.8)';
    ctx.lineWidth = px;
    ctx.stroke();

    const rest = this.nodes.get(REST_ID);
    if (rest) {
      ctx.fillStyle = '#3d4658';
      ctx.font = `${11 * px}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('more', rest.x!, rest.y!);
    }
  }

  /** Drawn last but for highlights: the hub stays visible under the traffic around it. */
  private drawCoordinator(px: number): void {
    const ctx = this.ctx;
    const c = this.coordinator;
    const style = NODE_STYLES.coordinator;
    ctx.beginPath();
    traceShape(ctx, style.shape, c.x!, c.y!, c.r);
    ctx.fillStyle = style.colour;
    ctx.fill();
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 1.5 * px;
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    ctx.font = `bold ${12 * px}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('C', c.x!, c.y!);
  }

  private drawHighlights(px: number): void {
    const ctx = this.ctx;
    const ring = (n: MapNode | null | undefined, colour: string, width: number): void => {
      if (!n) return;
      ctx.beginPath();
      ctx.arc(n.x!, n.y!, n.r + 4 * px, 0, Math.PI * 2);
      ctx.strokeStyle = colour;
      ctx.lineWidth = width * px;
      ctx.stroke();
    };
    ring(this.selectedId ? this.nodes.get(this.selectedId) : null, '#1d2330', 2.5);
    ring(this.hovered, '#1d2330', 1.5);
  }
}
