import os from 'node:os';

export const ROLES = ['volunteer', 'coordinator', 'requester', 'network'] as const;
export type Role = (typeof ROLES)[number];

export function roleUrl(base: string, role: Role): string {
  return `${base.replace(/\/+$/, '')}/#/${role}`;
}

/** Non-internal IPv4 addresses of this machine (what another machine on the LAN would use). */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) out.push(a.address);
    }
  }
  return out;
}

/** Lines describing where each role is served; LAN lines only when bound to all interfaces. */
export function describeUrls(scheme: 'http' | 'https', host: string, port: number): string[] {
  // QUORUM_TLS_CERT/KEY apply to both `npm start` and `npm run dev` (see vite.config.ts).
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const local = `${scheme}://${wildcard ? 'localhost' : host.includes(':') ? `[${host}]` : host}:${port}`;
  const lines = ROLES.map((r) => `  ${r.padEnd(12)}${roleUrl(local, r)}`);
  if (wildcard) {
    const lan = lanAddresses();
    for (const ip of lan) lines.push(`  on the LAN: ${roleUrl(`${scheme}://${ip}:${port}`, 'volunteer')}  (and #/coordinator, #/requester, #/network)`);
    if (lan.length > 0 && scheme === 'http') {
      lines.push('  note: a LAN address over plain http is not a secure context (no crossOriginIsolated, no crypto.subtle);');
      lines.push('        set QUORUM_TLS_CERT/QUORUM_TLS_KEY to serve https to other machines.');
    }
  }
  return lines;
}
