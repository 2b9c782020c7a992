/**
 * heed demo — the README's main job: train the G2P Transformer on the embedded CMUdict in about
 * three minutes on 2 cores, report WER and PER on the test split, pronounce a few words (real and
 * made up), and save the model directory.
 *
 * The demo model is compact so it learns within the budget: d=128, 2+2 layers, 4 heads, FFN 512,
 * no dropout, AdamW 2e-3 with 40 warmup steps then cosine decay over the time budget, batches of
 * 1,200 tokens, label smoothing 0.1.
 * Options: --out dir (default runs/demo), --overwrite, --seconds N (training budget, default 150),
 * --test-words N (test words decoded; default 0 = the whole test split).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../args.js';
import { G2P_TASK, loadG2PPredictor } from '../../tasks/g2p.js';
import { prepareOutDir, readModelConfig, newRunId } from '../../io/checkpoint.js';
import { resolveTaskConfig } from '../../tasks/common.js';
import { backendInfo } from '../../backend/registry.js';
import { ConfigError } from '../../errors.js';
import type { Command } from './command.js';

/** The demo's config: every key is a `heed train g2p` flag, so the run can be reproduced or lengthened. */
export const DEMO_CONFIG = Object.freeze({
  dModel: 128,
  numHeads: 4,
  numEncoderLayers: 2,
  numDecoderLayers: 2,
  dimFeedforward: 512,
  dropout: 0, // three minutes is far from overfitting
  lr: 2e-3,
  warmupSteps: 40,
  schedule: 'cosine',
  minLrRatio: 0.05,
  maxTokens: 1200, // small batches: more updates in the budget; the step cost is proportional to tokens
  maxSteps: 100000, // the time budget ends the run
  scheduleByTime: true, // cosine decay over the time budget, so the model is annealed when time is up
  evalEvery: 0,
  evalWords: 200,
  labelSmoothing: 0.1,
  logEvery: 25,
});

export const DEMO_WORDS = ['hello', 'attention', 'transformer', 'typescript', 'heed'];
/** Not in CMUdict: the model has to generalize. */
export const MADE_UP_WORDS = ['blorptastic', 'snorkelwhip', 'quandrify', 'zindleberry'];

const FLAGS = { out: 'string', overwrite: 'boolean', seconds: 'string', testWords: 'string', progress: 'string' } as const;

export async function runDemo(args: string[]): Promise<number> {
  const parsed = parseArgs(args, null, FLAGS, 'heed demo');
  if (parsed.positional.length > 0) throw new ConfigError(`heed demo: unexpected argument(s) ${parsed.positional.join(' ')}. Options: --out dir, --overwrite, --seconds N, --test-words N.`);
  const out = String(parsed.flags.out ?? join('runs', 'demo'));
  const seconds = Number(parsed.flags.seconds ?? 150);
  const testWords = Number(parsed.flags.testWords ?? 0);
  if (!(seconds > 0)) throw new ConfigError(`heed demo: --seconds must be a positive number, received '${String(parsed.flags.seconds)}'.`);
  if (!Number.isInteger(testWords) || testWords < 0) throw new ConfigError(`heed demo: --test-words must be a non-negative integer, received '${String(parsed.flags.testWords)}'.`);
  // A previous demo's directory may be replaced; any other model needs --overwrite.
  let overwrite = parsed.flags.overwrite === true;
  if (!overwrite && existsSync(join(out, 'config.json'))) {
    try {
      overwrite = readModelConfig(out).runId.startsWith('demo-');
    } catch {
      overwrite = false;
    }
  }
  const runId = `demo-${newRunId()}`;
  await prepareOutDir(out, { overwrite, runId });
  const b = backendInfo();
  console.log(`heed demo: grapheme-to-phoneme Transformer on CMUdict (${b.backend} backend, ${b.isa}, ${b.threads} threads).`);
  console.log(`Training for about ${Math.round(seconds)} s; same run: heed train g2p ${Object.entries(DEMO_CONFIG).map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} ${v}`).join(' ')} --time-limit ${seconds}`);
  const config = resolveTaskConfig(G2P_TASK.spec, { ...DEMO_CONFIG, timeLimit: seconds });
  const progress = parsed.flags.progress as 'auto' | 'plain' | 'none' | undefined;
  const r = await G2P_TASK.train(config as unknown as Record<string, unknown>, { out, runId, progress });
  console.log(`Trained ${r.steps} steps in ${r.seconds.toFixed(0)} s (${Math.round(r.tokensPerSecond)} target tokens/s).`);
  const ev = await G2P_TASK.evaluate(out, { split: 'test', limit: testWords, beamSize: 1 });
  console.log(ev.report);
  const pred = await loadG2PPredictor(out);
  const words = [...DEMO_WORDS, ...MADE_UP_WORDS];
  const preds = pred.predict(words);
  console.log('Pronunciations (ARPAbet, no stress):');
  preds.forEach((p, i) => console.log(`  ${String(p.input).padEnd(14)} ${String(p.output)}${i >= DEMO_WORDS.length ? '   (made-up word)' : ''}`));
  console.log(`Model saved to ${out}. Try: heed predict ${out} <word...>   heed eval ${out}   heed train g2p --out runs/g2p (longer run)`);
  return 0;
}

export const demoCommand: Command = {
  summary: 'the main job: train a G2P Transformer on CMUdict in ~3 minutes, report WER/PER, pronounce words',
  usage: 'heed demo [--out runs/demo] [--overwrite] [--seconds 150] [--test-words N]',
  run: runDemo,
};
