/** Network names and the coordinator's well-known peer id derived from them. */
import { asPeerId, type PeerId } from '../protocol/ids.ts';

export const DEFAULT_NETWORK = 'default';
const NETWORK_NAME = /^[A-Za-z0-9_-]{1,40}$/;

export function isValidNetworkName(name: string): boolean {
  return NETWORK_NAME.test(name);
}

/** Every network has one coordinator, reachable under this id on the signaling server. */
export function coordinatorPeerId(networkId: string): PeerId {
  return asPeerId(`quorum-${networkId}`);
}
