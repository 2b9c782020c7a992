/**
 * The data-file readers on the bad inputs issue 13 lists: each is one DataError line
 * `file:line:column: …` naming where the problem is, and a CSV with quoted newlines parses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTable } from '../../src/data/table.ts';
import { readConll } from '../../src/data/conll.ts';
import { readLines } from '../../src/data/text-stream.ts';
import { DataLoader } from '../../src/data/data-loader.ts';
import { DataError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'heed-readers-'));
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
/** Asserts a DataError at file:line:column whose one-line message matches `re`. */
async function rejectsAt(p: Promise<unknown>, path: string, line: number, column: number, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected a DataError, received ${String(e)}`);
    assert.equal(e.file, path);
    assert.equal(e.line, line, e.message);
    assert.equal(e.column, column, e.message);
    assert.ok(e.message.startsWith(`${path}:${line}:${column}: `), e.message);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.match(e.message, re);
    return true;
  });
}

test('a CSV with quoted newlines, commas and quotes parses, each row with the line it starts on', async () => {
  const p = file('quoted.csv', 'text,label\n"first line\nsecond line",pos\n"a, ""quoted"" word",neg\nplain,pos\n');
  const rows = await collect(readTable(p, { required: ['text', 'label'] }));
  assert.deepEqual(rows.map((r) => r.values.text), ['first line\nsecond line', 'a, "quoted" word', 'plain']);
  assert.deepEqual(rows.map((r) => r.line), [2, 4, 5]);
});

test('TSV and gzip\'ed JSONL tables read the same rows', async () => {
  const tsv = await collect(readTable(file('t.tsv', 'text\tlabel\nsay "hi"\tpos\n'), { required: ['label'] }));
  assert.deepEqual(tsv[0].values, { text: 'say "hi"', label: 'pos' });
  const jl = await collect(readTable(file('t.jsonl.gz', gzipSync('{"text":"a","label":["x","y"]}\n\n{"text":"b","label":"z"}\n'))));
  assert.deepEqual(jl.map((r) => [r.values.label, r.line]), [[['x', 'y'], 1], ['z', 3]]);
});

test('a missing column names the header line and lists the columns there are', async () => {
  const p = file('nolabel.csv', 'text,score\nhello,1\n');
  await rejectsAt(collect(readTable(p, { required: ['text', 'label'] })), p, 1, 11, /missing column 'label'; the header has 'text', 'score'/);
  const j = file('nolabel.jsonl', '{"text":"a","label":"x"}\n{"text":"b"}\n');
  await rejectsAt(collect(readTable(j, { required: ['text', 'label'] })), j, 2, 1, /missing column 'label'; this object has keys 'text'/);
});

test('a CSV row with more fields than the header, and a broken quote, name their line', async () => {
  const p = file('extra.csv', 'text,label\na,b\nc,d,e\n');
  await rejectsAt(collect(readTable(p)), p, 3, 5, /CSV: Invalid Record Length: expect 2, got 3/);
  const q = file('quote.csv', 'text,label\n"abc"x,y\n');
  await assert.rejects(collect(readTable(q)), (e: unknown) => e instanceof DataError && e.line === 2 && /^.*quote\.csv:2:\d+: CSV: /.test(e.message));
});

test('invalid JSON in a JSONL line names the line and the column of the parse error', async () => {
  const p = file('bad.jsonl', '{"text":"a","label":"x"}\n{"text": oops}\n');
  await rejectsAt(collect(readTable(p)), p, 2, 10, /invalid JSON/);
});

test('an empty file is an error, for every reader', async () => {
  const p = file('empty.csv', '');
  await rejectsAt(collect(readTable(p)), p, 1, 1, /the file is empty/);
  const c = file('empty.conll', '');
  await rejectsAt(readConll(c), c, 1, 1, /the file is empty/);
  const blank = file('blank.conll', '\n\n  \n');
  await rejectsAt(readConll(blank), blank, 1, 1, /no sentences/);
});

test('a non-UTF-8 byte names its line and column (1-based, in bytes)', async () => {
  const p = file('latin1.csv', Buffer.concat([Buffer.from('text,label\ncaf'), Buffer.from([0xe9]), Buffer.from(',pos\n')]));
  await rejectsAt(collect(readTable(p)), p, 2, 4, /byte 0xe9 is not valid UTF-8.*iconv/);
  const c = file('latin1.conll', Buffer.concat([Buffer.from('Paris\tB-LOC\n\nna'), Buffer.from([0xef, 0x76]), Buffer.from('e\tO\n')]));
  await rejectsAt(readConll(c), c, 3, 3, /not valid UTF-8/);
});

test('a UTF-8 character split across read chunks is not an error', async () => {
  const text = 'x\t' + 'é'.repeat(70000) + '\n';
  const lines = await collect(readLines(file('long.tsv', text)));
  assert.equal(lines[0].text, text.slice(0, -1));
});

test('a malformed CoNLL line (wrong column count, an illegal tag) names line and column', async () => {
  const cols = file('cols.conll', 'Alice\tB-PER\nflew\tO\n\nto\tO\textra\n');
  await rejectsAt(readConll(cols), cols, 4, 6, /expected 2 columns like the first token line, found 3/);
  const tag = file('tag.conll', 'Alice\tB-PER\nParis\tLOC\n');
  await rejectsAt(readConll(tag), tag, 2, 7, /tag 'LOC' is not a BIO tag and cannot be repaired/);
});

test('a BIO file with a tag that no repair can read (E- in BIO) is refused; BIOES is detected and accepted', async () => {
  const p = file('bioes-in-bio.conll', 'New\tB-LOC\nYork\tE-LOC\n');
  await rejectsAt(readConll(p, { scheme: 'BIO' }), p, 2, 6, /tag 'E-LOC' is not a BIO tag and cannot be repaired/);
  const f = await readConll(p);
  assert.equal(f.scheme, 'BIOES');
  assert.deepEqual(f.sentences[0], { tokens: ['New', 'York'], tags: ['B-LOC', 'E-LOC'], line: 1 });
});

test('CoNLL: whitespace-only lines end sentences, -DOCSTART- is skipped, sentences keep their first line', async () => {
  const p = file('ok.conll', '-DOCSTART- O\n\nAlice B-PER\nsings O\n\t\nBob B-PER\n');
  const f = await readConll(p);
  assert.deepEqual(f.sentences.map((s) => [s.tokens.join(' '), s.line]), [['Alice sings', 3], ['Bob', 6]]);
});

test('DataLoader: seeded shuffle, length bucketing within maxTokens, collate, and exact resume', () => {
  const data = Array.from({ length: 50 }, (_, i) => Array.from({ length: 1 + (i % 7) }, () => i));
  const make = () => new DataLoader(data, { maxTokens: 16, seed: 3, lengthOf: (s) => s.length, collate: (b) => b.map((s) => s[0]) });
  const a = make(), b = make();
  const epochA = [...a], epochB = [...b];
  assert.deepEqual(epochA, epochB, 'same seed, same batches');
  assert.deepEqual(epochA.flat().sort((x, y) => x - y), data.map((_, i) => i), 'every example once per epoch');
  for (const batch of epochA) assert.ok(batch.length * Math.max(...batch.map((i) => data[i].length)) <= 16);
  const c = make();
  c.next();
  const saved = c.state();
  const rest = [...c];
  const d = make();
  d.loadState(saved);
  assert.deepEqual([...d], rest);
  assert.notDeepEqual([...a], epochA, 'the next epoch is reshuffled');
});
