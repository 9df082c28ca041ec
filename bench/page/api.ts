/**
 * What the bench page offers on `window.__bench`: plain types only, so the Node runner
 * (tsconfig.node.json) can use them without type-checking the page's browser code.
 */
import type { ScaleCounts, ScaleFrames } from '../scaleProbe.ts';

export interface EngineOptions {
  readonly modelUrl: string;
  readonly batch: number;
  readonly threads: number;
  readonly warmupRuns: number;
  readonly samples: number;
  readonly sampleMs: number;
}

export interface EngineSamples {
  readonly backend: string;
  readonly threads: number;
  readonly ortVersion: string;
  readonly crossOriginIsolated: boolean;
  /** Per sample, timed around engine.run() (page<->worker copies included). */
  readonly itemsPerSec: number[];
  /** Per sample, session.run() alone. */
  readonly sessionItemsPerSec: number[];
}

export interface SubmitOptions {
  readonly modelUrl: string;
  readonly items: number;
  readonly shardSize: number;
  readonly replication: number;
  readonly quorum: number;
  /** The coordinator's requester key (a headless coordinator has one; the bench's tab takes any). */
  readonly requesterKey?: string;
}

export interface JobTimes {
  /** performance.now() in the coordinator page when the core admitted the job. */
  readonly admittedMs: number;
  readonly shardCount: number;
  readonly verified: number;
  readonly firstVerifiedMs: number;
  readonly lastVerifiedMs: number;
  /** When every store write the job caused had finished. */
  readonly durableMs: number;
  /**
   * Medians per shard as the coordinator saw them: lease sent -> its result in; lease-request in ->
   * the lease answering it out; result in -> that volunteer's next lease-request in.
   */
  readonly perShard: { readonly volunteerMs: number; readonly coordinatorMs: number; readonly requestGapMs: number };
}

/** The OCR workload through the volunteer's Worker engine (bench/page/ocr.ts). */
export interface OcrEngineOptions {
  readonly bundleUrl: string;
  /** The workload's pipeline (src/protocol/pipeline.ts), as built in Node by buildOcrWorkload. */
  readonly pipeline: unknown;
  readonly sets: readonly { readonly name: string; readonly fileUrls: readonly string[] }[];
  readonly backend: 'wasm' | 'webgpu';
  readonly threads: number;
  /** Files per runPipeline call, as a lease carries them. */
  readonly shardSize: number;
  readonly repeats: number;
  /** Each set runs this long per repeat (at least one call), and at most `maxPasses` times over its files. */
  readonly budgetMs: number;
  readonly maxPasses: number;
  /** From the start of the model load: past it, the row gives up (no figures, `reason` says why). */
  readonly deadlineMs: number;
  /** One untimed pass over every image before the timed runs. */
  readonly warmupPass: boolean;
}

export interface OcrEngineSamples {
  /** The backend the runs used; another than asked means the engine could not start on it (see `reason`). */
  readonly backend: string;
  readonly reason: string;
  readonly threads: number;
  readonly crossOriginIsolated: boolean;
  /** Loading the bundle's three models into the engine (ms). */
  readonly loadMs: number;
  /** Per set, per repeat. */
  readonly imagesPerSec: Record<string, number[]>;
  /** Per set: images run in the last repeat. */
  readonly images: Record<string, number>;
}

export interface OcrJobOptions {
  readonly bundleUrl: string;
  readonly pipeline: unknown;
  readonly fileUrls: readonly string[];
  /** The fixtures, repeated to this many images. */
  readonly images: number;
  readonly shardSize: number;
  readonly replication: number;
}

/** On a volunteer, ms after its first lease arrived (null: did not happen). */
export interface OcrVolunteerTimes {
  /** The job's bundle loaded into the engine: ready to run. */
  readonly modelLoadedMs: number | null;
  /** The first result handed to the transport. */
  readonly firstResultMs: number | null;
  /** First model chunk in -> last model chunk in: the raw transfer (null: none came, the cache had it). */
  readonly transferMs: number | null;
  readonly firstChunkMs: number | null;
  readonly chunks: number;
  readonly chunkBytes: number;
}

export interface BenchApi {
  engine(o: EngineOptions): Promise<EngineSamples>;
  /** ms per read of the model's bytes from the volunteer's IndexedDB model cache (src/persistence/modelCache.ts). */
  modelCacheRead(modelUrl: string, reads: number): Promise<number[]>;
  /** `dataPlane`: peerjsTransport's DataPlaneOptions (chunkBytes, highWaterBytes, lowWaterBytes), for sweeps. */
  transferOpen(id: string | null, dataPlane?: { chunkBytes?: number; highWaterBytes?: number; lowWaterBytes?: number }): Promise<string>;
  transferConnect(remote: string): Promise<void>;
  /** MB/s of each of `reps` sends of `bytes`, from send() to the receiver's ack. */
  transferSend(remote: string, bytes: number, reps: number): Promise<number[]>;
  /** `channels`: DataChannels opened on the one connection (default 1). */
  rawOffer(channels?: number): Promise<string>;
  rawAnswer(offer: string): Promise<string>;
  rawAccept(answer: string): Promise<void>;
  /** `channels`: stripe the bytes across that many of the connection's channels at once (default 1). */
  rawSend(bytes: number, chunkBytes: number, reps: number, highWaterBytes: number, channels?: number): Promise<number[]>;
  /** `countBytes`: count the encoded bytes of every frame the coordinator sends, by frame type. */
  coordinator(networkId: string, countBytes?: boolean): Promise<string>;
  /** Bytes sent by frame type since the last call (then reset). */
  coordinatorBytes(): Record<string, number>;
  volunteerCount(): number;
  /** The scale bench's counters (bench/scaleProbe.ts), read from the coordinator's core. */
  scaleCounts(): ScaleCounts;
  /** The scale bench's frame sizes (bench/scaleProbe.ts). */
  scaleFrames(): ScaleFrames;
  jobDone(jobId: string, timeoutMs: number): Promise<JobTimes>;
  /** [W-18] `prefetch`: leases the volunteer queues behind the running one (absent: the app's default). */
  volunteer(networkId: string, prefetch?: number): Promise<void>;
  volunteerStats(): { computeMs: number; resultsDelivered: number };
  requester(networkId: string): Promise<void>;
  submit(o: SubmitOptions): Promise<{ jobId: string; uploadMs: number; inputBytes: number }>;
  ocrEngine(o: OcrEngineOptions): Promise<OcrEngineSamples>;
  /** A volunteer on `threads` WASM threads whose lease, model frames and model loads are timed. */
  ocrVolunteer(networkId: string, threads: number): Promise<void>;
  ocrVolunteerTimes(bundleHash: string): OcrVolunteerTimes;
  ocrSubmit(o: OcrJobOptions): Promise<{ jobId: string; uploadMs: number; fileBytes: number; bundleHash: string }>;
}
