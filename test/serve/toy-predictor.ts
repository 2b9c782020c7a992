/**
 * A small but real Predictor for the serving tests: an untrained two-layer character
 * attention model built from heed ops. Weights come from a seeded generator, so the same
 * model directory always gives the same answers, and every answer is computed (nothing is
 * hard-coded): the output for a word is, per character, the phoneme whose embedding best
 * matches the attention output at that position.
 *
 * Model directory: config.json = { task: 'toy-g2p', seed, dModel, nHeads, delayMs? }.
 * delayMs makes predict() block its thread for that long per call, to test queueing,
 * timeouts and draining; crashWord makes predict() end its thread (process.exit in a worker
 * ends only that worker), to test worker replacement; blockWord makes predict() block its
 * thread for ten minutes (a stuck forward pass), to test that the pool stops and replaces it.
 *
 * Letters: B batch (1 here), L characters, D model width, H heads, hd = D / H.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Generator, randn, tensor, embedding, matmul, softmax, reshape, transpose, argmax, noGrad, ValueError, ConfigError,
} from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { AttentionMap, Prediction, PredictOptions, Predictor } from '../../src/tasks/predictor.js';

const LETTERS = "abcdefghijklmnopqrstuvwxyz'";
const PHONEMES = ['AA', 'AE', 'AH', 'B', 'D', 'EH', 'F', 'IY', 'K', 'L', 'M', 'N', 'OW', 'P', 'R', 'S', 'T', 'UW', 'Z'];
export const TOY_MAX_WORD = 24;

export interface ToyConfig { task: 'toy-g2p'; seed: number; dModel: number; nHeads: number; delayMs?: number; crashWord?: string; blockWord?: string }

function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class ToyPredictor implements Predictor {
  readonly task = 'toy-g2p';
  readonly config: Readonly<Record<string, unknown>>;
  private readonly charEmbedding: Tensor;   // (27, D)
  private readonly phonemeEmbedding: Tensor; // (P, D)
  private readonly layers: { wq: Tensor; wk: Tensor }[]; // each (D, D)

  constructor(readonly dir: string, cfg: ToyConfig) {
    this.config = Object.freeze({ ...cfg });
    const g = new Generator(cfg.seed);
    const D = cfg.dModel;
    this.charEmbedding = randn([LETTERS.length, D], { generator: g });
    this.phonemeEmbedding = randn([PHONEMES.length, D], { generator: g });
    // Scaled by 1/√D so the untrained attention is spread out enough to look at.
    this.layers = [0, 1].map(() => ({ wq: randn([D, D], { generator: g }).div(Math.sqrt(D)), wk: randn([D, D], { generator: g }).div(Math.sqrt(D)) }));
  }

  validateInput(input: unknown): void {
    if (typeof input !== 'string' || input.length === 0) {
      throw new ValueError(`toy-g2p: input must be a non-empty word, received ${JSON.stringify(input)}.`);
    }
    if (input.length > TOY_MAX_WORD) throw new ValueError(`toy-g2p: word has ${input.length} letters, expected at most ${TOY_MAX_WORD}.`);
    for (const c of input.toLowerCase()) {
      if (!LETTERS.includes(c)) throw new ValueError(`toy-g2p: character ${JSON.stringify(c)} in ${JSON.stringify(input)} is not a letter; expected a-z or '.`);
    }
  }

  predict(inputs: readonly unknown[], options: PredictOptions = {}): Prediction[] {
    sleepSync(Number(this.config.delayMs ?? 0));
    if (this.config.crashWord !== undefined && inputs.includes(this.config.crashWord)) process.exit(3);
    if (this.config.blockWord !== undefined && inputs.includes(this.config.blockWord)) sleepSync(600_000);
    return noGrad(() => inputs.map((input) => {
      this.validateInput(input);
      return this.predictOne(input as string, options);
    }));
  }

  private predictOne(word: string, options: PredictOptions): Prediction {
    const chars = [...word.toLowerCase()];
    const L = chars.length, D = Number(this.config.dModel), H = Number(this.config.nHeads), hd = D / H;
    const ids = tensor(chars.map((c) => LETTERS.indexOf(c)), [L], { dtype: 'int32' });
    let x = embedding(ids, this.charEmbedding); // (L, D)
    const maps: AttentionMap[] = [];
    this.layers.forEach((layer, i) => {
      const q = transpose(reshape(matmul(x, layer.wq), [L, H, hd]), 0, 1); // (H, L, hd)
      const k = transpose(reshape(matmul(x, layer.wk), [L, H, hd]), 0, 1); // (H, L, hd)
      const v = transpose(reshape(x, [L, H, hd]), 0, 1);                    // (H, L, hd)
      const w = softmax(matmul(q, transpose(k, 1, 2)).div(Math.sqrt(hd))); // (H, L, L)
      x = reshape(transpose(matmul(w, v), 0, 1), [L, D]);                   // (L, D)
      if (options.attention) {
        maps.push({ name: `encoder.layers.${i}.selfAttn`, kind: 'self', layer: i, queryTokens: chars, keyTokens: chars, weights: w.toArray() as number[][][] });
      }
    });
    const scores = matmul(x, transpose(this.phonemeEmbedding, 0, 1)); // (L, P)
    const best = Array.from(argmax(scores, -1).toFloat32Array());
    const output = best.map((p) => PHONEMES[p]);
    const prediction: Prediction = { input: word, output };
    if (options.nBest !== undefined && options.nBest > 1) {
      prediction.alternatives = [{ output, score: 0 }];
    }
    if (options.attention) prediction.attention = maps;
    return prediction;
  }
}

/** The loader the serving tests hand to the worker pool (same signature as src/tasks loadPredictor). */
export function loadPredictor(dir: string): Predictor {
  let cfg: ToyConfig;
  try {
    cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as ToyConfig;
  } catch (e) {
    throw new ConfigError(`toy loadPredictor: cannot read ${join(dir, 'config.json')}: ${(e as Error).message}`);
  }
  if (cfg.task !== 'toy-g2p') throw new ConfigError(`toy loadPredictor: task must be 'toy-g2p', received ${JSON.stringify(cfg.task)}.`);
  return new ToyPredictor(dir, cfg);
}
