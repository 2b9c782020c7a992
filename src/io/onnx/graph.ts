/**
 * OnnxGraph: a small builder for one ONNX graph (nodes, initializers, typed inputs and outputs),
 * serialized to a ModelProto by onnx-proto (the protobufjs code generated from onnx/onnx.proto).
 *
 *   const g = new OnnxGraph('tiny');
 *   const x = g.input('x', 'float32', ['batch', 4]);
 *   const w = g.initializer('w', new Float32Array(12), [4, 3]);
 *   g.output('y', g.node('MatMul', [x, w]), 'float32', ['batch', 3]);
 *   const bytes = g.toModelBytes();           // a .onnx file, opset 17
 *
 * The builder knows nothing about heed's modules: the per-module exporters in
 * src/compress/onnx/ drive it. Only default-domain (ai.onnx) operators are written, so every
 * runtime that reads the opset can run the graph. A dim is a size or a symbolic name
 * ('batch', 'seq'): symbolic dims are the graph's dynamic axes.
 *
 * Names: a value is named `<scope>/<Op>_<n>`, where the scope is the module path the exporter is
 * in (so a runtime's profile points at heed's module tree); initializers keep heed's parameter names.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { VERSION } from '../../version.js';
import { Tensor } from '../../tensor/tensor.js';
import { DTypeError, ValueError } from '../../errors.js';

const { onnx } = onnxProto;

/** The default-domain opset the graphs target: 17 has LayerNormalization and is read by every current runtime. */
export const ONNX_OPSET = 17;
/** IR version 8 is the oldest that carries opset 17. */
export const ONNX_IR_VERSION = 8;

export type OnnxElemType = 'float32' | 'int32' | 'int64' | 'bool' | 'int8';
/** A dim: a fixed size or a symbolic (dynamic) name. */
export type OnnxDim = number | string;

/** TensorProto.DataType codes of onnx.proto. */
const DATA_TYPE: Record<OnnxElemType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, int8: 3 };

/** An attribute value, tagged by kind so an integer 1 and a float 1.0 stay distinct. */
export type OnnxAttr = { i: number } | { f: number } | { ints: number[] } | { s: string };

/** What a graph input or output is: its name, element type and dims. */
export interface OnnxValueInfo {
  name: string;
  type: OnnxElemType;
  dims: OnnxDim[];
}

type InitData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

export class OnnxGraph {
  readonly name: string;
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly inits: OnnxTypes.ITensorProto[] = [];
  private readonly names = new Set<string>();
  /** Cache key (e.g. a parameter object's id + a transform) → initializer name, so tied weights are stored once. */
  private readonly initByKey = new Map<unknown, string>();
  /** A stable id per heed tensor, for the initializer cache keys. */
  private readonly tensorIds = new Map<Tensor, number>();
  private counter = 0;
  /** Module path that prefixes the names of the nodes made now (see scoped()). */
  private scope = '';

  constructor(name: string) {
    this.name = name;
  }

  /** Runs `f` with node names prefixed by `path` (the module being exported), restoring the outer scope after. */
  scoped<T>(path: string, f: () => T): T {
    const outer = this.scope;
    this.scope = path;
    try {
      return f();
    } finally {
      this.scope = outer;
    }
  }

  /** Declares a graph input; returns its value name. */
  input(name: string, type: OnnxElemType, dims: OnnxDim[]): string {
    this.claim(name);
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** Declares `value` as the graph output `name` (an Identity renames it when the names differ). */
  output(name: string, value: string, type: OnnxElemType, dims: OnnxDim[]): void {
    if (value !== name) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `${name}/Identity` });
    }
    this.outputs.push({ name, type, dims });
  }

  /**
   * A constant tensor stored in the graph. `key` (optional) identifies its source, e.g. a
   * Parameter: asking again with the same key returns the first name, so a weight tied between
   * two modules is written once.
   */
  initializer(name: string, data: InitData, dims: number[], key?: unknown): string {
    if (key !== undefined) {
      const seen = this.initByKey.get(key);
      if (seen !== undefined) return seen;
    }
    const size = dims.reduce((a, d) => a * d, 1);
    if (data.length !== size) throw new ValueError(`OnnxGraph.initializer '${name}': ${data.length} values for dims [${dims.join(', ')}] (${size} expected).`);
    const type: OnnxElemType = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : data instanceof BigInt64Array ? 'int64' : data instanceof Int8Array ? 'int8' : 'bool';
    const unique = this.fresh(name);
    this.inits.push({ name: unique, dims, dataType: DATA_TYPE[type], rawData: littleEndianBytes(data) });
    if (key !== undefined) this.initByKey.set(key, unique);
    return unique;
  }

  /**
   * A float32 tensor of heed (a parameter or a buffer) as an initializer named `name`; with
   * `transpose` a 2-D (O, I) weight is stored as (I, O), the layout MatMul wants. The same tensor
   * asked for twice (a tied weight) is stored once.
   */
  tensor(name: string, t: Tensor, o: { transpose?: boolean } = {}): string {
    if (t.dtype !== 'float32') throw new DTypeError(`OnnxGraph.tensor '${name}': heed tensor is ${t.dtype}, expected float32. Fix: convert the model to float32 before exporting.`);
    let id = this.tensorIds.get(t);
    if (id === undefined) this.tensorIds.set(t, (id = this.tensorIds.size));
    const key = `tensor:${id}:${o.transpose ? 'T' : ''}`;
    if (!o.transpose) return this.initializer(name, t.data as Float32Array, [...t.shape], key);
    if (t.ndim !== 2) throw new ValueError(`OnnxGraph.tensor '${name}': transpose needs a 2-D weight, received shape [${t.shape.join(', ')}].`);
    const [O, I] = t.shape, src = t.data as Float32Array, out = new Float32Array(O * I);
    for (let o2 = 0; o2 < O; o2++) for (let i = 0; i < I; i++) out[i * O + o2] = src[o2 * I + i];
    return this.initializer(`${name}.T`, out, [I, O], key);
  }

  /** An int32 constant (compared with int32 token ids); equal constants are shared. */
  int32(values: readonly number[], dims: number[] = [values.length]): string {
    return this.initializer('const_i32', Int32Array.from(values), dims, `i32:${dims.join('x')}:${values.join(',')}`);
  }

  /** An int64 constant (shapes, axes, indices); equal constants are shared. `[]` dims = a scalar. */
  int64(values: readonly number[], dims: number[] = [values.length]): string {
    return this.initializer('const_i64', BigInt64Array.from(values, (v) => BigInt(v)), dims, `i64:${dims.join('x')}:${values.join(',')}`);
  }

  /** An int8 constant (a quantization zero point); equal constants are shared. */
  int8(values: readonly number[], dims: number[] = [values.length]): string {
    return this.initializer('const_i8', Int8Array.from(values), dims, `i8:${dims.join('x')}:${values.join(',')}`);
  }

  /** A float32 constant, a scalar by default; equal constants are shared. */
  float(value: number, dims: number[] = []): string {
    return this.initializer('const_f32', new Float32Array([value]), dims, `f32:${dims.join('x')}:${Object.is(value, -0) ? '-0' : value}`);
  }

  /** A bool constant of the given dims filled with `value`. */
  bool(value: boolean, dims: number[]): string {
    const size = dims.reduce((a, d) => a * d, 1);
    return this.initializer('const_bool', new Uint8Array(size).fill(value ? 1 : 0), dims, `bool:${dims.join('x')}:${value}`);
  }

  /** Adds one node of the default domain; returns its output value name. */
  node(op: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}): string {
    return this.nodeN(op, inputs, 1, attrs)[0];
  }

  /** Adds one node with `nOutputs` outputs; returns their names. An input '' means "omitted optional input". */
  nodeN(op: string, inputs: readonly string[], nOutputs: number, attrs: Record<string, OnnxAttr> = {}): string[] {
    const base = `${this.scope ? `${this.scope}/` : ''}${op}_${this.counter++}`;
    const outputs = Array.from({ length: nOutputs }, (_, k) => this.fresh(nOutputs === 1 ? base : `${base}:${k}`));
    this.nodes.push({ opType: op, name: base, input: [...inputs], output: outputs, attribute: Object.entries(attrs).map(([n, a]) => attribute(n, a)) });
    return outputs;
  }

  /** The graph as a serialized ModelProto (IR 8, default-domain opset 17). */
  toModelBytes(docString = ''): Uint8Array {
    const graph: OnnxTypes.IGraphProto = {
      name: this.name, node: this.nodes, initializer: this.inits,
      input: this.inputs.map(valueInfo), output: this.outputs.map(valueInfo),
    };
    const model = onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION, producerName: 'heed', producerVersion: VERSION, docString,
      opsetImport: [{ domain: '', version: ONNX_OPSET }], graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** The operator types the graph uses, sorted (tests check they are all standard). */
  opTypes(): string[] {
    return [...new Set(this.nodes.map((n) => n.opType ?? ''))].sort();
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new ValueError(`OnnxGraph '${this.name}': the value name '${name}' is used twice; graph inputs and outputs need distinct names.`);
    this.names.add(name);
  }

  private fresh(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }
}

function attribute(name: string, a: OnnxAttr): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in a) return { name, type: T.INT, i: a.i };
  if ('f' in a) return { name, type: T.FLOAT, f: a.f };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.s) };
}

function valueInfo(v: OnnxValueInfo): OnnxTypes.IValueInfoProto {
  const dim = v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType: DATA_TYPE[v.type], shape: { dim } } } };
}

/** The raw little-endian bytes of a typed array (ONNX raw_data is little-endian; so is every host heed runs on). */
function littleEndianBytes(data: InitData): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}
