/**
 * An untrained `heed pretrain mlm` directory: the vocabulary, config and checkpoint layout that
 * `heed pretrain mlm` writes, with the MaskedLM's initial weights (no training step). For memory
 * and step-time benchmarks of fine-tuning (bench/transfer.ts --pretrained <dir>), whose figures
 * do not depend on the weights' values; its downstream scores are those of an untrained start.
 * Pretraining a model of this size (11 M parameters, 30 k words) takes hours on the shared machine.
 *
 *   node --import tsx bench/init-mlm.ts --out runs/mlm256 [--d-model 256 --num-heads 4 --num-layers 4 --dim-feedforward 1024 --vocab-size 30000 --seed 0]
 */
import { loadTexts } from '../src/data/text-corpus.ts';
import { Vocab } from '../src/data/vocab.ts';
import { saveCheckpoint } from '../src/io/checkpoint.ts';
import { MaskedLM } from '../src/models/masked-lm.ts';
import { manualSeed } from '../src/tensor/rng.ts';
import { topWords } from '../src/tasks/spam.ts';
import { MASK_TOKEN, MLM_DEFAULTS, chunkTexts } from '../src/tasks/mlm.ts';
import { VOCAB_FILE } from '../src/tasks/word-lm.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  out: { kind: 'string', default: '', help: 'the run directory to write (required)' },
  'd-model': { kind: 'int', default: 256, min: 1, help: 'model width' },
  'num-heads': { kind: 'int', default: 4, min: 1, help: 'attention heads' },
  'num-layers': { kind: 'int', default: 4, min: 1, help: 'encoder layers' },
  'dim-feedforward': { kind: 'int', default: 1024, min: 1, help: 'feed-forward width' },
  'vocab-size': { kind: 'int', default: 30000, min: 1, help: 'vocabulary size' },
  seed: { kind: 'int', default: 0, help: 'initialization seed' },
});
const out = flags.out;
if (out === '') throw new Error('--out <dir> is required');
const c = {
  ...MLM_DEFAULTS,
  dModel: flags.dModel, numHeads: flags.numHeads, numLayers: flags.numLayers,
  dimFeedforward: flags.dimFeedforward, vocabSize: flags.vocabSize, seed: flags.seed,
  maxSteps: 0,
};
// The vocabulary exactly as heed pretrain mlm builds it (mlm.ts train): its corpus, its chunks, its top words.
const docs = await loadTexts(c.corpus, c.textFiles);
const chunks = chunkTexts(docs, c.maxLen - 1);
const vocab = Vocab.fromTokens([MASK_TOKEN, ...topWords(chunks.train.map((w) => w.join(' ')), c.vocabSize)]);
manualSeed(c.seed);
const model = MaskedLM.fromConfig({ vocabSize: vocab.size, dModel: c.dModel, numHeads: c.numHeads, numLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen });
await saveCheckpoint(out, {
  task: 'mlm', runId: `init-${c.seed}`, config: { ...c, untrained: true, model: model.toConfig() }, weights: model.stateDict(),
  files: { vocab: { name: VOCAB_FILE, json: vocab.toJSON() } },
});
console.log(`${out}: untrained MaskedLM, ${vocab.size} words, ${model.numParameters().toLocaleString('en-US')} parameters`);
