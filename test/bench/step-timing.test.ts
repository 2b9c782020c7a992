/**
 * bench/train.ts's interleaved step timing (the training tables' 1- and 2-thread rows): every round
 * runs each thread count in turn with the pool set to it, the first step after each switch is not
 * timed, and every arm ends with the requested number of timed steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeStepsByThreads } from '../../bench/train.ts';

test('timeStepsByThreads interleaves the thread counts and times each arm under its own count', async () => {
  let current = 0;
  const log: string[] = [];
  const setThreads = (n: number) => { current = n; log.push(`set ${n}`); };
  const build = async () => {
    const built = current;
    let loss = 10;
    return {
      step: () => { assert.equal(current, built, 'a step ran under another arm\'s thread count'); log.push(`step ${built}`); loss -= 1; },
      loss: () => loss, params: 1,
    };
  };
  const arms = await timeStepsByThreads([1, 2], build, setThreads, { warm: 1, reps: 4, budgetMs: 60_000, perRound: 2 });
  assert.deepEqual(arms.map((a) => [a.threads, a.n]), [[1, 4], [2, 4]]);
  assert.equal(arms[0].l0, 9); // the loss after the first (untimed) step
  // the builds (first step + 1 warm-up each), then two rounds of "set, 1 untimed + 2 timed steps" per arm
  const round = ['set 1', 'step 1', 'step 1', 'step 1', 'set 2', 'step 2', 'step 2', 'step 2'];
  assert.deepEqual(log, ['set 1', 'step 1', 'step 1', 'set 2', 'step 2', 'step 2', ...round, ...round]);
  for (const a of arms) assert.ok(Number.isFinite(a.ms) && a.ms >= 0);
});

test('timeStepsByThreads stops at the budget once every arm has three steps', async () => {
  let calls = 0;
  const build = async () => ({ step: () => { calls++; const t = performance.now(); while (performance.now() - t < 2); }, loss: () => 0, params: 1 });
  const arms = await timeStepsByThreads([1, 2], build, () => {}, { warm: 0, reps: 1000, budgetMs: 1, perRound: 1 });
  for (const a of arms) assert.equal(a.n, 3);
  assert.ok(calls < 20, `ran ${calls} steps after the budget was spent`);
});
