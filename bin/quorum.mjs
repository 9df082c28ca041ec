#!/usr/bin/env node
// `npx quorum …` from a checkout of the project (package.json "bin"): the command is TypeScript,
// run through tsx's ESM loader, which is a dependency already, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
