/**
 * TEST BUILDS ONLY: an engine that lies. It runs the real engine and corrupts every float output
 * before returning it (each value v becomes -v - 1, so no tolerance and no arg-max accepts it),
 * while reporting the backend honestly. e2e tests use it (`#/volunteer?liar=1`) to prove that a
 * lying volunteer is outvoted and quarantined; the page honours the flag only when
 * `import.meta.env.MODE === 'test'`, so production builds drop this code.
 */
import { PIPELINE_LIMITS, type Answer, type OcrLine } from '../protocol/pipeline.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import type { InferenceEngine } from './engine.ts';

export function corruptOutputs(outputs: readonly WireTensor[]): WireTensor[] {
  return outputs.map((t) => {
    if (t.dtype !== 'float32') return { ...t, data: t.data.slice(0) };
    const values = new Float32Array(t.data.slice(0));
    for (let i = 0; i < values.length; i++) values[i] = -values[i]! - 1;
    return { ...t, data: values.buffer };
  });
}

/**
 * A wrong answer that still parses, so it reaches the coordinator's comparison: every OCR line
 * read backwards in a box moved aside, plus one made-up line; every speech segment a second
 * later, plus one made up; every label the next class. The extra line or segment means even an
 * honest empty answer is contradicted.
 */
export function corruptAnswer(answer: Answer): Answer {
  switch (answer.kind) {
    case 'ocr': {
      const moved = answer.lines.map((l) => ({
        ...l,
        text: `${[...l.text].reverse().join('')}?`.slice(0, PIPELINE_LIMITS.maxLineChars),
        box: l.box.map(([x, y]) => [Math.min(x + 7, PIPELINE_LIMITS.maxCoordinate), y]) as unknown as OcrLine['box'],
      }));
      const made: OcrLine = {
        box: [
          [0, 0],
          [40, 0],
          [40, 12],
          [0, 12],
        ],
        text: 'forged',
        confidence: 0.99,
      };
      return { kind: 'ocr', lines: [...moved, made].slice(-PIPELINE_LIMITS.maxOcrLines) };
    }
    case 'segments': {
      const late = answer.segments.map((s) => ({
        start: Math.min(s.start + 1, PIPELINE_LIMITS.maxAudioSeconds),
        end: Math.min(s.end + 1, PIPELINE_LIMITS.maxAudioSeconds),
      }));
      return { kind: 'segments', segments: [...late, { start: 0, end: 0.5 }].slice(-PIPELINE_LIMITS.maxSegments) };
    }
    case 'labels':
      return { kind: 'labels', labels: answer.labels.length === 0 ? [{ index: 0, score: 1 }] : answer.labels.map((l) => ({ ...l, index: l.index + 1 })) };
  }
}

export function lyingEngine(inner: InferenceEngine): InferenceEngine {
  const runPipeline = inner.runPipeline?.bind(inner);
  return {
    ...(runPipeline && {
      runPipeline: async (hash, pipeline, files) => {
        const result = await runPipeline(hash, pipeline, files);
        return { ...result, outputs: corruptOutputs(result.outputs), ...(result.answers && { answers: result.answers.map(corruptAnswer) }) };
      },
    }),
    init: (prefs) => inner.init(prefs),
    loadModel: (hash, bytes) => inner.loadModel(hash, bytes),
    run: async (hash, inputs) => {
      const result = await inner.run(hash, inputs);
      return { ...result, outputs: corruptOutputs(result.outputs) };
    },
    unloadModel: (hash) => inner.unloadModel(hash),
    dispose: () => inner.dispose(),
    onCapabilitiesChanged: (listener) => inner.onCapabilitiesChanged?.(listener) ?? (() => {}),
  };
}
