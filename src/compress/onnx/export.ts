/**
 * exportOnnx(model, sampleInputs): a heed model as ONNX graphs (opset 17, ai.onnx operators only)
 * that onnxruntime and the other ONNX runtimes run unchanged; writeOnnx saves them.
 *
 *   const exp = exportOnnx(classifier, [ids]);          // ids (B, T) int32, as classifier.forward takes
 *   await writeOnnx(exp, 'spam.onnx');                   // one graph: spam.onnx
 *   const s2s = exportOnnx(g2pModel, [src, tgtIn]);      // encoder + decoder step with past key/values
 *   await writeOnnx(s2s, 'g2p.onnx');                    // g2p.encoder.onnx, g2p.decoder.onnx
 *
 * Models (each file documents its graphs' signatures):
 *   ./models.ts       EncoderClassifier, TokenTagger, ViT (whole graphs), GPT (with past key/values),
 *                     Seq2SeqTransformer (encoder + decoder-step graphs)
 *   ./bert.ts         Bert, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification
 *                     (BERT, RoBERTa, DistilBERT from fromPretrained), MaskedLM; GPT-2 is a GPT
 *   ./rnn.ts          LSTM, GRU, LstmAttentionSeq2Seq (encoder + decoder-step graphs)
 *   ./vision.ts       CnnClassifier (BatchNorm, pools, SE / CBAM / MHSA)
 *   ./multimodal.ts   MultimodalFusion;  ./forecaster.ts PatchTSTForecaster
 *   ./sasrec.ts       SASRec's next-item scores;  ./word-tagger.ts WordTagger emissions (+ CRF scores)
 * Any
 * other model, or a module inside one without an ONNX mapping (a QuantizedLinear, RoPE, ...), is an
 * OnnxExportError naming the module type and its path, raised before anything is written.
 *
 * sampleInputs are the arguments of model.forward. The model runs on them (eval mode, no
 * gradients) before export, so an input heed would reject fails here with heed's own error, and
 * their dtypes and ranks are checked against the graph inputs they map to.
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Tensor } from '../../tensor/tensor.js';
import { noGrad } from '../../autograd/mode.js';
import type { Module } from '../../nn/module.js';
import { writeFileDurable } from '../../io/write-file.js';
import { EncoderClassifier } from '../../models/encoder-classifier.js';
import { TokenTagger } from '../../models/token-tagger.js';
import { ViT } from '../../models/vit.js';
import { GPT } from '../../models/gpt.js';
import { Seq2SeqTransformer } from '../../models/seq2seq.js';
import { OnnxExportError, ShapeError, DTypeError, ValueError, fmtShape } from '../../errors.js';
import { LstmAttentionSeq2Seq } from '../../models/lstm-seq2seq.js';
import { LSTM } from '../../nn/lstm.js';
import { GRU } from '../../nn/gru.js';
import { CnnClassifier } from '../../models/cnn.js';
import { Bert, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification } from '../../models/bert.js';
import { MaskedLM } from '../../models/masked-lm.js';
import { MultimodalFusion } from '../../models/multimodal.js';
import { PatchTSTForecaster } from '../../models/forecaster.js';
import { SASRec } from '../../models/sasrec.js';
import { WordTagger, type WordBatch } from '../../models/word-tagger.js';
import { encoderClassifierOnnx, tokenTaggerOnnx, vitOnnx, gptOnnx, seq2seqOnnx, type OnnxGraphFile } from './models.js';
import { lstmSeq2SeqOnnx, recurrentModuleOnnx } from './rnn.js';
import { cnnClassifierOnnx } from './vision.js';
import { bertOnnx, bertForMaskedLMOnnx, bertForSequenceClassificationOnnx, bertForTokenClassificationOnnx, maskedLMOnnx } from './bert.js';
import { multimodalOnnx } from './multimodal.js';
import { forecasterOnnx } from './forecaster.js';
import { sasRecOnnx } from './sasrec.js';
import { wordTaggerOnnx } from './word-tagger.js';

export type { OnnxGraphFile } from './models.js';

export interface OnnxExport {
  /** The exported model's class name. */
  model: string;
  /** One graph ('model'), or 'encoder' and 'decoder' for a Seq2SeqTransformer. */
  graphs: OnnxGraphFile[];
}

interface Exporter {
  cls: abstract new (...a: never[]) => Module;
  graphs: (m: never) => OnnxGraphFile[];
  /** Which graph input each sample input feeds: [graph name, input name] (a function when it depends on the model's config). */
  args: [string, string][] | ((m: never) => [string, string][]);
  /** Runs heed on the sample inputs when they are not simply forward's arguments (default: model.forward(...inputs)). */
  run?: (m: never, inputs: readonly Tensor[]) => unknown;
}

const one = <M extends Module>(cls: abstract new (...a: never[]) => M, graphs: (m: M) => OnnxGraphFile[], args: Exporter['args'], run?: (m: M, inputs: readonly Tensor[]) => unknown): Exporter =>
  ({ cls, graphs: graphs as (m: never) => OnnxGraphFile[], args, run: run as Exporter['run'] });

const EXPORTERS: Exporter[] = [
  one(EncoderClassifier, encoderClassifierOnnx, [['model', 'input_ids']]),
  one(TokenTagger, tokenTaggerOnnx, [['model', 'input_ids']]),
  one(ViT, vitOnnx, [['model', 'pixel_values']]),
  one(GPT, gptOnnx, [['model', 'input_ids']]),
  one(Seq2SeqTransformer, seq2seqOnnx, [['encoder', 'src_ids'], ['decoder', 'input_ids']]),
  one(LstmAttentionSeq2Seq, lstmSeq2SeqOnnx, [['encoder', 'src_ids'], ['decoder', 'input_ids']]),
  one(LSTM, recurrentModuleOnnx, [['model', 'x']]),
  one(GRU, recurrentModuleOnnx, [['model', 'x']]),
  one(CnnClassifier, cnnClassifierOnnx, [['model', 'pixel_values']]),
  one(Bert, bertOnnx, [['model', 'input_ids']]),
  one(BertForMaskedLM, bertForMaskedLMOnnx, [['model', 'input_ids']]),
  one(BertForSequenceClassification, bertForSequenceClassificationOnnx, [['model', 'input_ids']]),
  one(BertForTokenClassification, bertForTokenClassificationOnnx, [['model', 'input_ids']]),
  one(MaskedLM, maskedLMOnnx, [['model', 'input_ids']]),
  one(MultimodalFusion, multimodalOnnx, [['model', 'input_ids'], ['model', 'pixel_values']]),
  one(PatchTSTForecaster, forecasterOnnx, [['model', 'context'], ['model', 'calendar']]),
  // scoreNext(ids, lengths): the scoring graph; lengths travel as a (B) int32 tensor.
  one(SASRec, sasRecOnnx, [['model', 'item_ids'], ['model', 'lengths']], (m, [ids, lengths]) => m.scoreNext(ids, Int32Array.from(lengths.data as Int32Array))),
  one(WordTagger, wordTaggerOnnx, (m: WordTagger) => [['model', 'words'], ['model', 'shapes'], ...(m.ngramEmbed ? [['model', 'ngrams'], ['model', 'ngram_mix']] as [string, string][] : [])],
    (m, [words, shapes, ngrams, ngramMix]) => m.forward(wordBatchOf(words, shapes, ngrams ?? null, ngramMix ?? null))),
];

/** A WordBatch from the graph's inputs: padding is word id 0, as the graph computes it. */
function wordBatchOf(words: Tensor, shapes: Tensor, ngrams: Tensor | null, ngramMix: Tensor | null): WordBatch {
  const [B, T] = words.shape;
  const pad = new Uint8Array(B * T).map((_, i) => (words.data[i] === 0 ? 1 : 0));
  const lengths = Array.from({ length: B }, (_, b) => pad.subarray(b * T, (b + 1) * T).reduce((n, p) => n + (p ? 0 : 1), 0));
  return { words, shapes, ngrams, ngramMix, pad: new Tensor(pad, [B, T]), lengths };
}

/** The model as ONNX graphs; throws OnnxExportError for a model or module without an ONNX mapping. */
export function exportOnnx(model: Module, sampleInputs: readonly Tensor[]): OnnxExport {
  const ex = EXPORTERS.find((e) => model.constructor === e.cls);
  const name = model.constructor.name;
  if (ex === undefined) {
    throw new OnnxExportError(`exportOnnx: ${name} has no ONNX exporter. Exportable models: ${EXPORTERS.map((e) => e.cls.name).join(', ')}.`, name, '');
  }
  const args = typeof ex.args === 'function' ? ex.args(model as never) : ex.args;
  if (sampleInputs.length !== args.length || !sampleInputs.every((t) => t instanceof Tensor)) {
    throw new ShapeError(`exportOnnx: ${name} takes ${args.length} sample input tensor(s) (${args.map(([, i]) => i).join(', ')}), as its forward does; received ${sampleInputs.length}.`);
  }
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => (ex.run ? ex.run(model as never, sampleInputs) : (model as unknown as { forward(...a: Tensor[]): unknown }).forward(...sampleInputs))); // heed's own checks first
    const graphs = ex.graphs(model as never);
    args.forEach(([graph, input], k) => checkSample(name, graphs, graph, input, sampleInputs[k]));
    return { model: name, graphs };
  } finally {
    model.train(wasTraining);
  }
}

function checkSample(model: string, graphs: OnnxGraphFile[], graph: string, input: string, t: Tensor): void {
  const info = graphs.find((g) => g.name === graph)!.inputs.find((i) => i.name === input)!;
  if (t.dtype !== info.type) throw new DTypeError(`exportOnnx: ${model} sample input '${input}' is ${t.dtype}, the graph takes ${info.type}.`);
  const fixedOk = info.dims.every((d, i) => typeof d === 'string' || d === t.shape[i]);
  if (t.ndim !== info.dims.length || !fixedOk) {
    throw new ShapeError(`exportOnnx: ${model} sample input '${input}' has shape ${fmtShape(t.shape)}, the graph takes [${info.dims.join(', ')}].`);
  }
}

/** Paths writeOnnx uses for `out`: out itself for one graph, <stem>.<graph>.onnx for several. */
export function onnxPaths(exp: OnnxExport, out: string): string[] {
  if (exp.graphs.length === 1) return [out];
  const stem = out.endsWith('.onnx') ? out.slice(0, -'.onnx'.length) : out;
  return exp.graphs.map((g) => `${stem}.${g.name}.onnx`);
}

/**
 * Writes the graphs (see onnxPaths). An existing file is never replaced (ValueError naming it).
 * Each file is written whole to a temporary name, flushed, then renamed into place, so a reader
 * never sees half a graph. Returns the paths written.
 */
export async function writeOnnx(exp: OnnxExport, out: string): Promise<string[]> {
  const paths = onnxPaths(exp, out);
  const taken = paths.filter((p) => existsSync(p));
  if (taken.length > 0) throw new ValueError(`writeOnnx: ${taken.join(', ')} already exist(s); heed does not overwrite files. Fix: choose another output path or remove the old file.`);
  const temps = paths.map((p) => `${p}.tmp-${process.pid}`);
  try {
    for (const [k, g] of exp.graphs.entries()) await writeFileDurable(temps[k], g.bytes);
    for (const [k, p] of paths.entries()) await rename(temps[k], p);
  } finally {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
  }
  return paths;
}
