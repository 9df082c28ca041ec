/**
 * The OCR pipeline's models on the app's own InferenceEngine (onnxruntime-web, in the volunteer's
 * Worker): each model id maps to the content hash its bytes were loaded under, and a run is the
 * engine's run. The engine reports the backend per run; the pipeline only needs the outputs.
 */
import type { InferenceEngine } from '../../runtime/engine.ts';
import type { ModelHash } from '../../protocol/ids.ts';
import type { OcrModelId, OcrModels } from './pipeline.ts';

export function engineOcrModels(engine: Pick<InferenceEngine, 'run'>, hashes: Readonly<Record<OcrModelId, ModelHash>>): OcrModels {
  return {
    async run(model, inputs) {
      return (await engine.run(hashes[model], inputs)).outputs;
    },
  };
}
