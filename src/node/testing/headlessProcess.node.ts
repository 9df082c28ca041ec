/**
 * A headless coordinator as its own process, for tests that signal it (SIGTERM, SIGKILL):
 * `tsx src/node/testing/headlessProcess.node.ts '<options as JSON>'`. Log lines go to stdout.
 */
import { runHeadlessCoordinator, type HeadlessCoordinatorOptions } from '../headlessCoordinator.node.ts';
import { errorMessage } from '../../protocol/errorMessage.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as Omit<HeadlessCoordinatorOptions, 'log'>;
runHeadlessCoordinator({ ...options, log: (line) => process.stdout.write(`${line}\n`) }).catch((err: unknown) => {
  process.stderr.write(`headless coordinator failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
