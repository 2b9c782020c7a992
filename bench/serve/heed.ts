// Runs the heed CLI from the TypeScript sources (node --import tsx bench/serve/heed.ts <command> ...),
// so the load test always measures the working tree, never a stale dist/.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
