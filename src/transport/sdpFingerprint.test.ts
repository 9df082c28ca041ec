import { describe, expect, it } from 'vitest';
import { dtlsFingerprintOf, dtlsFingerprintsOf } from './sdpFingerprint.ts';

const hex = (b: number): string => Array.from({ length: 32 }, (_, i) => ((b + i) & 0xff).toString(16).padStart(2, '0')).join(':');
const sdp = (...fps: string[]): string =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', ...fps.flatMap((f) => ['m=application 9 UDP/DTLS/SCTP webrtc-datachannel', `a=fingerprint:${f}`])].join(
    '\r\n',
  );

describe('[K-3] DTLS fingerprints from an SDP', () => {
  it('reads the a=fingerprint line, normalised (hash in lower case, hex in upper case)', () => {
    expect(dtlsFingerprintOf(sdp(`SHA-256 ${hex(1)}`))).toBe(`sha-256 ${hex(1).toUpperCase()}`);
    expect(dtlsFingerprintOf(sdp(`sha-256 ${hex(1)}`, `sha-256 ${hex(1).toUpperCase()}`))).toBe(`sha-256 ${hex(1).toUpperCase()}`);
  });

  it('is null for no SDP, no fingerprint, a malformed one, or two different certificates', () => {
    expect(dtlsFingerprintOf(null)).toBeNull();
    expect(dtlsFingerprintOf('v=0\r\ns=-')).toBeNull();
    expect(dtlsFingerprintOf(sdp('sha-256 zz:zz'))).toBeNull();
    expect(dtlsFingerprintOf(sdp(`sha-256 ${hex(1)}`, `sha-256 ${hex(2)}`))).toBeNull();
  });

  it('names both ends of a peer connection once both descriptions are set', () => {
    expect(dtlsFingerprintsOf({ localDescription: { sdp: sdp(`sha-256 ${hex(1)}`) }, remoteDescription: null })).toBeNull();
    expect(dtlsFingerprintsOf({ localDescription: { sdp: sdp(`sha-256 ${hex(1)}`) }, remoteDescription: { sdp: sdp(`sha-256 ${hex(2)}`) } })).toEqual({
      local: `sha-256 ${hex(1).toUpperCase()}`,
      remote: `sha-256 ${hex(2).toUpperCase()}`,
    });
  });
});
