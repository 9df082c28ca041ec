/**
 * Entry of the dedicated module Worker that runs onnxruntime-web off the page's main thread
 * (spawned by workerEngine.ts). Running ORT here also avoids the multithreaded-WASM pitfall of a
 * built app, whose pthread workers would otherwise import the page chunk.
 */
import { decodePixels } from '../workloads/inputs/decodeImage.ts';
import type { ImageDecoder } from './imagePipeline.ts';
import { createOrtEngine } from './ortEngine.ts';
import { serveEngine } from './workerServer.ts';
import type { MessageEndpoint } from './workerServer.ts';

/** [W-22] A job's files are decoded here, exactly (no colour management), as the requester's page checks them. */
const decodeInWorker: ImageDecoder = (bytes, name) => decodePixels(new Blob([bytes]), name);

// The app's tsconfig types `self` as a Window; in this file it is a DedicatedWorkerGlobalScope.
serveEngine(self as unknown as MessageEndpoint, createOrtEngine(), decodeInWorker);
