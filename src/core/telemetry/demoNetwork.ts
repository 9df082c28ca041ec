/**
 * A synthetic network for the map's demo mode (`#/network?demo=500`) and its frame-rate
 * benchmark: volunteers of mixed backends and speeds, a few liars that get quarantined, some
 * that pause, and churn. It produces the same `TelemetrySample` the coordinator does, so its
 * frames go through the real aggregator, parser and store. Pure and seeded ([D-1]).
 */
import type { Backend } from '../../protocol/capabilities.ts';
import type { JobId, PeerId } from '../../protocol/ids.ts';
import type { JobStatus, Role } from '../../protocol/messages.ts';
import { seededRng, type Rng } from '../rng.ts';
import { BackendPairCounter } from './backendPairs.ts';
import type { PeerSample, TelemetrySample } from './aggregator.ts';

export interface DemoOptions {
  /** Volunteers kept online (one requester and one observer come on top). */
  readonly volunteers: number;
  readonly seed: number;
  /** Share of liars, quarantined after their first outvoted result. */
  readonly liarShare: number;
  readonly webgpuShare: number;
}

export const DEFAULT_DEMO: Omit<DemoOptions, 'volunteers'> = { seed: 1, liarShare: 0.02, webgpuShare: 0.3 };

/** The most volunteers a demo will simulate. */
export const MAX_DEMO_VOLUNTEERS = 5000;

interface DemoPeer {
  peerId: PeerId;
  role: Role;
  backend: Backend | null;
  adapter: string | null;
  connectedAtMs: number;
  /** Results per second when working. */
  speed: number;
  liar: boolean;
  paused: boolean;
  quarantined: boolean;
  activeLeases: number;
  leasesIssued: number;
  resultsReturned: number;
  shardsAccepted: number;
  rejected: number;
}

const ADAPTERS = ['nvidia ampere', 'amd rdna-3', 'intel gen-12lp', 'apple metal-3', 'google swiftshader'];
const SHARDS_PER_JOB = 20_000;

export class DemoNetwork {
  private readonly rng: Rng;
  private readonly peers: DemoPeer[] = [];
  private readonly pairs = new BackendPairCounter();
  private readonly jobs: { id: JobId; createdAtMs: number; verified: number; disagreements: number }[] = [];
  private serial = 0;
  private lastMs: number | null = null;

  constructor(
    private readonly options: DemoOptions,
    startMs: number,
  ) {
    this.rng = seededRng(options.seed);
    const n = Math.max(0, Math.min(MAX_DEMO_VOLUNTEERS, Math.floor(options.volunteers)));
    this.peers.push(this.make('requester', startMs), this.make('observer', startMs));
    for (let i = 0; i < n; i++) this.peers.push(this.make('volunteer', startMs - Math.floor(this.rng.next() * 3_600_000)));
    this.jobs.push({ id: `jdemo${this.serial}` as JobId, createdAtMs: startMs, verified: 0, disagreements: 0 });
  }

  /** Advances the simulation to `now` and samples it. */
  step(now: number): TelemetrySample {
    const dtS = this.lastMs === null ? 0 : Math.max(0, now - this.lastMs) / 1000;
    this.lastMs = now;
    const volunteers = this.peers.filter((p) => p.role === 'volunteer');
    const webgpuShare = volunteers.length ? volunteers.filter((p) => p.backend === 'webgpu').length / volunteers.length : 0;
    let job = this.jobs[this.jobs.length - 1]!;
    for (const p of volunteers) {
      if (p.quarantined) {
        p.activeLeases = 0;
        continue;
      }
      // Pauses come and go.
      if (this.rng.next() < (p.paused ? 0.15 : 0.004) * dtS * 2) p.paused = !p.paused;
      if (p.paused) {
        p.activeLeases = 0;
        continue;
      }
      const expected = p.speed * dtS;
      let results = Math.floor(expected) + (this.rng.next() < expected - Math.floor(expected) ? 1 : 0);
      // Now and then a volunteer runs dry for a while (no work for it).
      p.activeLeases = this.rng.next() < 0.85 ? 1 : 0;
      if (p.activeLeases === 0) results = 0;
      for (let r = 0; r < results; r++) {
        p.leasesIssued++;
        p.resultsReturned++;
        const partner: Backend = this.rng.next() < webgpuShare ? 'webgpu' : 'wasm';
        if (p.liar) {
          p.rejected++;
          job.disagreements++;
          this.pairs.recordDecision([partner, partner], [p.backend ?? 'wasm']);
          p.quarantined = true;
          p.activeLeases = 0;
          break;
        }
        p.shardsAccepted++;
        // Two replicas per shard: count a verified shard for every other accepted result.
        if (p.shardsAccepted % 2 === 0) job.verified++;
        if (p.shardsAccepted % 2 === 0) this.pairs.recordDecision([p.backend ?? 'wasm', partner], []);
        if (job.verified >= SHARDS_PER_JOB) {
          job = { id: `jdemo${++this.serial}` as JobId, createdAtMs: now, verified: 0, disagreements: 0 };
          this.jobs.push(job);
          if (this.jobs.length > 40) this.jobs.shift();
        }
      }
    }
    // Churn: about one volunteer in 2,000 leaves each second, and is replaced.
    for (let i = 2; i < this.peers.length; i++) {
      if (this.rng.next() < 0.0005 * dtS) this.peers[i] = this.make('volunteer', now);
    }
    return { peers: this.peers.map(sampleOf), jobs: this.jobs.map(statusOf), backendPairs: this.pairs.list() };
  }

  private make(role: Role, connectedAtMs: number): DemoPeer {
    const id = `${role === 'volunteer' ? 'v' : role.slice(0, 3)}${(this.serial++).toString(36)}${Math.floor(this.rng.next() * 1e6).toString(36)}` as PeerId;
    const webgpu = role === 'volunteer' && this.rng.next() < this.options.webgpuShare;
    return {
      peerId: id,
      role,
      backend: role === 'volunteer' ? (webgpu ? 'webgpu' : 'wasm') : null,
      adapter: webgpu ? ADAPTERS[Math.floor(this.rng.next() * ADAPTERS.length)]! : null,
      connectedAtMs: Math.max(0, connectedAtMs),
      // Speeds spread over two orders of magnitude, GPUs faster.
      speed: role === 'volunteer' ? (webgpu ? 3 : 1) * 0.1 * Math.exp(this.rng.next() * 3) : 0,
      liar: role === 'volunteer' && this.rng.next() < this.options.liarShare,
      paused: false,
      quarantined: false,
      activeLeases: 0,
      leasesIssued: 0,
      resultsReturned: 0,
      shardsAccepted: 0,
      rejected: 0,
    };
  }
}

function sampleOf(p: DemoPeer): PeerSample {
  return {
    peerId: p.peerId,
    role: p.role,
    label: p.role === 'volunteer' ? 'simulated volunteer' : `simulated ${p.role}`,
    backend: p.backend,
    adapter: p.adapter,
    connectedAtMs: p.connectedAtMs,
    activeLeases: p.activeLeases,
    leasesIssued: p.leasesIssued,
    resultsReturned: p.resultsReturned,
    shardsAccepted: p.shardsAccepted,
    rejected: p.rejected,
    quarantined: p.quarantined,
    paused: p.paused,
    reputation: p.role === 'volunteer' ? Math.round((p.shardsAccepted / (p.shardsAccepted + 4 * p.rejected + 1)) * 1000) / 1000 : null,
  };
}

function statusOf(j: { id: JobId; createdAtMs: number; verified: number; disagreements: number }): JobStatus {
  const verified = Math.min(SHARDS_PER_JOB, j.verified);
  return {
    jobId: j.id,
    name: 'simulated job',
    createdAtMs: j.createdAtMs,
    items: SHARDS_PER_JOB * 100,
    shards: SHARDS_PER_JOB,
    verified,
    inFlight: 0,
    pending: SHARDS_PER_JOB - verified,
    unverifiable: 0,
    disagreements: j.disagreements,
    done: verified === SHARDS_PER_JOB,
  };
}
