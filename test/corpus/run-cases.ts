// Child process of corpus.test.ts: runs every corpus case through one surface and prints one JSON
// line per case. Running in a child lets the parent kill a case that hangs (a FIFO read blocks the
// whole process) and measure the peak memory of the lot.
//
//   node --import tsx test/corpus/run-cases.ts <predict|eval|library> <cases.json>
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import { loadPredictor } from '../../src/tasks/index.js';
import { HeedError } from '../../src/errors.js';

export interface CaseResult {
  name: string;
  /** Exit code of main() (CLI surfaces), 0 when loadPredictor resolved, 1 when it threw a HeedError. */
  code: number;
  /** What the command wrote to stderr (CLI), or `<ErrorClass>: <message>` (library). */
  err: string;
  /** A non-HeedError escaped: its stack. */
  crash: string | null;
  ms: number;
}

const [surface, casesFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8')) as { name: string; dir: string }[];

async function runCli(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const log = console.log, error = console.error;
  console.log = () => undefined;
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await main(argv), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

for (const c of cases) {
  process.stdout.write(JSON.stringify({ start: c.name }) + '\n');
  const t0 = performance.now();
  let r: { code: number; err: string };
  let crash: string | null = null;
  try {
    if (surface === 'predict') r = await runCli(['predict', c.dir, 'hello']);
    else if (surface === 'eval') r = await runCli(['eval', c.dir, '--split', 'valid', '--limit', '5']);
    else {
      try {
        await loadPredictor(c.dir);
        r = { code: 0, err: '' };
      } catch (e) {
        if (!(e instanceof HeedError)) throw e;
        r = { code: 1, err: `${e.name}: ${e.message}` };
      }
    }
  } catch (e) {
    r = { code: -1, err: '' };
    crash = (e as Error)?.stack ?? String(e);
  }
  const result: CaseResult = { name: c.name, ...r, crash, ms: Math.round(performance.now() - t0) };
  process.stdout.write(JSON.stringify(result) + '\n');
}
process.stdout.write(JSON.stringify({ maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
