/**
 * Hard limits every parser enforces before anything is allocated or stored. They bound what a
 * hostile peer can make a tab hold. Coordinators may configure lower limits for jobs.
 */
export const LIMITS = {
  /** Largest model accepted by a coordinator, in bytes. */
  maxModelBytes: 256 * 1024 * 1024,
  /** Largest total input payload of one job, in bytes. */
  maxJobInputBytes: 512 * 1024 * 1024,
  /** Largest single tensor in a lease or a result, in bytes. */
  maxTensorBytes: 128 * 1024 * 1024,
  maxTensorRank: 8,
  maxTensorsPerMessage: 64,
  /** Model bytes per `model-chunk` frame: small enough to interleave with other traffic. */
  modelChunkBytes: 256 * 1024,
  maxItemsPerJob: 10_000_000,
  maxShardSize: 100_000,
  maxReplicas: 16,
  maxNameLength: 200,
  maxReasonLength: 500,
  /**
   * Largest encoded frame (one protocol message) a transport reassembles: a submit-job carrying
   * the largest model and inputs, plus room for everything else in it.
   */
  maxFrameBytes: 256 * 1024 * 1024 + 512 * 1024 * 1024 + 1024 * 1024,
} as const;
