/**
 * ONNX exporter for WordTagger (models/word-tagger.ts, the tag template's model): the per-word
 * tag scores, and with a CRF its transition scores as constant outputs.
 *
 *   WordTagger  model:  words (B, T) int32, shapes (B, T) int32
 *                       [, ngrams (U) int32, ngram_mix (B·T, U) float32 with character features]
 *                    → emissions (B, T, K)
 *                    [, transitions (K, K), start_transitions (K), end_transitions (K) with a CRF]
 *
 * Viterbi decoding stays outside the graph: it is a dynamic-programming loop with a back-trace,
 * which standard ONNX can only express as a Loop with a data-dependent Scan body, and no runtime
 * needs that to be fast (K² work per word, on K ≈ 13 tags). The exported transition scores already
 * carry the scheme's hard constraints (−∞ on a forbidden step, as CRF.decode uses), so
 * `viterbi(emissions, transitions, start, end)` on the outputs gives heed's paths.
 *
 * Padding is words == 0 (WordBatch's padding id).
 *
 * Letters: B sentences, T words, U distinct n-grams in the batch, D dModel, K tags.
 */
import { OnnxGraph } from '../../io/onnx/graph.js';
import { WordTagger } from '../../models/word-tagger.js';
import { allowedTransitions, transitionPenalties } from '../../nn/tag-transitions.js';
import { embeddingOnnx, linearOnnx, dropoutOnnx } from './layers.js';
import { positionTableOnnx } from './positions.js';
import { encoderOnnx, keyPaddingAllowed } from './transformer.js';
import { finish, type OnnxGraphFile } from './graph-file.js';

export function wordTaggerOnnx(model: WordTagger): OnnxGraphFile[] {
  const c = model.config, D = c.dModel, K = c.numTags;
  const trunk = model.trunk(); // the word table, positions and encoder, under backbone.* or the tagger's own names
  const g = new OnnxGraph('WordTagger');
  const words = g.input('words', 'int32', ['batch', 'sequence']);
  const shapes = g.input('shapes', 'int32', ['batch', 'sequence']);
  let x = g.node('Add', [embeddingOnnx(g, trunk.wordEmbed[1], trunk.wordEmbed[0], words), embeddingOnnx(g, model.shapeEmbed, 'shapeEmbed', shapes)]); // (B, T, D)
  if (model.ngramEmbed) {
    const ngrams = g.input('ngrams', 'int32', ['ngrams']);
    const mix = g.input('ngram_mix', 'float32', ['batch_x_sequence', 'ngrams']);
    const grams = embeddingOnnx(g, model.ngramEmbed, 'ngramEmbed', ngrams); // (U, D)
    const shape = g.node('Concat', [g.node('Shape', [words]), g.int64([D])], { axis: { i: 0 } }); // [B, T, D]
    x = g.node('Add', [x, g.node('Reshape', [g.node('MatMul', [mix, grams]), shape])]); // (B, T, D)
  }
  x = dropoutOnnx(model.drop, 'drop', positionTableOnnx(g, trunk.posEmbed[1], trunk.posEmbed[0], x, null)); // (B, T, D)
  const pad = g.node('Equal', [words, g.int32([0], [])]); // (B, T)
  const h = encoderOnnx(g, trunk.encoder[1], trunk.encoder[0], x, keyPaddingAllowed(g, pad)); // (B, T, D)
  g.output('emissions', linearOnnx(g, model.head, 'head', dropoutOnnx(model.drop, 'drop', h)), 'float32', ['batch', 'sequence', K]);
  if (model.crf) {
    const crf = model.crf;
    const add = (t: Float32Array, p: Float32Array | null): Float32Array => (p === null ? t : t.map((v, i) => v + p[i]));
    const p = crf.constraints ? transitionPenalties(allowedTransitions(crf.constraints.labels, crf.constraints.scheme)) : null;
    const f32 = (a: ArrayLike<number> | undefined | null): Float32Array | null => (a ? Float32Array.from(a) : null);
    g.output('transitions', g.initializer('crf.transitions', add(Float32Array.from(crf.transitions.data as Float32Array), f32(p?.transitions)), [K, K]), 'float32', [K, K]);
    g.output('start_transitions', g.initializer('crf.startTransitions', add(Float32Array.from(crf.startTransitions.data as Float32Array), f32(p?.start)), [K]), 'float32', [K]);
    g.output('end_transitions', g.initializer('crf.endTransitions', add(Float32Array.from(crf.endTransitions.data as Float32Array), f32(p?.end)), [K]), 'float32', [K]);
  }
  return [finish(g, 'model', `heed WordTagger; padding = words == 0${model.crf ? '; CRF: decode emissions by Viterbi with the transition outputs (constraints included as −∞)' : ''}`)];
}
