/**
 * Reading a CoordinatorCore's effects in tests: the frames it sent, each checked against the
 * parser its peers run ([M-1]: a core that emits a frame no peer accepts is a bug, whatever the
 * test is about), one frame of a kind, and the submit → hash → admit round a host performs.
 */
import type { JobId, ModelHash, PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator, JobSpec } from '../../protocol/messages.ts';
import { parseFromCoordinator } from '../../protocol/parse.ts';
import type { CoordinatorCore } from '../coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../coordinator/effects.ts';
import { V } from './fixtures.ts';

/** The coordinator frame of kind `T`. */
export type Out<T extends FromCoordinator['t']> = Extract<FromCoordinator, { t: T }>;

/** Throws unless every frame in `fx` passes the peers' parser; returns `fx`. */
export function checkFrames<E extends readonly CoordinatorEffect[]>(fx: E): E {
  for (const e of fx) {
    if (e.kind !== 'send') continue;
    const p = parseFromCoordinator(e.msg);
    if (!p.ok) throw new Error(`coordinator sent an unparseable "${e.msg.t}": ${p.error.reason}`);
  }
  return fx;
}

/** The frames sent (to `to`, when given), in order; each one checked by the parser. */
export function sent(fx: readonly CoordinatorEffect[], to?: PeerId): FromCoordinator[] {
  return checkFrames(fx).flatMap((e) => (e.kind === 'send' && (to === undefined || e.to === to) ? [e.msg] : []));
}

/** The one frame of kind `t` among `msgs`; throws when there is none or more than one. */
export function only<T extends FromCoordinator['t']>(msgs: readonly FromCoordinator[], t: T): Out<T> {
  const m = msgs.filter((x) => x.t === t);
  if (m.length !== 1) throw new Error(`expected one "${t}", got ${JSON.stringify(msgs.map((x) => x.t))}`);
  return m[0] as Out<T>;
}

/**
 * Sends `spec` from `requester` and admits it as the host would (the model's hash stands in for
 * hashing its bytes); returns the accepted job's id. `run` sees every effect, for rigs that apply
 * them (storage, tokens).
 */
export function submitAndAdmit(
  core: CoordinatorCore,
  requester: PeerId,
  spec: JobSpec,
  now: number,
  hash: ModelHash,
  run: (fx: CoordinatorEffect[]) => CoordinatorEffect[] = checkFrames,
): JobId {
  const fx = run(core.handle(requester, { v: V, t: 'submit-job', ref: 'r1', spec }, now));
  const h = fx.find((e) => e.kind === 'hash-model');
  if (!h || h.kind !== 'hash-model') throw new Error(`no hash-model effect: ${JSON.stringify(sent(fx).map((m) => m.t))}`);
  return only(sent(run(core.admitJob(h.peer, h.ref, h.spec, hash, now)), requester), 'job-accepted').jobId;
}
