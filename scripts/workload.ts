/**
 * `npm run workload -- <workload> <files…>`: runs a built-in workload's pipeline outside the
 * network, on the code the volunteers run, and prints a human summary followed, as its LAST line,
 * by the JSON the network would verify, so a requester can check a sample by hand and tests can
 * compare the network's verified answers with it. Bad input exits non-zero with a message naming
 * the file and what to do.
 */
import { ocrCommand } from './workloads/ocrCommand.ts';
import { describeVadFile, vadCommand } from './workloads/vadCommand.ts';
import { errorMessage } from '../src/protocol/errorMessage.ts';

type Command = (files: readonly string[]) => Promise<unknown>;

const COMMANDS: Readonly<Record<string, Command>> = {
  ocr: (files) =>
    ocrCommand(files, {
      onFile: (r, ms) => {
        console.log(`${r.file}: ${r.lines.length} line(s) in ${ms.toFixed(0)} ms`);
        for (const l of r.lines) console.log(`  ${l.confidence.toFixed(3)}  ${JSON.stringify(l.text)}  [${l.box.map((p) => p.join(',')).join(' ')}]`);
      },
    }),
  vad: (files) =>
    vadCommand(files, {
      onPipeline: (p) => console.log(`pipeline: ${JSON.stringify(p)}`),
      onFile: (r, info) => console.log(describeVadFile(r, info).join('\n')),
    }),
};

async function main(): Promise<void> {
  const [workload, ...files] = process.argv.slice(2);
  const command = workload === undefined ? undefined : COMMANDS[workload];
  if (!command) {
    throw new Error(
      `${workload === undefined ? 'no workload given' : `unknown workload "${workload}"`}: use one of ${Object.keys(COMMANDS).join(', ')}, e.g. \`npm run workload -- ocr scan.png\`.`,
    );
  }
  const answer = await command(files);
  console.log(JSON.stringify(answer));
}

main().catch((e: unknown) => {
  console.error(`error: ${errorMessage(e)}`);
  process.exitCode = 1;
});
