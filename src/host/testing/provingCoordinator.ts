/**
 * A bare coordinator endpoint for link tests on a MemoryNetwork: it answers every `challenge`
 * with a real proof by `identity` (as CoordinatorHost does, through the same `answerChallenge`)
 * and hands every other frame, parsed, to `onFrame`. An impostor is the same with another key.
 * Its signatures, and the checks of a `memoryTrust`, are tracked in `cryptoInFlight`.
 */
import type { PeerId } from '../../protocol/ids.ts';
import type { ToCoordinator } from '../../protocol/messages.ts';
import { parseToCoordinator } from '../../protocol/parse.ts';
import type { MemoryNetwork } from '../../transport/memoryTransport.ts';
import type { Endpoint } from '../../transport/transport.ts';
import { generateCoordinatorKeyPair, identityOf, type CoordinatorIdentity } from '../coordinatorKey.ts';
import { answerChallenge } from '../coordinatorProver.ts';
import type { ConnectionFingerprints } from '../../protocol/coordinatorProof.ts';
import { CoordinatorTrust, localPinStore, type ProofCheck } from '../coordinatorTrust.ts';
import { cryptoInFlight } from './cryptoInFlight.ts';

export async function newIdentity(): Promise<CoordinatorIdentity> {
  return identityOf(await generateCoordinatorKeyPair());
}

/** A CoordinatorTrust whose checks are tracked in `cryptoInFlight`, so tests can wait for them. */
class TrackedTrust extends CoordinatorTrust {
  override check(proof: { readonly key: string; readonly sig: string }, nonce: string, dtls: ConnectionFingerprints): Promise<ProofCheck> {
    return cryptoInFlight.track(super.check(proof, nonce, dtls));
  }
}

/** A client's trust with pins in memory; `linkFingerprint` as a join link would give it. */
export function memoryTrust(networkId: string, linkFingerprint: string | null = null): CoordinatorTrust {
  return new TrackedTrust({ networkId, linkFingerprint, pins: localPinStore(null) });
}

export function provingCoordinator(
  net: MemoryNetwork,
  id: PeerId,
  networkId: string,
  identity: CoordinatorIdentity,
  onFrame: (peer: PeerId, msg: ToCoordinator, ep: Endpoint) => void = () => {},
): Endpoint {
  const ep: Endpoint = net.create(id, {
    open: () => undefined,
    data: (peer, raw) => {
      const p = parseToCoordinator(raw);
      if (!p.ok) throw new Error(`a client sent an unparseable frame: ${p.error.reason}`);
      if (p.msg.t === 'challenge') void cryptoInFlight.track(answerChallenge(ep, identity, networkId, peer, p.msg.nonce));
      else onFrame(peer, p.msg, ep);
    },
    close: () => undefined,
    signaling: () => undefined,
    error: () => undefined,
  });
  return ep;
}
