/**
 * Where this page finds PeerServer (its own origin, path /peerjs) and which ICE servers to use
 * (from the server's /config.json; none on one machine or a LAN).
 */
import type { SignalingConfig } from '../transport/transport.ts';

export async function loadSignalingConfig(): Promise<SignalingConfig> {
  let iceServers: RTCIceServer[] = [];
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) {
      const body: unknown = await res.json();
      const list = (body as { iceServers?: unknown }).iceServers;
      if (Array.isArray(list)) iceServers = list.filter((s): s is RTCIceServer => typeof s === 'object' && s !== null && 'urls' in s);
    }
  } catch {
    // No config: fine on one machine or a LAN, where no ICE servers are needed.
  }
  const secure = location.protocol === 'https:';
  return {
    host: location.hostname,
    port: location.port ? Number(location.port) : secure ? 443 : 80,
    path: '/peerjs',
    secure,
    iceServers,
  };
}
