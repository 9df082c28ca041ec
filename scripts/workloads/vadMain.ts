/**
 * `npx tsx scripts/workloads/vadMain.ts <files or folders…>`: the `vad` part of
 * `npm run workload`, runnable on its own. Prints a summary per file and, as its LAST line, the
 * JSON the network would verify; bad input prints `error: …` naming the file and exits 1.
 */
import { describeVadFile, vadCommand } from './vadCommand.ts';

try {
  const results = await vadCommand(process.argv.slice(2), {
    onPipeline: (p) => console.log(`pipeline: ${JSON.stringify(p)}`),
    onFile: (r, info) => console.log(describeVadFile(r, info).join('\n')),
  });
  console.log(JSON.stringify(results));
} catch (e) {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
