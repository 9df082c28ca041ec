/**
 * The scale bench's headless coordinator: `runHeadlessCoordinator` (what `npx quorum coordinator`
 * runs) in a process of its own, forked by bench/scale.ts with an IPC channel, so its event loop's
 * busy share and heap are the coordinator's alone, not the bench's or the volunteers'.
 *
 * Options come as JSON in argv[2]; the parent sends `{ t: 'counts' }` and gets the counters,
 * `{ t: 'sample' }` and gets the event-loop utilisation since the last sample and the heap; `{ t: 'frames' }` gets the frame sizes;
 * `{ t: 'stop' }` stops it (every write stored) and exits.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { runHeadlessCoordinator } from '../src/node/headlessCoordinator.node.ts';
import { scaleCounts, scaleFrames } from './scaleProbe.ts';
import { errorMessage } from '../src/protocol/errorMessage.ts';

interface Options {
  readonly network: string;
  readonly dataDir: string;
  readonly server: string;
}

export type ScaleCoordinatorRequest = { t: 'counts' } | { t: 'sample' } | { t: 'frames' } | { t: 'stop' };

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const send = (msg: unknown): void => {
  process.send?.(msg);
};

const coordinator = await runHeadlessCoordinator({
  ...options,
  handleSignals: false,
  // [N-7] QUORUM_SCALE_GROUP_COMMIT=0: each write commits alone, as before group commit (the baseline).
  store: { groupCommit: process.env['QUORUM_SCALE_GROUP_COMMIT'] !== '0' },
  // Warnings and errors are what breaks first; the info lines would only load the pipe.
  log: (line) => {
    if (!line.includes('"level":"info"')) send({ t: 'log', line });
  },
}).catch((err: unknown) => {
  send({ t: 'failed', reason: errorMessage(err) });
  process.exit(1);
});

let elu: EventLoopUtilization = performance.eventLoopUtilization();
process.on('message', (raw) => {
  const msg = raw as ScaleCoordinatorRequest;
  if (msg.t === 'counts') {
    send({ t: 'counts', counts: scaleCounts(coordinator.host.core) });
  } else if (msg.t === 'sample') {
    const now = performance.eventLoopUtilization();
    const since = performance.eventLoopUtilization(now, elu);
    elu = now;
    send({ t: 'sample', busy: since.utilization, heapBytes: process.memoryUsage().heapUsed });
  } else if (msg.t === 'frames') {
    send({ t: 'frames', frames: scaleFrames(coordinator.host.core, Date.now()) });
  } else if (msg.t === 'stop') {
    void coordinator.stop().finally(() => process.exit(0));
  }
});
// The requester link carries the key requesters submit with (the data directory's requester key),
// in its query or after its hash route.
const key = /[?&]key=([^&#]*)/.exec(coordinator.links.requester)?.[1];
send({ t: 'ready', requesterKey: key === undefined ? '' : decodeURIComponent(key) });
