/**
 * The Battery Status API (`navigator.getBattery()`, Chromium only), and nothing else. Where the
 * browser lacks it or it fails, reports `supported: false`: an unknown battery never pauses work.
 */
export interface BatteryReading {
  readonly supported: boolean;
  readonly charging: boolean | null;
  readonly level: number | null;
}

interface BatteryManagerLike extends EventTarget {
  readonly charging: boolean;
  readonly level: number;
}

const UNSUPPORTED: BatteryReading = { supported: false, charging: null, level: null };

export async function watchBattery(onChange: (reading: BatteryReading) => void): Promise<() => void> {
  const nav = (typeof navigator === 'undefined' ? {} : navigator) as { getBattery?: () => Promise<BatteryManagerLike> };
  if (typeof nav.getBattery !== 'function') {
    onChange(UNSUPPORTED);
    return () => {};
  }
  let battery: BatteryManagerLike;
  try {
    battery = await nav.getBattery();
  } catch {
    onChange(UNSUPPORTED);
    return () => {};
  }
  const report = (): void => onChange({ supported: true, charging: battery.charging, level: battery.level });
  battery.addEventListener('chargingchange', report);
  battery.addEventListener('levelchange', report);
  report();
  return () => {
    battery.removeEventListener('chargingchange', report);
    battery.removeEventListener('levelchange', report);
  };
}
