/**
 * [K-4] A headless volunteer's pins: the coordinator key it trusts for each network, in
 * `STATE/pins.json`, shared by the volunteers of one state directory (a pin is about the
 * network, not about one volunteer). Written whole and renamed into place like the state
 * directory's other files; a file that does not parse is treated as no pins (trust on first
 * use again), never as a pin.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PinStore } from '../../src/host/coordinatorTrust.ts';

const FINGERPRINT = /^[A-Za-z0-9_-]{43}$/;

export function filePinStore(stateRoot: string, warn: (text: string) => void = () => undefined): PinStore {
  const file = path.join(stateRoot, 'pins.json');
  const read = (): Record<string, string> => {
    let raw: string;
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch {
      return {};
    }
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      const pins: Record<string, string> = {};
      for (const [network, fp] of Object.entries(parsed)) if (typeof fp === 'string' && FINGERPRINT.test(fp)) pins[network] = fp;
      return pins;
    } catch (e) {
      warn(`${file} does not parse (${(e as Error).message}): no coordinator key is pinned until one is seen again`);
      return {};
    }
  };
  return {
    get: (networkId) => read()[networkId] ?? null,
    set(networkId, fingerprint) {
      const pins = { ...read(), [networkId]: fingerprint };
      fs.mkdirSync(stateRoot, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(pins, null, 2)}\n`, { mode: 0o600 });
      fs.renameSync(tmp, file);
    },
  };
}
