import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CheckpointError, DTypeError, ShapeError, ValueError } from '../../src/errors.js';
import { float32ToBFloat16, float32ToFloat16, float16BitsToNumber, numberToFloat16Bits } from '../../src/io/float16.js';
import {
  type RawTensor,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  toFloat32,
  toInt32,
  writeSafetensors,
} from '../../src/io/safetensors.js';

const FIXTURE = 'test/fixtures/safetensors/torch_written';

/** Builds a file from a header (object or raw string), data bytes and an optional forced length. */
function build(header: object | string | Uint8Array, data: Uint8Array | number, lengthOverride?: bigint): Uint8Array {
  const json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => parseSafetensors(bytes, 'corrupt.safetensors'), (err: unknown) => {
    assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${String(err)}`);
    assert.match(err.message, /^parseSafetensors: corrupt\.safetensors: /);
    assert.match(err.message, pattern);
    return true;
  });
}

const sample = (): Record<string, RawTensor> => ({
  'b.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, -6.5]) },
  'a.ids': { dtype: 'I32', shape: [3], data: new Int32Array([7, -8, 9]) },
  'c.q': { dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
  'd.mask': { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
  'e.scalar': { dtype: 'F64', shape: [], data: new Float64Array([3.25]) },
  'f.big': { dtype: 'I64', shape: [2], data: new BigInt64Array([5n, -6n]) },
  'g.half': { dtype: 'F16', shape: [2], data: float32ToFloat16([1.5, -2]) },
  'h.empty': { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
});

describe('safetensors round trip', () => {
  it('serialize then parse returns the same tensors and metadata', () => {
    const bytes = serializeSafetensors(sample(), { format: 'pt', note: 'héllo' });
    const { tensors, metadata } = parseSafetensors(bytes);
    assert.deepEqual({ ...metadata }, { format: 'pt', note: 'héllo' });
    assert.deepEqual({ ...tensors }, sample());
  });

  it('pads the header with spaces to a multiple of 8 and aligns every tensor to its element size', () => {
    const bytes = serializeSafetensors(sample());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    assert.match(new TextDecoder().decode(bytes.subarray(8, 8 + n)), /^\{.*\} *$/);
    for (const [name, e] of Object.entries<{ dtype: string; data_offsets: number[] }>(header)) {
      const size = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, I8: 1, BOOL: 1 }[e.dtype]!;
      assert.equal(e.data_offsets[0] % size, 0, `${name} misaligned`);
    }
  });

  it('orders entries like the reference writer: widest dtype first, then by name', () => {
    const bytes = serializeSafetensors(sample());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const names = Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))));
    assert.deepEqual(names, ['f.big', 'e.scalar', 'b.weight', 'h.empty', 'a.ids', 'g.half', 'c.q', 'd.mask']);
  });

  it('writeSafetensors writes atomically and leaves no temporary file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'heed-st-'));
    try {
      const path = join(dir, 'model.safetensors');
      await writeSafetensors(path, sample(), { step: '3' });
      await writeSafetensors(path, sample(), { step: '4' }); // overwrite
      assert.deepEqual(await readdir(dir), ['model.safetensors']);
      const back = await readSafetensors(path);
      assert.deepEqual({ ...back.metadata }, { step: '4' });
      assert.deepEqual({ ...back.tensors }, sample());
      // A failed serialization must not touch the existing file.
      await assert.rejects(writeSafetensors(path, { bad: { dtype: 'F32', shape: [2], data: new Float32Array(3) } }), ShapeError);
      assert.deepEqual(await readdir(dir), ['model.safetensors']);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('readSafetensors reports a missing file as CheckpointError naming the path', async () => {
    await assert.rejects(readSafetensors('/nonexistent/x.safetensors'), (err: unknown) => err instanceof CheckpointError && /\/nonexistent\/x\.safetensors/.test(err.message));
  });
});

describe('safetensors write validation', () => {
  it('rejects data whose typed array does not match the dtype', () => {
    assert.throws(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Int32Array(2) } }), DTypeError);
  });
  it('rejects data whose length does not match the shape', () => {
    assert.throws(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }), /shape \[2, 2\] has 4 elements but data has 3/);
  });
  it('rejects the reserved name and non-string metadata', () => {
    assert.throws(() => serializeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }), ValueError);
    assert.throws(() => serializeSafetensors({}, { step: 3 as unknown as string }), /metadata\['step'\] must be a string/);
  });
});

describe('safetensors corruption is rejected with CheckpointError', () => {
  const good = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('accepts the well-formed baseline', () => {
    assert.deepEqual(parseSafetensors(build(good, 8)).tensors.w.shape, [2]);
  });
  it('file shorter than the 8-byte prefix', () => rejects(new Uint8Array(5), /5 bytes, shorter than the 8-byte/));
  it('truncated file (data cut short)', () => {
    const full = serializeSafetensors(sample());
    rejects(full.subarray(0, full.length - 3), /truncated/);
  });
  it('header length larger than the file', () => rejects(build(good, 8, 10_000n), /header length is 10000 bytes but only \d+ bytes follow/));
  it('header length above 100 MB', () => rejects(build(good, 8, 2n ** 40n), /above the 100000000-byte limit/));
  it('header that is not UTF-8', () => rejects(build(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 0), /header is not valid UTF-8/));
  it('header that is not JSON', () => rejects(build('{"w": {dtype', 0), /not valid JSON/));
  it('header that is a JSON array', () => rejects(build('[1, 2]', 0), /must start with '\{'/));
  it('unknown dtype', () => rejects(build({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, 2), /unknown or unsupported dtype "F8_E4M3"; expected one of/));
  it('missing or extra entry keys', () => {
    rejects(build({ w: { dtype: 'F32', shape: [2] } }, 8), /data_offsets must be \[begin, end\]/);
    rejects(build({ w: { ...good.w, strides: [1] } }, 8), /unexpected key\(s\) strides/);
  });
  it('negative or fractional shape', () => {
    rejects(build({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), /shape must be an array of non-negative integers/);
    rejects(build({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, 8), /non-negative integers/);
  });
  it('shape that does not match the offsets', () => rejects(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /needs 3 × 4 = 12 bytes, but data_offsets \[0, 8\] span 8/));
  it('reversed offsets', () => rejects(build({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, 8), /reversed/));
  it('overlapping offsets', () =>
    rejects(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /tensor 'b' data_offsets \[4, 12\] overlap tensor 'a'/));
  it('a gap between tensors', () =>
    rejects(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12), /gap in the data buffer: bytes \[4, 8\)/));
  it('data not starting at offset 0', () => rejects(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /gap.*\[0, 4\).*start of data/));
  it('trailing garbage after the last tensor', () => rejects(build(good, 12), /4 trailing bytes after the last tensor/));
  it('malformed __metadata__', () => {
    rejects(build({ __metadata__: { step: 3 }, ...good }, 8), /__metadata__\['step'\] must be a string/);
    rejects(build({ __metadata__: [1], ...good }, 8), /__metadata__ must be an object/);
  });
  it('accepts header keys in any order (the spec does not order them)', () => {
    const bytes = build({ b: { dtype: 'U8', shape: [1], data_offsets: [1, 2] }, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array([10, 20]));
    const { tensors } = parseSafetensors(bytes);
    assert.deepEqual([tensors.a.data[0], tensors.b.data[0]], [10, 20]);
  });
});

describe('safetensors names and error messages from hostile headers', () => {
  it('a tensor name repeated in the header is rejected (JSON.parse would keep only the last)', () => {
    const header = '{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}';
    rejects(build(header, 8), /holds the key 'w' twice/);
  });
  it("tensors named '__proto__' and 'constructor' are ordinary entries, and absent names are undefined", () => {
    const header = '{"__proto__": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "constructor": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}';
    const { tensors, metadata } = parseSafetensors(build(header, new Uint8Array([5, 6])));
    assert.deepEqual(Object.keys(tensors).sort(), ['__proto__', 'constructor']);
    assert.equal(tensors['__proto__'].data[0], 5);
    assert.equal(tensors['constructor'].data[0], 6);
    assert.equal(tensors['toString'], undefined);
    assert.equal(metadata['constructor'], undefined);
    // and they survive a write → read round trip
    const again = parseSafetensors(serializeSafetensors(tensors));
    assert.deepEqual(Object.keys(again.tensors).sort(), ['__proto__', 'constructor']);
  });
  it("a dtype named 'constructor' is an unknown dtype, not a crash", () => {
    rejects(build({ w: { dtype: 'constructor', shape: [1], data_offsets: [0, 4] } }, 4), /unknown or unsupported dtype "constructor"/);
    assert.throws(() => serializeSafetensors({ w: { dtype: 'constructor' as 'F32', shape: [1], data: new Float32Array(1) } }), DTypeError);
  });
  it('error messages quote at most a few dozen characters of a 200k-entry shape, a long name or a deep value', () => {
    const shape = new Array(200_000).fill(1);
    const short = (bytes: Uint8Array) => {
      assert.throws(() => parseSafetensors(bytes, 'corrupt.safetensors'), (err: unknown) => err instanceof CheckpointError && err.message.length < 400);
    };
    short(build({ w: { dtype: 'F32', shape, data_offsets: [0, 8] } }, 8));
    short(build({ w: { dtype: 'F32', shape: [...shape, -1], data_offsets: [0, 8] } }, 8));
    short(build({ ['n'.repeat(100_000)]: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8));
    const deep = '{"w": ' + '['.repeat(50_000) + ']'.repeat(50_000) + '}';
    short(build(deep, 0));
    short(build('{"__metadata__": {"k": ' + '['.repeat(50_000) + ']'.repeat(50_000) + '}}', 0));
  });
});

describe('safetensors dtype conversions', () => {
  it('F16 and BF16 widen to float32 exactly for representable values', () => {
    assert.deepEqual(toFloat32({ dtype: 'F16', shape: [3], data: float32ToFloat16([1.5, -2, 65504]) }), new Float32Array([1.5, -2, 65504]));
    assert.deepEqual(toFloat32({ dtype: 'BF16', shape: [2], data: float32ToBFloat16([1, -3.140625]) }), new Float32Array([1, -3.140625]));
  });
  it('float16 narrowing rounds to nearest even, handles subnormals, overflow and NaN', () => {
    assert.equal(float16BitsToNumber(numberToFloat16Bits(1 + 2 ** -11)), 1); // tie -> even
    assert.equal(float16BitsToNumber(numberToFloat16Bits(1 + 3 * 2 ** -11)), 1 + 2 ** -9); // tie -> even (up)
    assert.equal(float16BitsToNumber(numberToFloat16Bits(2 ** -24)), 2 ** -24); // smallest subnormal
    assert.equal(float16BitsToNumber(numberToFloat16Bits(1e6)), Infinity);
    assert.ok(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(NaN))));
  });
  it('I64 narrows to int32 and out-of-range values throw CheckpointError naming the tensor', () => {
    assert.deepEqual(toInt32({ dtype: 'I64', shape: [2], data: new BigInt64Array([2147483647n, -2147483648n]) }), new Int32Array([2147483647, -2147483648]));
    assert.throws(() => toInt32({ dtype: 'I64', shape: [1], data: new BigInt64Array([2n ** 40n]) }, 'token_ids'), /toInt32: tensor 'token_ids' \(I64\) holds 1099511627776 at flat index 0, outside the int32 range/);
    assert.throws(() => toInt32({ dtype: 'F32', shape: [1], data: new Float32Array(1) }), DTypeError);
  });
});

describe('safetensors interop with PyTorch', () => {
  it('reads the PyTorch-written fixture with the expected dtypes, shapes and values', async () => {
    const expected = JSON.parse(await readFile(`${FIXTURE}.json`, 'utf8'));
    const { tensors, metadata } = await readSafetensors(`${FIXTURE}.safetensors`);
    assert.deepEqual({ ...metadata }, expected.metadata);
    assert.deepEqual(Object.keys(tensors).sort(), Object.keys(expected.tensors).sort());
    for (const [name, e] of Object.entries<{ dtype: string; shape: number[]; values: number[] }>(expected.tensors)) {
      const t = tensors[name];
      assert.equal(t.dtype, e.dtype, name);
      assert.deepEqual(t.shape, e.shape, name);
      const got = ['F16', 'BF16', 'F32', 'F64'].includes(t.dtype) ? Array.from(toFloat32(t)) : Array.from(t.data, Number);
      assert.deepEqual(got, e.values.map((v) => (['F16', 'BF16', 'F32'].includes(t.dtype) ? Math.fround(v) : v)), name);
    }
    assert.throws(() => toInt32(tensors.big_ids, 'big_ids'), CheckpointError);
  });

  it('re-serializes the PyTorch-written fixture byte for byte (same layout as the reference writer)', async () => {
    const bytes = await readFile(`${FIXTURE}.safetensors`);
    const { tensors, metadata } = parseSafetensors(bytes);
    assert.deepEqual(serializeSafetensors(tensors, metadata), new Uint8Array(bytes));
  });
});
