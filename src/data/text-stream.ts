/**
 * Streaming reads of a user's text data file (CSV, TSV, JSONL, CoNLL), gzip'ed or not, so a file
 * larger than memory is never held whole: `readTextChunks` yields decoded UTF-8 text as it arrives,
 * `readLines` yields numbered lines. Bytes that are not UTF-8 are a DataError naming the file, line
 * and column (byte offset within the line, 1-based); an empty file is a DataError too.
 *
 * Progress: with `progress` set, a bar of bytes read (of the file on disk, compressed or not) is
 * drawn on stderr when it is a terminal, and a line per quarter otherwise for files ≥ 64 MiB.
 *
 *   for await (const { text, line } of readLines('train.conll.gz')) ...
 */
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DataError, ValueError } from '../errors.js';

export interface ReadTextOptions {
  /** Label of the progress bar ('reading train.csv'); no bar when absent. */
  progress?: string;
  /** Where the bar is drawn; default process.stderr. */
  progressStream?: NodeJS.WriteStream;
}

/** Files at least this large print plain progress lines when stderr is not a terminal. */
const PLAIN_PROGRESS_BYTES = 64 * 2 ** 20;

/** Size in bytes of a regular file; a ValueError naming the path when it is missing or not a file. */
export function dataFileSize(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new ValueError(`${path}: cannot read the data file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Fix: check the path.`);
  }
  if (!st.isFile()) throw new ValueError(`${path}: is not a regular file. Fix: pass the path of a data file.`);
  return st.size;
}

/**
 * Length of the longest prefix of `bytes` that is valid UTF-8 (a sequence cut off at the end is
 * not counted: it may complete in the next chunk). Used only to place an error.
 */
function validUtf8Prefix(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0) return i;
    for (let k = 1; k < n; k++) {
      if (i + k >= bytes.length) return i;
      if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    i += n;
  }
  return i;
}

class ByteProgress {
  private lastDraw = 0;
  private lastQuarter = 0;
  private readonly tty: boolean;
  constructor(private readonly label: string, private readonly total: number, private readonly out: NodeJS.WriteStream) {
    this.tty = Boolean(out.isTTY);
  }

  update(read: number): void {
    const frac = this.total > 0 ? Math.min(1, read / this.total) : 1;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && frac < 1) return;
      this.lastDraw = now;
      const w = 20, full = Math.round(frac * w);
      this.out.write(`\r${this.label} [${'#'.repeat(full)}${'.'.repeat(w - full)}] ${mb(read)}/${mb(this.total)} MB\x1b[K`);
    } else if (this.total >= PLAIN_PROGRESS_BYTES && Math.floor(frac * 4) > this.lastQuarter) {
      this.lastQuarter = Math.floor(frac * 4);
      this.out.write(`${this.label}: ${mb(read)}/${mb(this.total)} MB\n`);
    }
  }

  end(): void {
    if (this.tty && this.lastDraw > 0) this.out.write('\n');
  }
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/**
 * Decoded UTF-8 text of a file, chunk by chunk (gunzipped when the name ends in .gz). A BOM is
 * dropped. Throws DataError for an empty file and for bytes that are not UTF-8.
 */
export async function* readTextChunks(path: string, options: ReadTextOptions = {}): AsyncGenerator<string> {
  const size = dataFileSize(path);
  const raw = createReadStream(path);
  const bar = options.progress ? new ByteProgress(options.progress, size, options.progressStream ?? process.stderr) : null;
  let readBytes = 0;
  raw.on('data', (c) => {
    readBytes += c.length;
    bar?.update(readBytes);
  });
  const source: AsyncIterable<Buffer> = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let line = 1;
  let column = 1; // bytes since the last newline, 1-based
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        // The bytes that finish a character begun in the previous chunk are continuation bytes.
        let skip = 0;
        while (skip < 3 && skip < chunk.length && (chunk[skip] & 0xc0) === 0x80) skip++;
        const ok = skip + validUtf8Prefix(chunk.subarray(skip));
        for (let i = 0; i < ok; i++) {
          if (chunk[i] === 0x0a) { line++; column = 1; } else column++;
        }
        throw new DataError(path, line, column, `byte 0x${chunk[Math.min(ok, chunk.length - 1)].toString(16).padStart(2, '0')} is not valid UTF-8; heed reads text data as UTF-8. Fix: convert the file (iconv -f latin1 -t utf-8).`);
      }
      // Keep the position in bytes, counting the last line's bytes since its newline.
      const lastNl = chunk.lastIndexOf(0x0a);
      if (lastNl < 0) column += chunk.length;
      else {
        for (let i = 0; i <= lastNl; i++) if (chunk[i] === 0x0a) line++;
        column = chunk.length - lastNl;
      }
      if (text !== '') yield text;
    }
    try {
      const rest = decoder.decode();
      if (rest !== '') yield rest;
    } catch {
      throw new DataError(path, line, column, 'the file ends inside a UTF-8 sequence (truncated or not UTF-8). Fix: convert the file to UTF-8.');
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'Z_DATA_ERROR' || (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') {
      throw new DataError(path, line, column, `the file ends in .gz but is not valid gzip data (${(err as Error).message}). Fix: decompress or rename it.`);
    }
    throw err;
  } finally {
    bar?.end();
    raw.destroy();
  }
  if (total === 0) throw new DataError(path, 1, 1, 'the file is empty; expected data. Fix: check the path or the export that wrote it.');
}

/** One line of a text file, without its line ending, numbered from 1. */
export interface NumberedLine {
  text: string;
  line: number;
}

/** The lines of a text file (\n or \r\n endings), streamed. Same errors as readTextChunks. */
export async function* readLines(path: string, options: ReadTextOptions = {}): AsyncGenerator<NumberedLine> {
  let pending = '';
  let line = 0;
  for await (const text of readTextChunks(path, options)) {
    pending += text;
    let nl: number;
    let start = 0;
    while ((nl = pending.indexOf('\n', start)) >= 0) {
      const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield { text: pending.slice(start, end), line: ++line };
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  if (pending !== '') yield { text: pending.endsWith('\r') ? pending.slice(0, -1) : pending, line: ++line };
}
