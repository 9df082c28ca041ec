/**
 * [V-12] Verified answers as a person reads them: for OCR, each image as a thumbnail with its
 * boxes drawn over it and its recognised lines beside it; for speech, each file's segments and a
 * timeline bar. Renders what the store holds; the image is the requester's own file while this tab
 * still has it (after a reload only the lines are shown).
 */
import type { Answer, OcrLine, Segment } from '../protocol/pipeline.ts';
import type { ItemPreview } from '../model/requesterView.ts';

/** Items drawn on the page; the exports hold them all. */
const SHOWN_ITEMS = 100;
const THUMB_WIDTH = 240;

export function AnswerResults(props: {
  answers: readonly (Answer | null)[];
  itemNames: readonly string[] | null;
  previews: Readonly<Record<string, ItemPreview>> | undefined;
}) {
  const { answers, itemNames, previews } = props;
  const shown = answers.slice(0, SHOWN_ITEMS);
  return (
    <div className="answers" data-testid="answers">
      {shown.map((a, i) => {
        const name = itemNames?.[i] ?? `item ${i}`;
        const preview = previews?.[name];
        return (
          <div className="answer" key={i} data-testid="answer" data-item={i}>
            <div className="answer-name">
              <code>{name}</code>
            </div>
            {a === null ? <p className="muted">not verified</p> : null}
            {a?.kind === 'ocr' ? <OcrAnswer lines={a.lines} preview={preview} /> : null}
            {a?.kind === 'segments' ? <SegmentsAnswer segments={a.segments} durationS={preview?.durationS} /> : null}
            {a?.kind === 'labels' ? <p className="mono">{a.labels.map((l) => `${l.index} (${l.score.toFixed(3)})`).join(', ')}</p> : null}
          </div>
        );
      })}
      {answers.length > shown.length ? (
        <p className="muted">
          {answers.length - shown.length} more {answers.length - shown.length === 1 ? 'item is' : 'items are'} in the exports.
        </p>
      ) : null}
    </div>
  );
}

const points = (l: OcrLine): string => l.box.map(([x, y]) => `${x},${y}`).join(' ');

function OcrAnswer({ lines, preview }: { lines: readonly OcrLine[]; preview: ItemPreview | undefined }) {
  const { url, width, height } = preview ?? {};
  return (
    <div className="ocr-answer">
      {url && width && height ? (
        // The overlay's viewBox is the image's own pixel grid, so the boxes scale with the thumbnail.
        <svg className="ocr-thumb" width={THUMB_WIDTH} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${lines.length} text boxes`}>
          <image href={url} x={0} y={0} width={width} height={height} />
          {lines.map((l, k) => (
            <polygon key={k} points={points(l)} fill="rgba(46, 158, 91, 0.15)" stroke="#2e9e5b" strokeWidth={Math.max(1, width / THUMB_WIDTH)} />
          ))}
        </svg>
      ) : null}
      {lines.length === 0 ? (
        <p className="muted">no text found</p>
      ) : (
        <ol className="ocr-lines" data-testid="ocr-lines">
          {lines.map((l, k) => (
            <li key={k}>
              {l.text} <span className="muted">({(l.confidence * 100).toFixed(0)} %)</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function SegmentsAnswer({ segments, durationS }: { segments: readonly Segment[]; durationS: number | undefined }) {
  // Without the file (after a reload) the bar spans up to the last segment's end.
  const total = Math.max(durationS ?? 0, ...segments.map((s) => s.end), 1e-3);
  const pct = (s: number): string => `${((100 * s) / total).toFixed(3)}%`;
  return (
    <div className="segments-answer">
      <div className="timeline" aria-label={`${segments.length} speech segments in ${total.toFixed(2)} s`}>
        {segments.map((s, k) => (
          <span key={k} className="timeline-speech" style={{ left: pct(s.start), width: pct(s.end - s.start) }} />
        ))}
      </div>
      {segments.length === 0 ? (
        <p className="muted">no speech found</p>
      ) : (
        <ol className="segments" data-testid="segments">
          {segments.map((s, k) => (
            <li key={k}>
              {s.start.toFixed(2)}–{s.end.toFixed(2)} s
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
