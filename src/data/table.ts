/**
 * Tables from a user's files: CSV (RFC 4180, quoted fields may hold newlines; parsed by csv-parse's
 * streaming API), TSV (tab-separated, no quoting: a tab or newline cannot occur inside a field) and
 * JSONL (one JSON object per line). The format comes from the file name (.csv, .tsv/.tab,
 * .jsonl/.ndjson, each optionally .gz) unless given.
 *
 * Rows stream one at a time with the line they start on, so files larger than memory work. Every
 * problem is a DataError `file:line:column: …`: a required column missing (column = where the
 * header ends, or for JSONL 1), a row with a different number of fields than the header, a broken
 * quote, invalid JSON (column of the parse error), non-UTF-8 bytes, an empty file.
 *
 *   for await (const row of readTable('reviews.csv', { required: ['text', 'label'] })) row.values.text
 */
import { Readable, pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import { DataError, ValueError } from '../errors.js';
import { readLines, readTextChunks, type ReadTextOptions } from './text-stream.js';

export type TableFormat = 'csv' | 'tsv' | 'jsonl';
export const TABLE_FORMATS: readonly TableFormat[] = ['csv', 'tsv', 'jsonl'];

export interface TableOptions extends ReadTextOptions {
  /** Default: from the file name. */
  format?: TableFormat;
  /** Columns every row must have. */
  required?: readonly string[];
}

export interface TableRow {
  /** Column → value: strings for CSV/TSV, any JSON value for JSONL. */
  values: Record<string, unknown>;
  /** Line (1-based) the row starts on. */
  line: number;
}

/** The table format a file name implies; a ValueError listing the known extensions otherwise. */
export function tableFormatOf(path: string): TableFormat {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  throw new ValueError(`${path}: cannot tell the table format from the file name; expected .csv, .tsv, .tab, .jsonl or .ndjson (optionally .gz). Fix: rename the file or pass the format.`);
}

/** Streams the rows of a CSV, TSV or JSONL file (see the file header for the errors). */
export async function* readTable(path: string, options: TableOptions = {}): AsyncGenerator<TableRow> {
  const format = options.format ?? tableFormatOf(path);
  if (format === 'jsonl') yield* readJsonl(path, options);
  else yield* readDelimited(path, format === 'tsv' ? '\t' : ',', options);
}

function checkHeader(path: string, header: string[], required: readonly string[]): void {
  const seen = new Set<string>();
  header.forEach((h, i) => {
    if (seen.has(h)) throw new DataError(path, 1, i + 1, `the header names column '${h}' twice; column names must be unique.`);
    seen.add(h);
  });
  for (const r of required) {
    if (!seen.has(r)) {
      const width = header.join(',').length + 1;
      throw new DataError(path, 1, width, `missing column '${r}'; the header has ${header.map((h) => `'${h}'`).join(', ')}. Fix: pass the right --text-column / --label-column, or add the column.`);
    }
  }
}

interface CsvErrorLike extends Error {
  code?: string;
  lines?: number;
  column?: number;
  record?: string[];
}

async function* readDelimited(path: string, delimiter: string, options: TableOptions): AsyncGenerator<TableRow> {
  const parser = parse({
    delimiter, bom: true, info: true, skip_empty_lines: true,
    // TSV has no quoting: a '"' inside a TSV field is text.
    quote: delimiter === '\t' ? null : '"',
  });
  pipeline(Readable.from(readTextChunks(path, options)), parser, () => undefined);
  let header: string[] | null = null;
  let nextLine = 1;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = nextLine;
      nextLine = rec.info.lines + 1;
      if (header === null) {
        header = rec.record.map((h) => h.trim());
        checkHeader(path, header, options.required ?? []);
        continue;
      }
      const values: Record<string, unknown> = {};
      header.forEach((h, i) => (values[h] = rec.record[i]));
      yield { values, line };
    }
  } catch (err) {
    const e = err as CsvErrorLike;
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      // A row longer than the header: point at its first extra field (exact for unquoted fields).
      const column = e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && Array.isArray(e.record) && header !== null && e.record.length > header.length
        ? e.record.slice(0, header.length).join(delimiter).length + 2 : (e.column ?? 0) + 1;
      throw new DataError(path, e.lines ?? nextLine, column, `${delimiter === '\t' ? 'TSV' : 'CSV'}: ${e.message.replace(/\s+/g, ' ')}. Fix: quote fields that hold commas, quotes or newlines ("a ""b"" c").`);
    }
    throw err;
  } finally {
    parser.destroy();
  }
  if (header === null) throw new DataError(path, 1, 1, 'the file holds no header row (only empty lines); expected a header naming the columns.');
}

/**
 * The 1-based column of a JSON.parse error: its "position N" when the message has one; else the
 * first occurrence, outside string literals, of the "Unexpected token 'x'"; else the line's end.
 */
function jsonErrorColumn(text: string, message: string): number {
  const at = /position (\d+)/.exec(message);
  if (at) return Number(at[1]) + 1;
  const token = /Unexpected token '(.)'/.exec(message)?.[1];
  if (token === undefined) return text.length + 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === token) return i + 1;
    else if (ch === '"') inString = true;
  }
  return text.length + 1;
}

async function* readJsonl(path: string, options: TableOptions): AsyncGenerator<TableRow> {
  let rows = 0;
  for await (const { text, line } of readLines(path, options)) {
    if (text.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      const msg = (err as Error).message;
      throw new DataError(path, line, jsonErrorColumn(text, msg), `invalid JSON (${msg.replace(/\s+/g, ' ').slice(0, 120)}); expected one JSON object per line.`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new DataError(path, line, 1, `expected a JSON object per line ({"text": …, "label": …}), received ${Array.isArray(v) ? 'an array' : String(v === null ? 'null' : typeof v)}.`);
    }
    const values = v as Record<string, unknown>;
    for (const r of options.required ?? []) {
      if (!Object.hasOwn(values, r)) {
        throw new DataError(path, line, 1, `missing column '${r}'; this object has keys ${Object.keys(values).map((k) => `'${k}'`).join(', ') || '(none)'}.`);
      }
    }
    rows++;
    yield { values, line };
  }
  if (rows === 0) throw new DataError(path, 1, 1, 'the file holds only empty lines; expected one JSON object per line.');
}
