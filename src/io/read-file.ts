/**
 * Reading a whole file that came from outside (a checkpoint, a vocabulary, a config), safely.
 *
 * `fs.readFile` trusts the path: a symlink to /dev/zero grows a buffer until the process dies,
 * and a FIFO blocks forever on open. Every file heed reads whole goes through here instead:
 *
 *   1. open with O_NONBLOCK, so opening a FIFO returns at once instead of waiting for a writer;
 *   2. fstat the open descriptor (not the path, so a swap between check and read changes nothing):
 *      it must be a regular file, and its size at most `maxBytes`;
 *   3. read exactly that many bytes; a file that shrinks while being read is an error, and bytes
 *      appended meanwhile are not read.
 *
 * Every failure is a CheckpointError naming the file, what it is, and the limit.
 *
 *   const bytes = await readRegularFile('runs/g2p/model.safetensors', { what: 'weights file', maxBytes: FILE_LIMITS.weights });
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

import { CheckpointError } from '../errors.js';

const MiB = 1024 * 1024;

/**
 * Largest file heed reads whole, by kind. Each is far above what heed writes (a 60-minute G2P
 * model is ~10 MB of weights, its vocabularies a few KB) and far below what would hurt a server.
 */
export const FILE_LIMITS = Object.freeze({
  /** config.json: a task config and a file list (heed writes ~2 KB). */
  config: 4 * MiB,
  /** A vocabulary: one string per token (a 50k-word spam vocabulary is ~0.5 MB). */
  vocab: 64 * MiB,
  /** trainer_state.json: step, RNG and batch-iterator state (the permutation of every example). */
  trainerState: 256 * MiB,
  /** model.safetensors / optimizer.safetensors: 2 GiB, the largest single buffer Node reads in one call. */
  weights: 2048 * MiB,
});

export interface ReadFileOptions {
  /** What the file is, for error messages ("weights file", "vocabulary"). */
  what: string;
  /** Refuse files larger than this many bytes. */
  maxBytes: number;
}

/** Opening without O_NONBLOCK would block on a FIFO until some writer opens it. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws unless the fstat of the open file says: a regular file. */
function checkRegular(path: string, st: Stats, o: ReadFileOptions): void {
  if (!st.isFile()) {
    throw new CheckpointError(`${path}: the ${o.what} is ${kindOf(st)}, expected a regular file. Fix: point to the file itself (heed refuses what is not a regular file: devices, pipes and directories).`);
  }
}

/** Throws unless the fstat of the open file says: a regular file of at most maxBytes. Returns its size. */
function checkStat(path: string, st: Stats, o: ReadFileOptions): number {
  checkRegular(path, st, o);
  if (st.size > o.maxBytes) {
    throw new CheckpointError(`${path}: the ${o.what} is ${st.size} bytes, above the ${o.maxBytes}-byte limit for a ${o.what}. The file is corrupt or not a heed file.`);
  }
  return st.size;
}

function openError(path: string, o: ReadFileOptions, err: unknown): CheckpointError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new CheckpointError(`${path}: the ${o.what} is missing. Fix: restore the file or retrain the model.`);
  if (code === 'ELOOP') return new CheckpointError(`${path}: the ${o.what} is a symbolic link loop.`);
  return new CheckpointError(`${path}: cannot read the ${o.what} (${code ?? (err as Error).message}).`);
}

function shrunk(path: string, o: ReadFileOptions, got: number, size: number): CheckpointError {
  return new CheckpointError(`${path}: the ${o.what} shrank while being read (${got} of ${size} bytes). Fix: do not modify the model while it loads.`);
}

/** Opens `path` for reading (see the file header) and runs `body` on it; errors become CheckpointErrors. */
async function withOpenFile<T>(path: string, o: ReadFileOptions, body: (fh: FileHandle) => Promise<T>): Promise<T> {
  let fh;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw openError(path, o, err);
  }
  try {
    return await body(fh);
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw openError(path, o, err);
  } finally {
    await fh.close();
  }
}

/** Reads a whole regular file of at most `maxBytes` (see the file header). */
export async function readRegularFile(path: string, o: ReadFileOptions): Promise<Buffer> {
  return withOpenFile(path, o, async (fh) => {
    const size = checkStat(path, await fh.stat(), o);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fh.read(buf, got, size - got, got);
      if (bytesRead === 0) throw shrunk(path, o, got, size);
      got += bytesRead;
    }
    return buf;
  });
}

/**
 * The last `maxBytes` of a regular file (a log that grows without bound, such as metrics.jsonl),
 * read asynchronously with the same checks as readRegularFile except the size cap. `start` is the
 * offset of the first byte returned; 0 means the whole file.
 */
export async function readRegularFileTail(path: string, o: ReadFileOptions): Promise<{ bytes: Buffer; start: number }> {
  return withOpenFile(path, o, async (fh) => {
    const st = await fh.stat();
    checkRegular(path, st, o);
    const length = Math.min(st.size, o.maxBytes);
    const start = st.size - length;
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, start + got);
      if (bytesRead === 0) break; // the log was truncated meanwhile: return what was there
      got += bytesRead;
    }
    return { bytes: buf.subarray(0, got), start };
  });
}

/** Synchronous readRegularFile, for the small files read on synchronous paths (config.json, vocabularies). */
export function readRegularFileSync(path: string, o: ReadFileOptions): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    throw openError(path, o, err);
  }
  try {
    const size = checkStat(path, fstatSync(fd), o);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) throw shrunk(path, o, got, size);
      got += n;
    }
    return buf;
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw openError(path, o, err);
  } finally {
    closeSync(fd);
  }
}

/** readRegularFileSync decoded as UTF-8 text. */
export function readTextFileSync(path: string, o: ReadFileOptions): string {
  return readRegularFileSync(path, o).toString('utf8');
}
