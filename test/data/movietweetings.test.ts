// MovieTweetings preparation: SASRec's one-pass filter, renumbering, stable time order and leave-one-out split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadMovieTweetings, parseMovies, parseRatings, prepareSequences, trainItemCounts, RECSYS_DIR_ENV } from '../../src/data/movietweetings.js';
import { buildTitleVocab, encodeGenres, encodeTitles, titleWords } from '../../src/data/item-features.js';
import { CheckpointError, ConfigError } from '../../src/errors.js';

/** ratings.dat lines: user u rates items at times; every user and item here has ≥ 2 ratings unless noted. */
const RATINGS = [
  '1::0100::7::30', '1::0200::8::10', '1::0300::6::20', '1::0400::5::40', // user 1: by time 0200, 0300, 0100, 0400
  '2::0100::7::5', '2::0200::7::5', '2::0300::7::1', // user 2: 0300, then a tie at 5 broken by file order: 0100, 0200
  '3::0100::1::1', '3::0999::1::2', // user 3: 0999 is rated once → dropped; user 3 then has 1 event (kept: one pass, no k-core)
  '4::0400::1::9', // user 4 has a single rating → dropped
].join('\n');

test('one filtering pass on raw counts, renumbering by first appearance, stable time order, leave-one-out', () => {
  const s = prepareSequences(parseRatings(RATINGS), 2);
  assert.deepEqual(s.userIds, ['1', '2', '3']);
  assert.deepEqual(s.itemIds, ['', '0100', '0200', '0300', '0400']); // file order of first appearance
  assert.equal(s.numItems, 4);
  // user 1: 0200(2) 0300(3) 0100(1) 0400(4) → train [2, 3], valid 1, test 4
  assert.deepEqual([...s.train[0]], [2, 3]);
  assert.equal(s.valid[0], 1);
  assert.equal(s.test[0], 4);
  // user 2: 0300(3), then 0100(1) and 0200(2) tie at t = 5 → file order
  assert.deepEqual([...s.train[1]], [3]);
  assert.equal(s.valid[1], 1);
  assert.equal(s.test[1], 2);
  // user 3 keeps one event (0999 dropped): all of it is train, no valid/test
  assert.deepEqual([...s.train[2]], [1]);
  assert.equal(s.valid[2], 0);
  assert.equal(s.test[2], 0);
  assert.deepEqual([...trainItemCounts(s)], [0, 1, 1, 2, 0]);
});

test('malformed lines and missing files are clear errors', () => {
  assert.throws(() => parseRatings('1::0100::7'), (e: Error) => e instanceof CheckpointError && /line 1/.test(e.message));
  assert.throws(() => parseMovies('0100::Title'), CheckpointError);
  assert.deepEqual(parseMovies('0100::A Film (2013)::\n').get('0100')!.genres, []);
  const saved = process.env[RECSYS_DIR_ENV];
  delete process.env[RECSYS_DIR_ENV];
  try {
    assert.throws(() => loadMovieTweetings(), (e: Error) => e instanceof ConfigError && /--data-dir/.test(e.message));
    assert.throws(() => loadMovieTweetings({ dir: '/nonexistent-heed' }), (e: Error) => e instanceof ConfigError && /not found/.test(e.message));
  } finally {
    if (saved !== undefined) process.env[RECSYS_DIR_ENV] = saved;
  }
});

test('titles become word ids (rare words → <unk>, the year kept when cut) and genres a mean over the set', () => {
  assert.deepEqual(titleWords('The Matrix (1999)'), ['the', 'matrix', '1999']);
  const titles = ['', 'The Matrix (1999)', 'The Matrix Reloaded (2003)', 'Gravity (2013)'];
  const vocab = buildTitleVocab(titles.slice(1), 2);
  assert.ok(vocab.has('matrix') && vocab.has('the') && !vocab.has('gravity'));
  const ids = encodeTitles(titles, vocab, 3);
  const row = (i: number) => [...ids.data.subarray(i * 3, i * 3 + 3)];
  assert.deepEqual(row(0), [0, 0, 0]);
  assert.deepEqual(row(2), [vocab.idOf('the'), vocab.idOf('matrix'), 3]); // 'reloaded' cut, '2003' kept as <unk> (id 3)
  const g = encodeGenres([[], ['Drama', 'War'], ['Drama'], []], ['Drama', 'War']);
  assert.deepEqual([...g.data], [0, 0, 0.5, 0.5, 1, 0, 0, 0]);
});

const DATA_DIR = process.env[RECSYS_DIR_ENV] ?? '/work/shared/data/recsys';
const haveData = existsSync(join(DATA_DIR, 'movietweetings-100k.ratings.dat.gz'));

test('the 100K snapshot gives the data README\'s figures and exactly its derived sequences', { skip: haveData ? false : `MovieTweetings 100K not found in ${DATA_DIR} (set ${RECSYS_DIR_ENV})` }, () => {
  const d = loadMovieTweetings({ dir: DATA_DIR });
  assert.equal(d.numItems, 2721);
  assert.equal(d.userIds.length, 4682);
  assert.equal(d.train.reduce((n, s) => n + s.length, 0), 61073);
  assert.equal(d.test.filter((t) => t > 0).length, 4635);
  const tsv = gunzipSync(readFileSync(join(DATA_DIR, 'movietweetings-100k.sasrec-seq.tsv.gz'))).toString('utf8').trim().split('\n').slice(1);
  assert.equal(tsv.length, 70343);
  const seqs = new Map<number, number[]>();
  for (const line of tsv) {
    const [user, item, , imdb] = line.split('\t');
    assert.equal(d.itemIds[Number(item)], imdb);
    seqs.set(Number(user), [...(seqs.get(Number(user)) ?? []), Number(item)]);
  }
  for (const [u, seq] of seqs) {
    const mine = [...d.train[u - 1], ...(d.test[u - 1] > 0 ? [d.valid[u - 1], d.test[u - 1]] : [])];
    assert.deepEqual(mine, seq, `user ${u}`);
  }
  assert.equal(d.items[1].id, d.itemIds[1]);
});
