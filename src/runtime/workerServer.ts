/**
 * The worker's side of workerProtocol.ts: feeds requests to an InferenceEngine and answers them.
 * Separate from inference.worker.ts so Node tests can drive it over a MessageChannel.
 */
import { createBundleEngine } from './bundleEngine.ts';
import type { InferenceEngine } from './engine.ts';
import type { ImageDecoder } from './imagePipeline.ts';
import { parseWorkerRequest } from './workerProtocol.ts';
import type { WorkerRequest, WorkerResultMap, WorkerRequestKind, WorkerToPage } from './workerProtocol.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** The little of DedicatedWorkerGlobalScope (or a MessagePort) that the server needs. */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
}

type Reply = { readonly value: WorkerResultMap[WorkerRequestKind]; readonly transfer: Transferable[] };

async function handle(engine: InferenceEngine & Required<Pick<InferenceEngine, 'runPipeline'>>, req: WorkerRequest): Promise<Reply> {
  switch (req.kind) {
    case 'init':
      return { value: await engine.init(req.prefs), transfer: [] };
    case 'load':
      return { value: await engine.loadModel(req.hash, req.bytes), transfer: [] };
    case 'run': {
      const result = await engine.run(req.hash, req.inputs);
      // Output buffers are fresh and ours alone: move them to the page instead of copying.
      return { value: result, transfer: result.outputs.map((t) => t.data) };
    }
    case 'run-pipeline': {
      // [W-22] [W-23] Decoded and run here, beside the engine: the page never holds the shard's
      // float tensor, and an answer pipeline's many model runs never cross the thread boundary.
      const result = await engine.runPipeline(req.hash, req.pipeline, req.files);
      return { value: result, transfer: result.outputs.map((t) => t.data) };
    }
    case 'unload':
      await engine.unloadModel(req.hash);
      return { value: null, transfer: [] };
    case 'dispose':
      await engine.dispose();
      return { value: null, transfer: [] };
  }
}

/**
 * Serves `engine` on `endpoint`, with asset bundles and file pipelines ([J-9], [W-23]); `decode`
 * reads the image files of pipeline runs ([W-22]), none when null.
 */
export function serveEngine(endpoint: MessageEndpoint, inner: InferenceEngine, decode: ImageDecoder | null = null): void {
  const engine = createBundleEngine(inner, decode);
  const send = (msg: WorkerToPage, transfer: Transferable[] = []): void => endpoint.postMessage(msg, transfer);
  engine.onCapabilitiesChanged?.((capabilities) => send({ type: 'event', kind: 'capabilitiesChanged', capabilities }));
  endpoint.addEventListener('message', (event) => {
    const req = parseWorkerRequest(event.data);
    if ('malformed' in req) {
      if (req.id === null) console.error(`Quorum inference worker: ignored a ${req.malformed}`);
      else send({ type: 'response', id: req.id, ok: false, error: req.malformed });
      return;
    }
    handle(engine, req).then(
      ({ value, transfer }) => send({ type: 'response', id: req.id, ok: true, value }, transfer),
      (err: unknown) => send({ type: 'response', id: req.id, ok: false, error: errorMessage(err) }),
    );
  });
}
