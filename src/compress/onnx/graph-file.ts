/**
 * OnnxGraphFile: one exported graph (its role, serialized bytes and signature), and `finish`,
 * which every per-model exporter calls to seal an OnnxGraph into one.
 */
import type { OnnxGraph, OnnxValueInfo } from '../../io/onnx/graph.js';

/** One exported graph: its role ('model', 'encoder', 'decoder'), the serialized ModelProto and its signature. */
export interface OnnxGraphFile {
  name: string;
  bytes: Uint8Array;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** The operator types the graph uses (all ai.onnx, opset 17). */
  opTypes: string[];
}

/** Seals `g` as the graph file `name`, with `doc` as the model's doc string (what its inputs mean). */
export function finish(g: OnnxGraph, name: string, doc: string): OnnxGraphFile {
  return { name, bytes: g.toModelBytes(doc), inputs: [...g.inputs], outputs: [...g.outputs], opTypes: g.opTypes() };
}
