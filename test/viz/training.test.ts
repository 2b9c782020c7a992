/**
 * Training curves read from a model directory's metrics.jsonl: only its tail (bounded bytes,
 * read asynchronously), only from a regular file, with bounded series — so a huge, special or
 * hostile file can neither stall the server nor blow up its answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SERIES, MAX_TAIL_BYTES, parseTrainingCurves, readTrainingCurves } from '../../src/viz/training.js';
import { CheckpointError } from '../../src/errors.js';

const stepLine = (i: number) => JSON.stringify({ type: 'step', step: i, epoch: 1, loss: 1 / (i + 1), lr: 0.001 });
const freshDir = () => mkdtempSync(join(tmpdir(), 'heed-curves-'));

test('a metrics.jsonl longer than the tail limit is read from its tail: the newest steps, no fragment', async () => {
  const dir = freshDir();
  const lines: string[] = [];
  for (let i = 0; i < 120_000; i++) lines.push(stepLine(i));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  const curves = await readTrainingCurves(dir);
  assert.equal(curves.truncated, true);
  assert.equal(curves.skippedLines, 0, 'the cut first line is dropped, not counted as garbage');
  assert.equal(curves.steps.step.at(-1), 119_999);
  const bytesRead = curves.steps.step.reduce((n, s) => n + stepLine(s).length + 1, 0);
  assert.ok(bytesRead <= MAX_TAIL_BYTES, `read ${bytesRead} bytes, at most ${MAX_TAIL_BYTES}`);
  assert.ok(curves.steps.step.length < 120_000);
  // Consecutive steps up to the end: nothing in the tail was skipped.
  const first = curves.steps.step[0];
  assert.deepEqual(curves.steps.step, Array.from({ length: 120_000 - first }, (_, i) => first + i));

  // A file that grew is read again; an unchanged one gives the same answer.
  appendFileSync(join(dir, 'metrics.jsonl'), stepLine(120_000) + '\n');
  assert.equal((await readTrainingCurves(dir)).steps.step.at(-1), 120_000);
});

test('a short metrics.jsonl is read whole and is not marked truncated; a missing one gives empty curves', async () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'metrics.jsonl'), [stepLine(0), stepLine(1), JSON.stringify({ type: 'eval', step: 1, wer: 0.5 })].join('\n'));
  const curves = await readTrainingCurves(dir);
  assert.equal(curves.truncated, false);
  assert.deepEqual(curves.steps.step, [0, 1]);
  assert.deepEqual(curves.evals.series['valid.wer'], [0.5]);
  const none = await readTrainingCurves(freshDir());
  assert.deepEqual(none.steps.step, []);
});

test('metrics.jsonl must be a regular file: a FIFO, /dev/zero behind a symlink and a directory are refused at once', async () => {
  const fifoDir = freshDir();
  execFileSync('mkfifo', [join(fifoDir, 'metrics.jsonl')]);
  await assert.rejects(readTrainingCurves(fifoDir), (e: unknown) => e instanceof CheckpointError && /not a regular file/.test(e.message));

  const zeroDir = freshDir();
  symlinkSync('/dev/zero', join(zeroDir, 'metrics.jsonl'));
  await assert.rejects(readTrainingCurves(zeroDir), (e: unknown) => e instanceof CheckpointError && /not a regular file/.test(e.message));

  const dirDir = freshDir();
  mkdirSync(join(dirDir, 'metrics.jsonl'));
  await assert.rejects(readTrainingCurves(dirDir), CheckpointError);
});

test('hostile records cannot blow up the curves: deep nesting, thousands of keys, __proto__ keys', () => {
  let deep = '1';
  for (let i = 0; i < 10_000; i++) deep = `{"a":${deep}}`;
  const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`m${i}`, i]));
  const text = [
    `{"type":"eval","step":1,"nested":${deep}}`,
    JSON.stringify({ type: 'eval', step: 2, ...wide }),
    '{"type":"eval","step":3,"__proto__":{"polluted":1},"constructor":2}',
  ].join('\n');
  const curves = parseTrainingCurves(text);
  assert.equal(curves.evals.step.length, 3);
  assert.ok(Object.keys(curves.evals.series).length <= MAX_SERIES);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(curves.evals.series), Object.prototype);
});
