/**
 * The live map: a canvas driven by `MapScene`, fed straight from the store (no React render per
 * frame), with a hover tooltip and click-to-select.
 */
import { useEffect, useRef, useState, type MouseEvent, type PointerEvent } from 'react';
import { useQuorumStore } from '../../stores/store.ts';
import { COORDINATOR_ID, MapScene, REST_ID, type FrameStats, type MapNode } from './mapScene.ts';
import type {} from './mapTestHook.ts';

function tooltipText(n: MapNode): string {
  if (n.id === COORDINATOR_ID) return 'Coordinator';
  if (n.id === REST_ID) return 'More peers (summarised)';
  const p = n.peer;
  if (!p) return n.id;
  if (p.role !== 'volunteer') return `${p.role} ${p.peerId.slice(0, 10)}`;
  const rate = p.agreementRate === null ? '—' : `${(p.agreementRate * 100).toFixed(0)}%`;
  return `${p.status} · ${p.backend ?? '?'} · ${p.shardsDone} shards · agreement ${rate}`;
}

export function NetworkMap({ selectedId, onSelect, label }: { selectedId: string | null; onSelect: (id: string | null) => void; label: string }) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const sceneRef = useRef<MapScene | null>(null);
  const [hover, setHover] = useState<{ id: string; text: string; x: number; y: number; width: number } | null>(null);

  useEffect(() => {
    const canvas = canvasRef.current;
    const wrap = wrapRef.current;
    if (!canvas || !wrap) return;
    let last: FrameStats | null = null;
    const scene = new MapScene(canvas, { onStats: (s) => (last = s) });
    sceneRef.current = scene;
    const fit = (): void => {
      const r = wrap.getBoundingClientRect();
      scene.resize(r.width, r.height, window.devicePixelRatio || 1);
    };
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(wrap);
    scene.update(useQuorumStore.getState().network.telemetry, performance.now());
    const unsubscribe = useQuorumStore.subscribe((s, prev) => {
      if (s.network.telemetry !== prev.network.telemetry) scene.update(s.network.telemetry, performance.now());
    });
    if (import.meta.env.MODE === 'test') window.__quorumMap = { positionOf: (id) => scene.screenPosition(id), stats: () => last };
    return () => {
      unsubscribe();
      ro.disconnect();
      scene.destroy();
      sceneRef.current = null;
    };
  }, []);

  useEffect(() => sceneRef.current?.setSelected(selectedId), [selectedId]);

  const at = (e: PointerEvent | MouseEvent): { x: number; y: number } => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  return (
    <div className="map-canvas-wrap" ref={wrapRef}>
      <canvas
        ref={canvasRef}
        data-testid="map-canvas"
        role="img"
        aria-label={label}
        onPointerMove={(e) => {
          const scene = sceneRef.current;
          if (!scene) return;
          const { x, y } = at(e);
          const node = scene.nodeAt(x, y);
          scene.setHovered(node);
          setHover(node ? { id: node.id, text: tooltipText(node), x, y, width: e.currentTarget.clientWidth } : null);
        }}
        onPointerLeave={() => {
          sceneRef.current?.setHovered(null);
          setHover(null);
        }}
        onClick={(e) => {
          const { x, y } = at(e);
          const node = sceneRef.current?.nodeAt(x, y) ?? null;
          onSelect(node ? node.id : null);
        }}
        style={{ cursor: hover ? 'pointer' : 'default' }}
      />
      {hover ? (
        <div
          className="map-tooltip"
          data-testid="map-tooltip"
          // Beside the pointer on whichever side has room; in a corner on narrow (phone) maps.
          style={
            hover.width < 600
              ? { left: 8, top: 8 }
              : hover.x > hover.width / 2
                ? { right: hover.width - hover.x + 12, top: hover.y + 12 }
                : { left: hover.x + 12, top: hover.y + 12 }
          }
        >
          {hover.text}
        </div>
      ) : null}
    </div>
  );
}
