/**
 * A coordinator core with a requester already greeted, for tests that submit a job and lease its
 * shards by hand: peers join by name, frames are checked against the parser real peers use.
 */
import { asPeerId, type ModelHash, type PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator, JobSpec, ToCoordinator } from '../../protocol/messages.ts';
import { CoordinatorCore } from '../coordinator/coordinator.ts';
import { DEFAULT_COORDINATOR_CONFIG } from '../coordinator/state.ts';
import { seededRng } from '../rng.ts';
import { checkFrames, only, sent } from './coordinatorFrames.ts';
import { HASH_A, V, hello } from './fixtures.ts';

export type Lease = Extract<FromCoordinator, { t: 'lease' }>;

export class CoordinatorRig {
  readonly core: CoordinatorCore;
  readonly req: PeerId;

  constructor(seed: number) {
    this.core = new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, peerTimeoutMs: 600_000 }, seededRng(seed));
    this.req = this.join('req', 'requester');
  }

  join(name: string, role: 'volunteer' | 'requester' = 'volunteer'): PeerId {
    const id = asPeerId(name);
    this.core.connect(id, 0);
    this.handle(id, hello(role));
    return id;
  }

  handle(peer: PeerId, msg: ToCoordinator) {
    return checkFrames(this.core.handle(peer, msg, 0));
  }

  /** Submits `spec` and admits it under `hash`; the requester's answer. */
  submit(spec: JobSpec, hash: ModelHash = HASH_A): FromCoordinator {
    const fx = this.handle(this.req, { v: V, t: 'submit-job', ref: 'r1', spec });
    const h = fx.find((e) => e.kind === 'hash-model');
    if (!h || h.kind !== 'hash-model') return sent(fx, this.req)[0]!;
    return sent(checkFrames(this.core.admitJob(h.peer, h.ref, h.spec, hash, 0)), this.req)[0]!;
  }

  lease(v: PeerId): Lease {
    return only(sent(this.handle(v, { v: V, t: 'lease-request' }), v), 'lease');
  }
}
