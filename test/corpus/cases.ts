/**
 * The malformed-checkpoint corpus: each case is a copy of a good G2P model directory with one
 * thing broken, the way a truncated download, a bad edit, a disk error or an attacker would break
 * it. corpus.test.ts runs every case through `heed predict`, `heed eval`, `loadPredictor` and (a
 * subset) `heed serve`; each must end in one typed one-line error, quickly, in bounded memory.
 *
 * A case is a name and a function that damages the directory it is given.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, appendFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors, type RawTensor } from '../../src/io/safetensors.js';
import { float32ToFloat16 } from '../../src/io/float16.js';

export interface CorpusCase {
  name: string;
  damage: (dir: string) => void;
}

const WEIGHTS = 'model.safetensors';
const CONFIG = 'config.json';
const SRC_VOCAB = 'graphemes.vocab.json';

// --- model.safetensors as parts: 8-byte length, header JSON, data ------------------------------

function readParts(dir: string): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; data: Buffer } {
  const bytes = readFileSync(join(dir, WEIGHTS));
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')), data: bytes.subarray(8 + n) };
}

function writeRaw(dir: string, headerText: string, data: Uint8Array, lengthOverride?: bigint): void {
  const json = Buffer.from(headerText, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  writeFileSync(join(dir, WEIGHTS), Buffer.concat([len, json, data]));
}

/** Edits the parsed header (names, dtypes, shapes, offsets) and writes it back over the same data. */
function editHeader(edit: (h: Record<string, { dtype: string; shape: unknown; data_offsets: unknown }>, names: string[]) => void) {
  return (dir: string) => {
    const { header, data } = readParts(dir);
    const names = Object.keys(header).filter((k) => k !== '__metadata__').sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0]);
    edit(header as never, names);
    writeRaw(dir, JSON.stringify(header), data);
  };
}

/** Edits the weights as tensors and writes a valid safetensors file. */
function editTensors(edit: (t: Record<string, RawTensor>, names: string[]) => void) {
  return (dir: string) => {
    const { tensors, metadata } = parseSafetensors(readFileSync(join(dir, WEIGHTS)));
    const copy: Record<string, RawTensor> = { ...tensors };
    edit(copy, Object.keys(copy).sort());
    writeFileSync(join(dir, WEIGHTS), serializeSafetensors(copy, { ...metadata }));
  };
}

/** The name of the largest 2-D weight (an embedding or projection), for edits that need one. */
const matrixOf = (t: Record<string, RawTensor>) => Object.keys(t).filter((k) => t[k].shape.length === 2).sort((a, b) => t[b].data.length - t[a].data.length)[0];

// --- files replaced by other kinds of file ------------------------------------------------------

const replaceWith = (file: string, kind: 'dir' | 'devzero' | 'fifo' | 'missing' | 'empty') => (dir: string) => {
  const p = join(dir, file);
  rmSync(p, { force: true });
  if (kind === 'dir') mkdirSync(p);
  else if (kind === 'devzero') symlinkSync('/dev/zero', p);
  else if (kind === 'fifo') execFileSync('mkfifo', [p]);
  else if (kind === 'empty') writeFileSync(p, '');
};

// --- config.json --------------------------------------------------------------------------------

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const editConfig = (edit: (c: Json) => void) => (dir: string) => {
  const c = JSON.parse(readFileSync(join(dir, CONFIG), 'utf8'));
  edit(c);
  writeFileSync(join(dir, CONFIG), JSON.stringify(c));
};
const editModel = (edit: (m: Json) => void) => editConfig((c) => edit(c.config.model));

const editVocab = (edit: (v: Json) => void) => (dir: string) => {
  const v = JSON.parse(readFileSync(join(dir, SRC_VOCAB), 'utf8'));
  edit(v);
  writeFileSync(join(dir, SRC_VOCAB), JSON.stringify(v));
};

let deep = '1';
for (let i = 0; i < 100_000; i++) deep = `[${deep}]`;

export const CASES: CorpusCase[] = [
  // The weights file: framing
  { name: 'weights: empty file', damage: replaceWith(WEIGHTS, 'empty') },
  { name: 'weights: shorter than the 8-byte prefix', damage: (d) => writeFileSync(join(d, WEIGHTS), Buffer.from([1, 2, 3, 4, 5])) },
  { name: 'weights: truncated data', damage: (d) => truncateSync(join(d, WEIGHTS), readFileSync(join(d, WEIGHTS)).length - 100) },
  { name: 'weights: trailing bytes', damage: (d) => appendFileSync(join(d, WEIGHTS), Buffer.alloc(12)) },
  { name: 'weights: header length past the end of the file', damage: (d) => { const { header, data } = readParts(d); writeRaw(d, JSON.stringify(header), data, 10n ** 7n); } },
  { name: 'weights: header length of 2^40 (oversized header)', damage: (d) => { const { header, data } = readParts(d); writeRaw(d, JSON.stringify(header), data, 2n ** 40n); } },
  { name: 'weights: header not UTF-8', damage: (d) => { const { data } = readParts(d); const len = Buffer.alloc(8); len.writeBigUInt64LE(4n); writeFileSync(join(d, WEIGHTS), Buffer.concat([len, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), data])); } },
  { name: 'weights: header is bad JSON', damage: (d) => { const { header, data } = readParts(d); writeRaw(d, JSON.stringify(header).slice(0, -5), data); } },
  { name: 'weights: header is a JSON array', damage: (d) => writeRaw(d, '[1, 2, 3]', Buffer.alloc(0)) },
  { name: 'weights: header nested 100k deep', damage: (d) => writeRaw(d, `{"w": ${deep}}`, Buffer.alloc(0)) },
  { name: 'weights: no tensors at all', damage: (d) => writeRaw(d, '{}', Buffer.alloc(0)) },
  // The weights file: entries
  { name: 'weights: unknown dtype', damage: editHeader((h, n) => { h[n[0]].dtype = 'F8_E4M3'; }) },
  { name: "weights: dtype named 'constructor'", damage: editHeader((h, n) => { h[n[0]].dtype = 'constructor'; }) },
  // F16/BF16 weights load (widened: weight-only storage); one holding Infinity must not, nor int8 values for a float weight.
  { name: 'weights: F16 tensor holding Infinity', damage: editTensors((t, n) => { const x = t[n[0]]; const v = Float32Array.from(x.data as Float32Array); v[0] = 1e6; t[n[0]] = { dtype: 'F16', shape: x.shape, data: float32ToFloat16(v) }; }) },
  { name: 'weights: I8 tensor for a float weight', damage: editTensors((t, n) => { const x = t[n[0]]; t[n[0]] = { dtype: 'I8', shape: x.shape, data: Int8Array.from(x.data as Float32Array, (v) => Math.round(v * 100)) }; }) },
  { name: 'weights: I32 tensor (heed needs F32)', damage: editTensors((t, n) => { const x = t[n[0]]; t[n[0]] = { dtype: 'I32', shape: x.shape, data: Int32Array.from(x.data as Float32Array) }; }) },
  { name: 'weights: shape does not match its bytes', damage: editHeader((h, n) => { h[n[0]].shape = [7, 7, 7]; }) },
  { name: 'weights: negative dim', damage: editHeader((h, n) => { h[n[0]].shape = [-1]; }) },
  { name: 'weights: fractional dim', damage: editHeader((h, n) => { h[n[0]].shape = [2.5]; }) },
  { name: 'weights: 200k-entry shape', damage: editHeader((h, n) => { h[n[0]].shape = new Array(200_000).fill(1); }) },
  { name: 'weights: overlapping offsets', damage: editHeader((h, n) => { const [a, b] = h[n[1]].data_offsets as number[]; h[n[1]].data_offsets = [a - 4, b - 4]; }) },
  { name: 'weights: offsets out of range', damage: editHeader((h, n) => { const last = n[n.length - 1]; const [a, b] = h[last].data_offsets as number[]; h[last].data_offsets = [a + 1e9, b + 1e9]; }) },
  { name: 'weights: offsets reversed', damage: editHeader((h, n) => { const [a, b] = h[n[0]].data_offsets as number[]; h[n[0]].data_offsets = [b, a]; }) },
  { name: 'weights: duplicate tensor name', damage: (d) => { const { header, data } = readParts(d); const text = JSON.stringify(header); const name = Object.keys(header).find((k) => k !== '__metadata__') as string; writeRaw(d, `${text.slice(0, -1)}, ${JSON.stringify(name)}: ${JSON.stringify(header[name])}}`, data); } },
  { name: "weights: extra tensor named '__proto__'", damage: (d) => { const { header, data } = readParts(d); const end = data.length; writeRaw(d, `${JSON.stringify(header).slice(0, -1)}, "__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [${end}, ${end + 4}]}}`, Buffer.concat([data, Buffer.alloc(4)])); } },
  { name: "weights: a tensor renamed 'constructor'", damage: editTensors((t, n) => { t['constructor'] = t[n[0]]; delete t[n[0]]; }) },
  { name: 'weights: a tensor missing', damage: editTensors((t, n) => { delete t[n[0]]; }) },
  { name: 'weights: an unexpected extra tensor', damage: editTensors((t) => { t['decoder.extra.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) }; }) },
  { name: 'weights: a matrix transposed (wrong shape for the model)', damage: editTensors((t) => { const k = matrixOf(t); t[k] = { ...t[k], shape: [...t[k].shape].reverse() }; }) },
  { name: 'weights: a NaN', damage: editTensors((t) => { (t[matrixOf(t)].data as Float32Array)[3] = NaN; }) },
  { name: 'weights: an Infinity', damage: editTensors((t) => { (t[matrixOf(t)].data as Float32Array)[0] = -Infinity; }) },
  // The weights file: not a regular file
  { name: 'weights: missing', damage: replaceWith(WEIGHTS, 'missing') },
  { name: 'weights: a directory', damage: replaceWith(WEIGHTS, 'dir') },
  { name: 'weights: symlink to /dev/zero', damage: replaceWith(WEIGHTS, 'devzero') },
  { name: 'weights: a FIFO', damage: replaceWith(WEIGHTS, 'fifo') },
  // config.json
  { name: 'config: bad JSON', damage: (d) => writeFileSync(join(d, CONFIG), '{"format": "heed.model", "version": 1, "task"') },
  { name: 'config: missing', damage: replaceWith(CONFIG, 'missing') },
  { name: 'config: a directory', damage: replaceWith(CONFIG, 'dir') },
  { name: 'config: symlink to /dev/zero', damage: replaceWith(CONFIG, 'devzero') },
  { name: 'config: a FIFO', damage: replaceWith(CONFIG, 'fifo') },
  { name: 'config: 5 MB', damage: (d) => writeFileSync(join(d, CONFIG), readFileSync(join(d, CONFIG), 'utf8').replace('{', `{${' '.repeat(5 << 20)}`)) },
  { name: 'config: duplicate key', damage: (d) => writeFileSync(join(d, CONFIG), readFileSync(join(d, CONFIG), 'utf8').replace('{', '{"task": "g2p",')) },
  { name: 'config: wrong format', damage: editConfig((c) => { c.format = 'other'; }) },
  { name: 'config: newer version', damage: editConfig((c) => { c.version = 2; }) },
  { name: 'config: unknown task', damage: editConfig((c) => { c.task = 'nope'; }) },
  { name: "config: task 'constructor'", damage: editConfig((c) => { c.task = 'constructor'; }) },
  { name: "config: task 'toString'", damage: editConfig((c) => { c.task = 'toString'; }) },
  { name: "config: task '__proto__'", damage: (d) => writeFileSync(join(d, CONFIG), readFileSync(join(d, CONFIG), 'utf8').replace('"task": "g2p"', '"task": "__proto__"')) },
  { name: 'config: wrong task (digits)', damage: editConfig((c) => { c.task = 'digits'; }) },
  { name: 'config: config.model missing', damage: editConfig((c) => { delete c.config.model; }) },
  { name: 'config: numEncoderLayers 1e6', damage: editModel((m) => { m.numEncoderLayers = 1e6; }) },
  { name: 'config: dModel 1e9', damage: editModel((m) => { m.dModel = 1e9; m.numHeads = 1; }) },
  { name: 'config: dimFeedforward 1e7', damage: editModel((m) => { m.dimFeedforward = 1e7; }) },
  { name: 'config: maxLen 1e9', damage: editModel((m) => { m.maxLen = 1e9; }) },
  { name: 'config: negative dModel', damage: editModel((m) => { m.dModel = -16; }) },
  { name: 'config: fractional dModel', damage: editModel((m) => { m.dModel = 16.5; }) },
  { name: "config: model key 'constructor'", damage: editModel((m) => { m.constructor = 1; }) },
  { name: 'config: model value a 200k-entry array', damage: editModel((m) => { m.dModel = new Array(200_000).fill(16); }) },
  { name: 'config: model value nested 100k deep', damage: (d) => writeFileSync(join(d, CONFIG), readFileSync(join(d, CONFIG), 'utf8').replace(/("model": \{\s*"dModel": )16/, `$1${deep}`)) },
  { name: 'config: a file name escaping the directory', damage: editConfig((c) => { c.files.srcVocab = '../../etc/passwd'; }) },
  { name: 'config: a vocabulary role missing', damage: editConfig((c) => { delete c.files.srcVocab; }) },
  // Vocabularies
  { name: 'vocab: missing', damage: replaceWith(SRC_VOCAB, 'missing') },
  { name: 'vocab: a directory', damage: replaceWith(SRC_VOCAB, 'dir') },
  { name: 'vocab: symlink to /dev/zero', damage: replaceWith(SRC_VOCAB, 'devzero') },
  { name: 'vocab: a FIFO', damage: replaceWith(SRC_VOCAB, 'fifo') },
  { name: 'vocab: bad JSON', damage: (d) => writeFileSync(join(d, SRC_VOCAB), '{"format": "heed.vocab", "tok') },
  { name: 'vocab: tokens not strings', damage: editVocab((v) => { v.tokens[5] = 5; }) },
  { name: 'vocab: duplicate token', damage: editVocab((v) => { v.tokens[5] = v.tokens[4]; }) },
  { name: 'vocab: a token removed (size differs from the model)', damage: editVocab((v) => { v.tokens.pop(); }) },
  { name: 'vocab: wrong format', damage: editVocab((v) => { v.format = 'other'; }) },
  { name: 'vocab: 1M-entry tokens list of numbers', damage: editVocab((v) => { v.tokens = new Array(1_000_000).fill(0); }) },
  // The directory
  { name: 'directory: missing', damage: (d) => rmSync(d, { recursive: true }) },
  { name: 'directory: a file', damage: (d) => { rmSync(d, { recursive: true }); writeFileSync(d, 'x'); } },
  { name: 'directory: empty', damage: (d) => { rmSync(d, { recursive: true }); mkdirSync(d); } },
];

/** The cases `heed serve` start-up is tried on (each starts a server process, so fewer). */
export const SERVE_CASES = [
  'weights: a NaN', 'weights: symlink to /dev/zero', 'config: a FIFO', 'config: numEncoderLayers 1e6',
  "config: task 'constructor'", 'vocab: missing', 'weights: duplicate tensor name',
];

/** Makes one damaged copy of `base` per case under `root`; returns case name → directory. */
export function buildCorpus(base: string, root: string): Map<string, string> {
  const dirs = new Map<string, string>();
  CASES.forEach((c, i) => {
    const dir = join(root, `case-${String(i).padStart(2, '0')}`);
    cpSync(base, dir, { recursive: true });
    rmSync(join(dir, 'last'), { recursive: true, force: true });
    c.damage(dir);
    dirs.set(c.name, dir);
  });
  return dirs;
}
