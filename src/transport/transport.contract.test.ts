/** The Transport contract (transport.contract.ts) against the memory transport in wire mode. */
import { MemoryNetwork } from './memoryTransport.ts';
import { describeTransportContract } from './transport.contract.ts';

describeTransportContract('memory transport (wire mode)', () => {
  // One network per data-plane setting, as one signaling server: endpoints of one setting meet.
  const networks = new Map<string, MemoryNetwork>();
  // The budgets' clock stands still: a flood never earns tokens back.
  const now = (): number => 0;
  return Promise.resolve({
    factory: (dataPlane = {}) => {
      const key = JSON.stringify(dataPlane);
      let net = networks.get(key);
      if (!net) {
        net = new MemoryNetwork({ now, dataPlane });
        networks.set(key, net);
      }
      return net.factory;
    },
    settle: async () => {
      for (const net of networks.values()) net.flush();
      await Promise.resolve();
    },
    waitMs: 2_000,
    close: () => Promise.resolve(),
  });
});
