/**
 * What the scale bench reads from a coordinator's core, the same way in the coordinator tab (the
 * bench page) and in the headless coordinator's process (bench/scaleCoordinator.ts), so the two
 * columns of the table count alike. Plain data only: it crosses page.evaluate and process IPC.
 */
import type { CoordinatorCore } from '../src/core/coordinator/coordinator.ts';
import { TelemetryAggregator } from '../src/core/telemetry/aggregator.ts';
import { PROTOCOL_VERSION } from '../src/protocol/messages.ts';
import { encodeFrame } from '../src/transport/frameCodec.ts';

export interface ScaleCounts {
  /** Volunteers connected now (their hello taken). */
  readonly volunteers: number;
  /** Leases issued to the volunteers connected now, in all. */
  readonly leasesIssued: number;
  readonly shards: number;
  readonly verified: number;
}

export interface ScaleFrames {
  /** One `telemetry` frame for an observer ([T-1]), encoded as the wire carries it. */
  readonly telemetryBytes: number;
  /** One `network` frame (every peer's summary), sent to each requester on each status broadcast. */
  readonly networkBytes: number;
  /** One `job-status` frame, sent beside it. */
  readonly jobStatusBytes: number;
}

export function scaleCounts(core: CoordinatorCore): ScaleCounts {
  let volunteers = 0;
  let leasesIssued = 0;
  for (const p of core.peerSamples()) {
    if (p.role !== 'volunteer') continue;
    volunteers++;
    leasesIssued += p.leasesIssued;
  }
  let shards = 0;
  let verified = 0;
  for (const j of core.jobStatuses()) {
    shards += j.shards;
    verified += j.verified;
  }
  return { volunteers, leasesIssued, shards, verified };
}

const encodedBytes = (frame: unknown): number => encodeFrame(frame).reduce((n, part) => n + part.byteLength, 0);

/** The frames' sizes now; encodes three frames, so it is read once per row, not while measuring. */
export function scaleFrames(core: CoordinatorCore, now: number): ScaleFrames {
  const jobs = core.jobStatuses();
  const telemetry = new TelemetryAggregator().tick({ peers: core.peerSamples(), jobs, backendPairs: core.backendAgreement() }, now);
  return {
    telemetryBytes: encodedBytes(telemetry),
    networkBytes: encodedBytes({ v: PROTOCOL_VERSION, t: 'network', peers: core.peerSummaries() }),
    jobStatusBytes: encodedBytes({ v: PROTOCOL_VERSION, t: 'job-status', jobs }),
  };
}
