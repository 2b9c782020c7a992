/**
 * Judges a saved `--check` run again, offline, with nothing measured: the passes that
 * `npm run bench -- --check` wrote to bench/results/latest-check.json, against a baseline, under
 * today's bench/check.ts rules (or with the options below). A change to the guard's rules can then
 * be tried on the real runs that raised false alarms, not only on simulated ones (bench/check-sim.ts).
 * Exit code 1 when the rules flag a regression, as `--check` would.
 *
 *   node --import tsx bench/check-rejudge.ts [--run bench/results/latest-check.json] [--baseline bench/results/baseline.json] [--host-witness]
 */
import { readFileSync } from 'node:fs';
import { readArgs } from './args.ts';
import { compareRuns, formatCheck, parseBaseline, parseCheckRun } from './check.ts';

const flags = readArgs(import.meta.url, {
  run: { kind: 'string', default: 'bench/results/latest-check.json', help: 'a saved check run (written by npm run bench -- --check)' },
  baseline: { kind: 'string', default: '', help: "the baseline to judge against (default: the one the run was judged against)" },
  'host-witness': { kind: 'bool', help: "also set apart a fall against the peak when the row held against the host memory probe (check.ts's hostWitness)" },
});
const run = parseCheckRun(readFileSync(flags.run, 'utf8'), flags.run);
const baselineFile = flags.baseline || run.baseline;
const baseline = parseBaseline(readFileSync(baselineFile, 'utf8'), baselineFile);
const report = compareRuns(baseline, run.passes, { ran: new Set(run.ran), hostWitness: flags.hostWitness });
console.log(`# ${flags.run}: the check run of ${run.started}, ${run.passes.length} pass${run.passes.length === 1 ? '' : 'es'}, judged again against ${baselineFile}`);
console.log(formatCheck(report, undefined, baselineFile));
if (report.regressions.length) process.exitCode = 1;
