/**
 * A tiny ONNX protobuf writer: just enough of onnx.proto (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto) to build the benchmark graphs
 * in code, so the peers need no .onnx files and no protobuf dependency.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8, opset 13). Wire types: 0 varint,
 * 2 length-delimited, 5 fixed32.
 */

type Bytes = Uint8Array;

function varint(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`onnx-proto: varint needs a non-negative integer, received ${n}`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function concat(parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const tag = (field: number, wire: number): number[] => varint(field * 8 + wire);
const vint = (field: number, n: number): Bytes => new Uint8Array([...tag(field, 0), ...varint(n)]);
const bytes = (field: number, b: Bytes): Bytes => concat([new Uint8Array([...tag(field, 2), ...varint(b.length)]), b]);
const str = (field: number, s: string): Bytes => bytes(field, new TextEncoder().encode(s));
function f32(field: number, x: number): Bytes {
  const b = new Uint8Array(5 + 4);
  const head = tag(field, 5);
  b.set(head);
  new DataView(b.buffer).setFloat32(head.length, x, true);
  return b.subarray(0, head.length + 4);
}

export const FLOAT = 1;

export type Attr = { name: string; f: number } | { name: string; i: number } | { name: string; ints: number[] };

export interface NodeSpec {
  op: string;
  /** Operator domain: '' (default ONNX) or e.g. 'com.microsoft' for onnxruntime's contrib ops. */
  domain?: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
}

/** A dim is a size or a symbolic name. */
export interface ValueSpec { name: string; shape: (number | string)[] }

export interface InitSpec { name: string; shape: number[]; data: Float32Array }

function attribute(a: Attr): Bytes {
  // AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7)
  if ('f' in a) return concat([str(1, a.name), f32(2, a.f), vint(20, 1)]);
  if ('i' in a) return concat([str(1, a.name), vint(3, a.i < 0 ? 2 ** 64 + a.i : a.i), vint(20, 2)]);
  return concat([str(1, a.name), ...a.ints.map((v) => vint(8, v)), vint(20, 7)]);
}

function node(n: NodeSpec, idx: number): Bytes {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7
  return concat([...n.inputs.map((s) => str(1, s)), ...n.outputs.map((s) => str(2, s)), str(3, `${n.op}_${idx}`), str(4, n.op),
    ...(n.attrs ?? []).map((a) => bytes(5, attribute(a))), ...(n.domain ? [str(7, n.domain)] : [])]);
}

function valueInfo(v: ValueSpec): Bytes {
  // ValueInfoProto{name 1, type 2} → TypeProto{tensor_type 1} → Tensor{elem_type 1, shape 2} → Shape{dim 1} → Dim{dim_value 1, dim_param 2}
  const dims = v.shape.map((d) => bytes(1, typeof d === 'number' ? vint(1, d) : str(2, d)));
  const tensorType = concat([vint(1, FLOAT), bytes(2, concat(dims))]);
  return concat([str(1, v.name), bytes(2, bytes(1, tensorType))]);
}

function initializer(t: InitSpec): Bytes {
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian)
  const raw = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  return concat([...t.shape.map((d) => vint(1, d)), vint(2, FLOAT), str(8, t.name), bytes(9, raw)]);
}

/** Serializes a one-graph model (IR 8, default-domain opset 13, plus opset 1 of every other domain its nodes use). */
export function buildModel(g: { name: string; nodes: NodeSpec[]; inputs: ValueSpec[]; outputs: ValueSpec[]; initializers?: InitSpec[] }): Bytes {
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12
  const graph = concat([...g.nodes.map((n, i) => bytes(1, node(n, i))), str(2, g.name), ...(g.initializers ?? []).map((t) => bytes(5, initializer(t))),
    ...g.inputs.map((v) => bytes(11, valueInfo(v))), ...g.outputs.map((v) => bytes(12, valueInfo(v)))]);
  // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (OperatorSetIdProto: domain 1, version 2)
  const domains = [...new Set(g.nodes.map((n) => n.domain ?? '').filter((d) => d !== ''))];
  return concat([vint(1, 8), str(2, 'heed-bench'), bytes(7, graph), bytes(8, concat([str(1, ''), vint(2, 13)])),
    ...domains.map((d) => bytes(8, concat([str(1, d), vint(2, 1)])))]);
}
