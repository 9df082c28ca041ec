/**
 * The `quorum` command (bin/quorum.mjs runs this file through tsx): dispatches to a subcommand
 * and turns a usage error into its message and exit code 2, any other failure into its message
 * and exit code 1.
 */
import { UsageError } from './args.ts';
import { VOLUNTEER_USAGE, volunteerCommand } from './volunteer/volunteerCommand.ts';
import { COORDINATOR_USAGE, coordinatorCommand } from './coordinator/coordinatorCommand.ts';
import { resultsCommand, submitCommand } from './submit/submitCommand.ts';
import { RESULTS_USAGE, SUBMIT_USAGE } from './submit/submitArgs.ts';
import { errorMessage } from '../src/protocol/errorMessage.ts';

export const USAGE = `Usage: quorum <command> [options]

Commands:
  volunteer   run headless volunteers (onnxruntime-node) for a network
              quorum volunteer --server URL --network NAME [--fp FP] [--count N] [--threads T] [--state DIR]
  coordinator run a network's coordinator headless, its state in SQLite
              quorum coordinator --network NAME --data DIR [--serve] [--port P]
  submit      submit a job and write its verified results to a folder as they come
              quorum submit --server URL --network NAME --key KEY --out DIR --workload mnist|ocr|vad | --model M.onnx --inputs PATHS
  results     fetch a submitted job's verified results, and follow it to the end
              quorum results JOB --out DIR

  quorum <command> --help   shows a command's options

${VOLUNTEER_USAGE}

${COORDINATOR_USAGE}

${SUBMIT_USAGE}

${RESULTS_USAGE}`;

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      case 'volunteer':
        return await volunteerCommand(rest);
      case 'coordinator':
        return await coordinatorCommand(rest);
      case 'submit':
        return await submitCommand(rest);
      case 'results':
        return await resultsCommand(rest);
      default:
        throw new UsageError(`unknown command "${command}": the commands are: volunteer, coordinator, submit, results`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`quorum: ${e.message}\nRun \`quorum --help\` for the commands and their options.\n`);
      return 2;
    }
    process.stderr.write(`quorum: ${errorMessage(e)}\n`);
    return 1;
  }
}
