/** The map's key: every symbol with its shape, colour and meaning, so colour is never needed alone. */
import { FLOW_STYLES, HOLLOW, NODE_STYLES, OKABE_ITO, svgPath, type NodeStyle } from './palette.ts';

function Symbol({ style }: { style: NodeStyle }) {
  const hollow = HOLLOW.has(style.shape);
  return (
    <svg width="20" height="20" viewBox="-10 -10 20 20" aria-hidden="true">
      <path
        d={svgPath(style.shape, 0, 0, 6.5)}
        fill={hollow ? '#fff' : style.colour}
        stroke={hollow ? style.colour : 'rgba(0,0,0,0.55)'}
        strokeWidth={hollow ? 2 : 0.8}
        strokeDasharray={style.shape === 'dashed-circle' ? '3 2' : undefined}
      />
      {style.shape === 'square' ? <path d="M-1.5 -3V3M1.5 -3V3" stroke="#fff" strokeWidth="1.4" /> : null}
      {style.shape === 'triangle' ? <path d="M-2.6 -1L2.6 4M2.6 -1L-2.6 4" stroke="#fff" strokeWidth="1.4" /> : null}
      {style.shape === 'hexagon' ? (
        <text x="0" y="0.5" fontSize="8" fontWeight="bold" fill="#fff" textAnchor="middle" dominantBaseline="middle">
          C
        </text>
      ) : null}
    </svg>
  );
}

function FlowSymbol({ kind }: { kind: keyof typeof FLOW_STYLES }) {
  const colour = FLOW_STYLES[kind].colour;
  return (
    <svg width="28" height="12" viewBox="0 0 28 12" aria-hidden="true">
      {kind === 'lease' || kind === 'result' ? (
        <>
          <line x1="1" y1="6" x2="27" y2="6" stroke="rgba(29,35,48,0.25)" />
          <circle cx={kind === 'lease' ? 20 : 8} cy="6" r="3" fill={colour} />
          <path d={kind === 'lease' ? 'M23 3l3 3-3 3' : 'M5 3l-3 3 3 3'} fill="none" stroke={colour} strokeWidth="1.2" />
        </>
      ) : (
        <line
          x1="1"
          y1="6"
          x2="27"
          y2="6"
          stroke={colour}
          strokeWidth={kind === 'verified' ? 2 : 2.6}
          strokeDasharray={kind === 'disagreement' ? '5 3' : undefined}
        />
      )}
    </svg>
  );
}

export function Legend() {
  return (
    <div className="map-legend" data-testid="map-legend">
      <ul aria-label="Node symbols">
        {Object.entries(NODE_STYLES).map(([kind, style]) => (
          <li key={kind} title={style.meaning}>
            <Symbol style={style} /> {style.label}
          </li>
        ))}
        <li title="volunteer running on WebGPU (a second ring)">
          <svg width="20" height="20" viewBox="-10 -10 20 20" aria-hidden="true">
            <circle r="5" fill={OKABE_ITO.bluishGreen} stroke="rgba(0,0,0,0.55)" strokeWidth="0.8" />
            <circle r="7.5" fill="none" stroke={OKABE_ITO.blue} strokeWidth="1" />
          </svg>{' '}
          WebGPU
        </li>
      </ul>
      <ul aria-label="Flows">
        {(Object.keys(FLOW_STYLES) as (keyof typeof FLOW_STYLES)[]).map((k) => (
          <li key={k} title={FLOW_STYLES[k].meaning}>
            <FlowSymbol kind={k} /> {FLOW_STYLES[k].meaning.split(':')[0]}
          </li>
        ))}
        <li className="muted">size: throughput</li>
      </ul>
    </div>
  );
}
