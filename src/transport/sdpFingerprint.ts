/**
 * [K-3] The DTLS certificate fingerprint an SDP names (`a=fingerprint:sha-256 AB:CD:…`), which
 * WebRTC checks against the certificate the other end presents in its DTLS handshake. A
 * coordinator signs both ends' fingerprints, so a relay in the middle (which must present its
 * own certificates) is caught by the client.
 */
import { normaliseDtlsFingerprint } from '../protocol/coordinatorProof.ts';

/**
 * The fingerprint of an SDP, normalised; null when it has none or names more than one different
 * certificate (every media section of one connection uses the same DTLS transport, so two
 * different ones mean the SDP is not what we expect, and nothing should be signed over it).
 */
export function dtlsFingerprintOf(sdp: string | null | undefined): string | null {
  if (!sdp) return null;
  let found: string | null = null;
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith('a=fingerprint:')) continue;
    const fp = normaliseDtlsFingerprint(line.slice('a=fingerprint:'.length));
    if (fp === null) return null;
    if (found !== null && found !== fp) return null;
    found = fp;
  }
  return found;
}

/** One connection's two fingerprints as this end sees them. */
export interface DtlsFingerprints {
  /** This end's certificate (from the local description). */
  readonly local: string;
  /** The other end's certificate (from the remote description). */
  readonly remote: string;
}

/** Both fingerprints of a peer connection, once both descriptions are set; null before. */
export function dtlsFingerprintsOf(
  pc: { localDescription: { sdp: string } | null; remoteDescription: { sdp: string } | null } | undefined,
): DtlsFingerprints | null {
  const local = dtlsFingerprintOf(pc?.localDescription?.sdp);
  const remote = dtlsFingerprintOf(pc?.remoteDescription?.sdp);
  return local !== null && remote !== null ? { local, remote } : null;
}
