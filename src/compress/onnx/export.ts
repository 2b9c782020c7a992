/**
 * exportOnnx(model, sampleInputs): a heed model as ONNX graphs (opset 17, ai.onnx operators only)
 * that onnxruntime and the other ONNX runtimes run unchanged; writeOnnx saves them.
 *
 *   const exp = exportOnnx(classifier, [ids]);          // ids (B, T) int32, as classifier.forward takes
 *   await writeOnnx(exp, 'spam.onnx');                   // one graph: spam.onnx
 *   const s2s = exportOnnx(g2pModel, [src, tgtIn]);      // encoder + decoder step with past key/values
 *   await writeOnnx(s2s, 'g2p.onnx');                    // g2p.encoder.onnx, g2p.decoder.onnx
 *
 * Models: EncoderClassifier, TokenTagger, ViT (whole graphs), GPT (with past key/values) and
 * Seq2SeqTransformer (encoder + decoder-step graphs); ./models.ts documents each signature. Any
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
import { encoderClassifierOnnx, tokenTaggerOnnx, vitOnnx, gptOnnx, seq2seqOnnx, type OnnxGraphFile } from './models.js';

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
  /** Which graph input each forward argument feeds: [graph name, input name]. */
  args: [string, string][];
}

const EXPORTERS: Exporter[] = [
  { cls: EncoderClassifier, graphs: encoderClassifierOnnx as (m: never) => OnnxGraphFile[], args: [['model', 'input_ids']] },
  { cls: TokenTagger, graphs: tokenTaggerOnnx as (m: never) => OnnxGraphFile[], args: [['model', 'input_ids']] },
  { cls: ViT, graphs: vitOnnx as (m: never) => OnnxGraphFile[], args: [['model', 'pixel_values']] },
  { cls: GPT, graphs: gptOnnx as (m: never) => OnnxGraphFile[], args: [['model', 'input_ids']] },
  { cls: Seq2SeqTransformer, graphs: seq2seqOnnx as (m: never) => OnnxGraphFile[], args: [['encoder', 'src_ids'], ['decoder', 'input_ids']] },
];

/** The model as ONNX graphs; throws OnnxExportError for a model or module without an ONNX mapping. */
export function exportOnnx(model: Module, sampleInputs: readonly Tensor[]): OnnxExport {
  const ex = EXPORTERS.find((e) => model.constructor === e.cls);
  const name = model.constructor.name;
  if (ex === undefined) {
    throw new OnnxExportError(`exportOnnx: ${name} has no ONNX exporter. Exportable models: ${EXPORTERS.map((e) => e.cls.name).join(', ')}.`, name, '');
  }
  if (sampleInputs.length !== ex.args.length || !sampleInputs.every((t) => t instanceof Tensor)) {
    throw new ShapeError(`exportOnnx: ${name} takes ${ex.args.length} sample input tensor(s) (${ex.args.map(([, i]) => i).join(', ')}), as its forward does; received ${sampleInputs.length}.`);
  }
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => (model as unknown as { forward(...a: Tensor[]): unknown }).forward(...sampleInputs)); // heed's own checks first
    const graphs = ex.graphs(model as never);
    ex.args.forEach(([graph, input], k) => checkSample(name, graphs, graph, input, sampleInputs[k]));
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
