/**
 * The IDX file format of MNIST and Fashion-MNIST (LeCun et al.), gzipped or not:
 *
 *   bytes 0-1   0x00 0x00
 *   byte  2     element type: 0x08 unsigned byte (the only one these datasets use)
 *   byte  3     number of dims n
 *   4·n bytes   each dim's size, big-endian uint32
 *   then        prod(dims) elements, row-major
 *
 * A file that is not IDX (wrong magic, an element type other than ubyte, zero dims), or whose
 * payload is shorter or longer than its dims say, is a ValueError naming the file and what was
 * found, never a silent partial read.
 */
import { gunzipSync } from 'node:zlib';
import { ValueError } from '../errors.js';
import { readRegularFileSync } from '../io/read-file.js';

export interface IdxArray {
  /** Sizes of each dim, as the header lists them. */
  shape: number[];
  /** The elements, row-major. */
  data: Uint8Array;
}

/** Largest decompressed IDX file read (Fashion-MNIST's training images are 47 MB). */
const MAX_BYTES = 512 * 1024 * 1024;

/** Parses IDX bytes (already decompressed). `source` names the file in errors. */
export function parseIdx(bytes: Uint8Array, source = '<bytes>'): IdxArray {
  const fail = (what: string): never => {
    throw new ValueError(`${source}: not a valid IDX file: ${what}. Fix: use the original MNIST/Fashion-MNIST files (e.g. Debian's dataset-fashion-mnist), re-downloaded if truncated.`);
  };
  if (bytes.length < 4) fail(`it has ${bytes.length} bytes, fewer than the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(`magic number starts 0x${hex(bytes[0])} 0x${hex(bytes[1])}, expected 0x00 0x00`);
  if (bytes[2] !== 0x08) fail(`element type 0x${hex(bytes[2])}, expected 0x08 (unsigned byte)`);
  const nd = bytes[3];
  if (nd === 0) fail('it declares 0 dims');
  const headerLen = 4 + 4 * nd;
  if (bytes.length < headerLen) fail(`its header needs ${headerLen} bytes for ${nd} dims, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: nd }, (_, d) => view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const payload = bytes.length - headerLen;
  if (payload !== count) {
    fail(`dims ${shape.join('×')} need ${count} bytes of data, the file has ${payload}${payload < count ? ' (truncated)' : ' (trailing bytes)'}`);
  }
  return { shape, data: bytes.subarray(headerLen) };
}

/** Reads an IDX file; a name ending in .gz is gunzipped first. */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    // a regular file within the limit: not a FIFO or device, which would block or never end
    bytes = readRegularFileSync(path, { what: 'IDX file', maxBytes: MAX_BYTES });
    if (path.endsWith('.gz')) bytes = gunzipSync(bytes, { maxOutputLength: MAX_BYTES });
  } catch (err) {
    throw new ValueError(`${path}: cannot read IDX file: ${(err as Error).message}. Fix: check the path, or reinstall the dataset (apt-get install dataset-fashion-mnist).`);
  }
  return parseIdx(bytes, path);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
