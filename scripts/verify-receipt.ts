/** `npm run verify-receipt -- <export> [--receipt <file>] [--fp <fingerprint>]`: see receipts/verifyReceiptCli.ts. */
import { verifyReceiptCli } from './receipts/verifyReceiptCli.ts';

const outcome = await verifyReceiptCli(process.argv.slice(2));
for (const line of outcome.lines) console.log(line);
process.exit(outcome.code);
