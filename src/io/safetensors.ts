/**
 * The safetensors file format, read and written without executing anything from the file.
 *
 * Layout (https://github.com/huggingface/safetensors, "Format"):
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  a UTF-8 JSON object:
 *                { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ...,
 *                  "__metadata__": { "<key>": "<string value>" } }   (optional)
 *   [rest]     the data buffer; offsets are relative to its start, little-endian, row-major.
 *
 * Reading validates everything the reference implementation (safetensors/src/tensor.rs) does,
 * and a little more: header size ≤ 100 MB and ≤ file size − 8; valid UTF-8; a JSON object;
 * the schema of every entry; no tensor name twice (JSON.parse would keep the last silently);
 * known dtypes; shapes of non-negative integers;
 * end − begin == numel × itemsize; and, after sorting entries by offset, a buffer tiled
 * exactly: first begin is 0, each begin equals the previous end (no gap, no overlap),
 * the last end equals the buffer length (no truncation, no trailing bytes).
 * The order of the keys in the JSON is not significant (the spec does not constrain it).
 *
 * Writing follows the reference layout byte for byte: entries ordered by dtype (widest
 * first, the reference's `Dtype` order) then by name, so every tensor starts aligned to its
 * element size; compact JSON with `__metadata__` first; header padded with spaces to a
 * multiple of 8. PyTorch's `safetensors.torch.load_file` reads these files.
 *
 * Data comes back in its stored dtype (F16/BF16 as raw Uint16Array words, I64 as
 * BigInt64Array) so a read → write round trip is lossless; `toFloat32` / `toInt32` widen or
 * narrow it for computation (F16/BF16 → float32; I64 → int32 with a range check).
 */

import { randomBytes } from 'node:crypto';
import { rename, unlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';

import { CheckpointError, DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { bfloat16ToFloat32, float16ToFloat32 } from './float16.js';
import { parseUntrustedJson, preview, quoteName } from './json.js';
import { FILE_LIMITS, readRegularFile } from './read-file.js';
import { writeChunksDurable } from './write-file.js';

export type SafetensorsDType =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'I32' | 'I16' | 'I8'
  | 'U64' | 'U32' | 'U16' | 'U8'
  | 'BOOL';

export type RawTensorData =
  | Float64Array | Float32Array
  | BigInt64Array | Int32Array | Int16Array | Int8Array
  | BigUint64Array | Uint32Array | Uint16Array | Uint8Array;

/** One tensor as stored: dtype, shape and a typed array of numel elements (F16/BF16: raw bits). */
export interface RawTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: RawTensorData;
}

/**
 * A parsed file. Both records have a null prototype, so a tensor named '__proto__' or
 * 'constructor' is an ordinary key and a lookup never falls through to Object.prototype.
 */
export interface SafetensorsFile {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

type TypedArrayCtor = { new (buffer: ArrayBufferLike): RawTensorData; readonly BYTES_PER_ELEMENT: number; readonly name: string };

/**
 * Element type, typed-array class and the reference implementation's `Dtype` rank
 * (declaration order in safetensors/src/tensor.rs; the writer sorts by it, descending).
 */
const DTYPES: Record<SafetensorsDType, { ctor: TypedArrayCtor; rank: number }> = {
  BOOL: { ctor: Uint8Array, rank: 0 },
  U8: { ctor: Uint8Array, rank: 1 },
  I8: { ctor: Int8Array, rank: 2 },
  I16: { ctor: Int16Array, rank: 5 },
  U16: { ctor: Uint16Array, rank: 6 },
  F16: { ctor: Uint16Array, rank: 7 },
  BF16: { ctor: Uint16Array, rank: 8 },
  I32: { ctor: Int32Array, rank: 9 },
  U32: { ctor: Uint32Array, rank: 10 },
  F32: { ctor: Float32Array, rank: 11 },
  F64: { ctor: Float64Array, rank: 12 },
  I64: { ctor: BigInt64Array, rank: 13 },
  U64: { ctor: BigUint64Array, rank: 14 },
};
const KNOWN_DTYPES = Object.keys(DTYPES).join(', ');

/** The reference implementation's bound on the header (safetensors MAX_HEADER_SIZE). */
export const MAX_HEADER_SIZE = 100_000_000;

/** Bytes per element of a dtype. */
export function dtypeSize(dtype: SafetensorsDType): number {
  return DTYPES[dtype].ctor.BYTES_PER_ELEMENT;
}

function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') {
    throw new CheckpointError('safetensors: this host is big-endian; heed reads and writes safetensors only on little-endian hosts.');
  }
}

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * The layout of a safetensors file: its 8-byte length prefix and padded JSON header, then the
 * tensors' bytes in `order`. Checks every tensor and the metadata first.
 */
function layoutSafetensors(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): { head: Uint8Array; order: string[]; dataBytes: number } {
  assertLittleEndianHost();
  const names = Object.keys(tensors);
  for (const name of names) checkTensorForWrite(name, tensors[name]);
  if (metadata !== undefined) checkMetadataForWrite(metadata);

  // Reference order: widest dtype first, then by name, so each tensor starts aligned.
  names.sort((a, b) => {
    const byRank = DTYPES[tensors[b].dtype].rank - DTYPES[tensors[a].dtype].rank;
    return byRank !== 0 ? byRank : a < b ? -1 : a > b ? 1 : 0;
  });

  // Null prototype: a tensor named '__proto__' is stored as a key, not taken as the prototype.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const nbytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8); // spaces pad the header, as the reference pads
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, order: names, dataBytes: offset };
}

/** The bytes of one tensor's data, viewed in place (no copy). */
function bytesOf(t: RawTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * Serializes tensors (and optional string metadata) to safetensors bytes.
 * Throws ValueError / DTypeError / ShapeError when a tensor is inconsistent with its dtype or shape.
 */
export function serializeSafetensors(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  const { head, order, dataBytes } = layoutSafetensors(tensors, metadata);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head, 0);
  let at = head.length;
  for (const name of order) {
    out.set(bytesOf(tensors[name]), at);
    at += tensors[name].data.byteLength;
  }
  return out;
}

function checkTensorForWrite(name: string, t: RawTensor): void {
  const where = `serializeSafetensors: tensor ${quoteName(name)}`;
  if (name === '__metadata__') throw new ValueError(`${where}: the name '__metadata__' is reserved for metadata. Fix: rename the tensor.`);
  if (t === null || typeof t !== 'object') throw new ValueError(`${where}: expected a {dtype, shape, data} object, received ${String(t)}.`);
  if (typeof t.dtype !== 'string' || !Object.hasOwn(DTYPES, t.dtype)) throw new DTypeError(`${where}: unknown dtype ${preview(t.dtype)}; expected one of ${KNOWN_DTYPES}.`);
  const spec = DTYPES[t.dtype];
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`${where}: shape must be an array of non-negative integers, received ${preview(t.shape)}.`);
  }
  if (!(t.data instanceof spec.ctor)) {
    const got = (t.data as object | undefined)?.constructor?.name ?? typeof t.data;
    throw new DTypeError(`${where}: dtype ${t.dtype} needs data as ${spec.ctor.name}, received ${got}. Fix: convert the data or change the dtype.`);
  }
  const numel = numelOf(t.shape);
  if (t.data.length !== numel) {
    throw new ShapeError(`${where}: shape ${fmtShape(t.shape)} has ${numel} elements but data has ${t.data.length}.`);
  }
}

function checkMetadataForWrite(metadata: Record<string, string>): void {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new ValueError(`serializeSafetensors: metadata must be an object of string values, received ${preview(metadata)}.`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') {
      throw new ValueError(`serializeSafetensors: metadata['${k}'] must be a string (safetensors metadata is str → str), received ${typeof v}. Fix: JSON.stringify it.`);
    }
  }
}

/**
 * Writes a safetensors file atomically: the bytes go to a temporary file in the same
 * directory, which is flushed to disk and then renamed over `path`. A crash leaves either the
 * old file or the new one, never half of one. Each tensor's bytes are written from its own
 * memory: no buffer of the file's size is made (a checkpoint of the weights or of the optimizer
 * state would otherwise hold a second copy of them while it is written).
 */
export async function writeSafetensors(path: string, tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Promise<void> {
  const { head, order } = layoutSafetensors(tensors, metadata);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeChunksDurable(tmp, [head, ...order.map((name) => bytesOf(tensors[name]))]);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parses and validates safetensors bytes. `source` (a path or label) is named in error messages.
 * Every inconsistency throws CheckpointError; the returned arrays are copies, aligned, and
 * independent of `bytes`.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  assertLittleEndianHost();
  const fail = (what: string): never => {
    throw new CheckpointError(`parseSafetensors: ${source}: ${what}`);
  };

  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header-length prefix. The file is truncated or not safetensors.`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) fail(`header length is ${n} bytes, above the ${MAX_HEADER_SIZE}-byte limit. The file is corrupt or not safetensors.`);
  const headerLen = Number(n);
  if (headerLen > bytes.length - 8) {
    fail(`header length is ${headerLen} bytes but only ${bytes.length - 8} bytes follow the prefix. The file is truncated or not safetensors.`);
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('header is not valid UTF-8. The file is corrupt or not safetensors.');
  }
  if (!text.startsWith('{')) fail(`header must start with '{' (a JSON object), received ${JSON.stringify(text.slice(0, 20))}.`);
  const header = parseUntrustedJson(text, `parseSafetensors: ${source}`, 'header');
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header JSON must be an object of tensor entries.');

  let metadata: Record<string, string> = Object.create(null);
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') metadata = parseMetadata(value, fail);
    else entries.push(parseEntry(name, value, fail));
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  checkTiling(entries, dataLen, fail);

  const tensors: Record<string, RawTensor> = Object.create(null);
  for (const e of entries) {
    // Copy into a fresh, aligned ArrayBuffer (a Node Buffer's slice() would share the file's memory).
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: new DTYPES[e.dtype].ctor(copy.buffer) };
  }
  return { tensors, metadata };
}

function parseMetadata(value: unknown, fail: (what: string) => never): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`__metadata__ must be an object of strings, received ${preview(value)}.`);
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`__metadata__[${quoteName(k)}] must be a string, received ${preview(v)}.`);
    out[k] = v as string;
  }
  return out;
}

function parseEntry(name: string, value: unknown, fail: (what: string) => never): HeaderEntry {
  const where = `tensor ${quoteName(name)}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`${where}: entry must be an object {dtype, shape, data_offsets}, received ${preview(value)}.`);
  }
  const v = value as Record<string, unknown>;
  const extra = Object.keys(v).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
  if (extra.length > 0) fail(`${where}: unexpected key(s) ${extra.slice(0, 5).map((k) => (k.length > 40 ? `${k.slice(0, 40)}…` : k)).join(', ')}${extra.length > 5 ? ', …' : ''}; an entry has exactly dtype, shape, data_offsets.`);

  const dtype = v.dtype;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) {
    fail(`${where}: unknown or unsupported dtype ${preview(dtype)}; expected one of ${KNOWN_DTYPES}.`);
  }
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: shape must be an array of non-negative integers, received ${preview(shape)}.`);
  }
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`${where}: data_offsets must be [begin, end] of non-negative integers, received ${preview(offsets)}.`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] are reversed (end < begin).`);

  const numel = numelOf(shape as number[]);
  const itemsize = DTYPES[dtype as SafetensorsDType].ctor.BYTES_PER_ELEMENT;
  if (!Number.isSafeInteger(numel * itemsize) || end - begin !== numel * itemsize) {
    fail(
      `${where}: shape ${preview(shape)} of ${dtype} needs ${numel} × ${itemsize} = ${numel * itemsize} bytes, ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}.`,
    );
  }
  return { name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin, end };
}

/** The entries, sorted by offset, must tile [0, dataLen) exactly. */
function checkTiling(entries: HeaderEntry[], dataLen: number, fail: (what: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous = '(start of data)';
  for (const e of sorted) {
    if (e.begin > expected) fail(`gap in the data buffer: bytes [${expected}, ${e.begin}) between ${previous} and tensor ${quoteName(e.name)} belong to no tensor.`);
    if (e.begin < expected) fail(`tensor ${quoteName(e.name)} data_offsets [${e.begin}, ${e.end}] overlap ${previous}, which ends at ${expected}.`);
    expected = e.end;
    previous = `tensor ${quoteName(e.name)}`;
  }
  if (expected > dataLen) fail(`tensors need ${expected} data bytes but the file holds ${dataLen}. The file is truncated.`);
  if (expected < dataLen) fail(`${dataLen - expected} trailing bytes after the last tensor (data ends at ${expected}, file data is ${dataLen} bytes). The file is corrupt.`);
}

/**
 * Reads and validates a safetensors file (see parseSafetensors). The path must name a regular
 * file of at most `maxBytes` (default FILE_LIMITS.weights, 2 GiB); devices, pipes and directories
 * are refused before anything is read (see read-file.ts).
 */
export async function readSafetensors(path: string, options: { maxBytes?: number } = {}): Promise<SafetensorsFile> {
  const bytes = await readRegularFile(path, { what: 'safetensors file', maxBytes: options.maxBytes ?? FILE_LIMITS.weights });
  return parseSafetensors(bytes, path);
}

// ---------------------------------------------------------------------------------------------
// Conversions for computation

/** Widens any floating or integer tensor to Float32Array (F16/BF16 decoded; F32 returned as is). */
export function toFloat32(t: RawTensor): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return t.data as Float32Array;
    case 'F16':
      return float16ToFloat32(t.data as Uint16Array);
    case 'BF16':
      return bfloat16ToFloat32(t.data as Uint16Array);
    case 'I64':
    case 'U64':
      return Float32Array.from(t.data as BigInt64Array, (x) => Number(x));
    default:
      return Float32Array.from(t.data as ArrayLike<number>);
  }
}

/**
 * Converts an integer tensor to Int32Array. I64/U64/U32 values outside the int32 range throw
 * CheckpointError naming `name` (token ids and indices never need more than 32 bits).
 */
export function toInt32(t: RawTensor, name = '<tensor>'): Int32Array {
  if (t.dtype === 'I32') return t.data as Int32Array;
  if (t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F32' || t.dtype === 'F64') {
    throw new DTypeError(`toInt32: tensor '${name}' has floating dtype ${t.dtype}, expected an integer dtype. Fix: use toFloat32.`);
  }
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const x = Number(t.data[i]);
    if (x < -2147483648 || x > 2147483647) {
      throw new CheckpointError(`toInt32: tensor '${name}' (${t.dtype}) holds ${t.data[i]} at flat index ${i}, outside the int32 range [-2^31, 2^31 − 1].`);
    }
    out[i] = x;
  }
  return out;
}
