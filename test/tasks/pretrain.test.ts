/**
 * heed pretrain mlm|clm end to end on a small text file: each trains a few steps, writes a model
 * directory, and loads back as its predictor (fill-mask, text-generation) and for evaluation; a
 * masked LM's directory is a valid --init-from source (backbone.* weights and a vocabulary).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPredictor, evaluate } from '../../src/tasks/index.ts';
import { runPretrain } from '../../src/cli/commands/pretrain.ts';
import { loadPretrained } from '../../src/tasks/finetune.ts';

const TEXT = Array.from({ length: 60 }, (_, i) => `the whale number ${i % 7} swam past the ship and the sailors saw it from the deck.`).join(' ');
const TINY = ['--corpus', '', '--d-model', '16', '--num-heads', '2', '--num-layers', '1', '--max-len', '24', '--batch-size', '4', '--max-steps', '2', '--warmup-steps', '1', '--eval-every', '0', '--progress', 'none'];

test('heed pretrain mlm trains, saves a fill-mask model, and the directory can start a downstream backbone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-pre-'));
  try {
    const file = join(dir, 'text.txt');
    writeFileSync(file, TEXT);
    const out = join(dir, 'mlm');
    assert.equal(await runPretrain(['mlm', '--text-files', file, ...TINY, '--dim-feedforward', '32', '--out', out]), 0);
    const p = await loadPredictor(out);
    const [pred] = p.predict(['the <mask> swam past the ship']);
    assert.equal((pred.output as string[]).length, 1, 'one answer per <mask>');
    assert.equal(pred.alternatives!.length, 5);
    assert.throws(() => p.validateInput('no mask here'), /holds no '<mask>'/);
    const r = await evaluate(out, { split: 'train' });
    assert.ok(r.metrics.loss > 0 && Number.isFinite(r.metrics.loss));
    const pre = await loadPretrained(out);
    assert.ok(Object.keys(pre.checkpoint.weights).includes('backbone.encoder.layers.0.selfAttn.qProj.weight'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('heed pretrain clm trains, saves a text-generation model with a perplexity, and is no --init-from source for a text encoder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-pre-'));
  try {
    const file = join(dir, 'text.txt');
    writeFileSync(file, TEXT);
    const out = join(dir, 'clm');
    assert.equal(await runPretrain(['clm', '--text-files', file, ...TINY, '--out', out]), 0);
    const p = await loadPredictor(out);
    const [pred] = p.predict(['the whale']);
    assert.equal(typeof pred.output, 'string');
    const r = await evaluate(out, { split: 'train' });
    assert.ok(Math.abs(r.metrics.perplexity - Math.exp(r.metrics.loss)) < 1e-6 * r.metrics.perplexity);
    await assert.rejects(loadPretrained(out), /holds no backbone\.\* weights \(it is a 'clm' model\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
