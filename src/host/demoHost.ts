/**
 * The map's demo mode (`#/network?demo=500`): a seeded synthetic network whose samples go through
 * the real aggregator, the real frame parser and the same store path as a coordinator's frames,
 * on the coordinator's own telemetry period. For trying the map at scale and for `npm run bench:map`.
 */
import { TelemetryAggregator } from '../core/telemetry/aggregator.ts';
import { DEFAULT_DEMO, DemoNetwork, MAX_DEMO_VOLUNTEERS } from '../core/telemetry/demoNetwork.ts';
import { parseFromCoordinator } from '../protocol/parse.ts';
import { applyTelemetry } from '../model/networkView.ts';
import type { NetworkView } from '../model/networkView.ts';
import { initialState } from '../model/state.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';
import { TELEMETRY_MS } from './coordinatorHost.ts';

export class DemoHost {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly volunteers: number,
    private readonly seed = DEFAULT_DEMO.seed,
    private readonly now: () => number = () => Date.now(),
    /** What the map shows; absent (the bench, tests): kept in memory. */
    readonly view: ViewPort<NetworkView> = memoryViewPort(initialState.network),
  ) {}

  start(): void {
    const n = Math.max(0, Math.min(MAX_DEMO_VOLUNTEERS, Math.floor(this.volunteers)));
    const net = new DemoNetwork({ ...DEFAULT_DEMO, seed: this.seed, volunteers: n }, this.now());
    const aggregator = new TelemetryAggregator();
    this.view.patch({ state: 'connected', source: 'demo', networkId: `demo-${n}`, error: null, history: [], telemetry: null });
    const tick = (): void => {
      const now = this.now();
      // Through the observer's own parser, as a coordinator's frame would be.
      const parsed = parseFromCoordinator(aggregator.tick(net.step(now), now));
      if (parsed.ok && parsed.msg.t === 'telemetry') {
        const frame = parsed.msg;
        this.view.patch((prev) => applyTelemetry(prev, frame));
      } else if (!parsed.ok) {
        this.view.patch({ state: 'error', error: `demo frame rejected: ${parsed.error.reason}` });
      }
    };
    tick();
    this.timer = setInterval(tick, TELEMETRY_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
