/**
 * What the bench page offers on `window.__bench`: plain types only, so the Node runner
 * (tsconfig.node.json) can use them without type-checking the page's browser code.
 */

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
  coordinator(networkId: string): Promise<string>;
  volunteerCount(): number;
  jobDone(jobId: string, timeoutMs: number): Promise<JobTimes>;
  /** [W-18] `prefetch`: leases the volunteer queues behind the running one (absent: the app's default). */
  volunteer(networkId: string, prefetch?: number): Promise<void>;
  volunteerStats(): { computeMs: number; resultsDelivered: number };
  requester(networkId: string): Promise<void>;
  submit(o: SubmitOptions): Promise<{ jobId: string; uploadMs: number; inputBytes: number }>;
}
