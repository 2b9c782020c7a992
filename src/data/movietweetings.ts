/**
 * MovieTweetings 100K (MIT, Simon Dooms 2013) prepared for next-item recommendation exactly as
 * SASRec prepares its data (kang205/SASRec data/DataProcessing.py and util.py):
 *
 *   1. every rating is an implicit interaction (the rating value is ignored);
 *   2. one pass, not an iterated k-core: drop interactions whose user or item has < 5 ratings
 *      counted on the raw file;
 *   3. renumber from 1: users in order of first appearance in the filtered file (ascending
 *      original id), items in order of first appearance scanning the filtered lines in file order;
 *   4. sort each user's events by timestamp, ties by file line (a stable sort);
 *   5. leave-one-out: a user with ≥ 3 events gives the last to test, the one before to validation
 *      and the rest to train; a user with fewer goes entirely to train.
 *
 * On the 100K snapshot this gives 70,343 interactions, 4,682 users, 2,721 items, 61,073 train
 * interactions and 4,635 users with a test item (the data README's check figures, which
 * test/data/movietweetings.test.ts compares against the README's derived TSV).
 *
 * The files are read in place (`movietweetings-100k.ratings.dat.gz` and `.movies.dat.gz`); they
 * are not bundled with heed. Item 0 is padding; items are 1..numItems.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { CheckpointError, ConfigError } from '../errors.js';

export const RATINGS_FILE = 'movietweetings-100k.ratings.dat.gz';
export const MOVIES_FILE = 'movietweetings-100k.movies.dat.gz';
/** The environment variable naming the data directory when no path is given. */
export const RECSYS_DIR_ENV = 'HEED_RECSYS_DIR';

/** One raw interaction, in file order. */
export interface Interaction {
  user: string;
  item: string;
  timestamp: number;
}

/** An item's side information (movies.dat). */
export interface ItemInfo {
  /** The IMDb numeric id as a string, leading zeros kept ('0133093'). */
  id: string;
  /** 'Title (Year)'. */
  title: string;
  genres: string[];
}

/** Users' time-ordered sequences split leave-one-out (the SASRec recipe, see the header). */
export interface SequenceSplit {
  /** Items are 1..numItems; 0 is padding. */
  numItems: number;
  /** Raw item id of each item number; itemIds[0] = '' (padding). */
  itemIds: string[];
  /** Raw user id of each user (index u = user number − 1). */
  userIds: string[];
  /** Train part of each user's sequence, oldest first. */
  train: Int32Array[];
  /** Validation item of each user; 0 when the user has < 3 events. */
  valid: Int32Array;
  /** Test item of each user; 0 when the user has < 3 events. */
  test: Int32Array;
}

/** The prepared data set: the split plus each item's title and genres. */
export interface MovieTweetings extends SequenceSplit {
  /** Side information of each item number; items[0] is the padding entry (empty title, no genres). */
  items: ItemInfo[];
}

/** Parses ratings.dat: `user::movie::rating::timestamp` per line; a malformed line is a CheckpointError naming it. */
export function parseRatings(text: string, source = '<text>'): Interaction[] {
  const out: Interaction[] = [];
  const lines = text.split('\n');
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    const f = line.split('::');
    const ts = Number(f[3]);
    if (f.length !== 4 || f[0] === '' || f[1] === '' || !Number.isInteger(ts)) {
      throw new CheckpointError(`movietweetings: ${source} line ${n + 1} is ${JSON.stringify(line.slice(0, 80))}, expected user::movie::rating::timestamp.`);
    }
    out.push({ user: f[0], item: f[1], timestamp: ts });
  });
  return out;
}

/** Parses movies.dat: `movie::Title (Year)::Genre|Genre` per line (the genre field may be empty). */
export function parseMovies(text: string, source = '<text>'): Map<string, ItemInfo> {
  const out = new Map<string, ItemInfo>();
  text.split('\n').forEach((line, n) => {
    if (line.trim() === '') return;
    const f = line.split('::');
    if (f.length !== 3 || f[0] === '') {
      throw new CheckpointError(`movietweetings: ${source} line ${n + 1} is ${JSON.stringify(line.slice(0, 80))}, expected movie::Title (Year)::Genre|Genre.`);
    }
    out.set(f[0], { id: f[0], title: f[1], genres: f[2] === '' ? [] : f[2].split('|') });
  });
  return out;
}

/**
 * Steps 2–5 of the recipe (see the header) on raw interactions in file order.
 * Args: minCount: the per-user and per-item threshold of the single filtering pass (SASRec: 5).
 */
export function prepareSequences(interactions: readonly Interaction[], minCount = 5): SequenceSplit {
  const userCount = new Map<string, number>(), itemCount = new Map<string, number>();
  for (const r of interactions) {
    userCount.set(r.user, (userCount.get(r.user) ?? 0) + 1);
    itemCount.set(r.item, (itemCount.get(r.item) ?? 0) + 1);
  }
  const userNum = new Map<string, number>(), itemNum = new Map<string, number>();
  const userIds: string[] = [], itemIds: string[] = [''];
  const events: { item: number; timestamp: number; line: number }[][] = [];
  interactions.forEach((r, line) => {
    if ((userCount.get(r.user) ?? 0) < minCount || (itemCount.get(r.item) ?? 0) < minCount) return;
    let u = userNum.get(r.user);
    if (u === undefined) {
      u = userIds.length;
      userNum.set(r.user, u);
      userIds.push(r.user);
      events.push([]);
    }
    let i = itemNum.get(r.item);
    if (i === undefined) {
      i = itemIds.length;
      itemNum.set(r.item, i);
      itemIds.push(r.item);
    }
    events[u].push({ item: i, timestamp: r.timestamp, line });
  });
  const U = userIds.length;
  const train: Int32Array[] = [];
  const valid = new Int32Array(U), test = new Int32Array(U);
  events.forEach((ev, u) => {
    ev.sort((a, b) => a.timestamp - b.timestamp || a.line - b.line);
    const seq = ev.map((e) => e.item);
    if (seq.length < 3) {
      train.push(Int32Array.from(seq));
      return;
    }
    train.push(Int32Array.from(seq.slice(0, -2)));
    valid[u] = seq[seq.length - 2];
    test[u] = seq[seq.length - 1];
  });
  return { numItems: itemIds.length - 1, itemIds, userIds, train, valid, test };
}

/** The data directory: the given path, else $HEED_RECSYS_DIR; a ConfigError saying how to give one when neither is set. */
export function recsysDataDir(dir?: string): string {
  const d = dir !== undefined && dir !== '' ? dir : process.env[RECSYS_DIR_ENV];
  if (d === undefined || d === '') {
    throw new ConfigError(
      `movietweetings: no data directory given. Fix: pass --data-dir <dir> (or set ${RECSYS_DIR_ENV}) naming the folder that holds ${RATINGS_FILE} and ${MOVIES_FILE} (MovieTweetings 100K, MIT).`,
    );
  }
  return d;
}

function readGzip(path: string): string {
  if (!existsSync(path)) {
    throw new ConfigError(`movietweetings: ${path} not found. Fix: point --data-dir (or ${RECSYS_DIR_ENV}) at the folder holding ${RATINGS_FILE} and ${MOVIES_FILE}.`);
  }
  try {
    return gunzipSync(readFileSync(path)).toString('utf8');
  } catch (err) {
    throw new CheckpointError(`movietweetings: cannot read gzip file '${path}': ${(err as Error).message}`);
  }
}

/** Reads both files from `dir` (see recsysDataDir) and prepares the split with titles and genres. */
export function loadMovieTweetings(options: { dir?: string } = {}): MovieTweetings {
  const dir = recsysDataDir(options.dir);
  const ratingsPath = join(dir, RATINGS_FILE), moviesPath = join(dir, MOVIES_FILE);
  const split = prepareSequences(parseRatings(readGzip(ratingsPath), ratingsPath));
  const movies = parseMovies(readGzip(moviesPath), moviesPath);
  const items: ItemInfo[] = [{ id: '', title: '', genres: [] }];
  for (let i = 1; i <= split.numItems; i++) {
    const id = split.itemIds[i];
    const info = movies.get(id);
    if (info === undefined) throw new CheckpointError(`movietweetings: ${moviesPath} has no line for movie '${id}', which ${ratingsPath} rates.`);
    items.push(info);
  }
  return { ...split, items };
}

/** Interactions per item (index = item number) in the train parts: popularity, and what "cold" is measured by. */
export function trainItemCounts(split: Pick<SequenceSplit, 'numItems' | 'train'>): Int32Array {
  const counts = new Int32Array(split.numItems + 1);
  for (const seq of split.train) for (const i of seq) counts[i]++;
  return counts;
}
