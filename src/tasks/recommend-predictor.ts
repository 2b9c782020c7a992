/**
 * The recommend task's Predictor: a user's history in, the top-k next items out, with titles.
 *
 * Input: a history of IMDb ids, oldest first, as a string ('0133093 1074638', spaces or commas)
 * or an array of ids. Leading zeros may be dropped ('133093' = '0133093'), and 'tt0133093' is
 * accepted too. An id the model never saw in training is SKIPPED AND COUNTED, never an error: the
 * prediction lists it in `skipped`. When no item of a history is known, the recommendations are the
 * most popular items of the training data (`fallback: 'popularity'`), as a recommender with no
 * signal should do. Items already in the history are never recommended.
 *
 * Output: `output` is the best item's title, `alternatives` the top k (k = nBest, default 10)
 * titles with their scores, `recommendations` the same items with their IMDb ids and genres.
 *
 * Catalogue file (`items.vocab.json` in the model directory): the items of the model, item number k + 1
 * at index k, each `{ id, title, genres, count }` (count = train interactions).
 */
import { readTextFileSync, FILE_LIMITS } from '../io/read-file.js';
import { parseUntrustedJson, preview } from '../io/json.js';
import { CheckpointError, ValueError } from '../errors.js';
import { noGrad } from '../autograd/mode.js';
import { AttentionRecorder } from '../nn/attention/recorder.js';
import { topK } from '../train/metrics/ranking.js';
import { padHistories, type SASRec } from '../models/sasrec.js';
import type { MovieTweetings } from '../data/movietweetings.js';
import type { AttentionMap, Prediction, PredictOptions, Predictor } from './predictor.js';

export const ITEMS_FILE = 'items.vocab.json'; // the item vocabulary; *.vocab.json is what heed's run directories may hold

export interface CatalogueItem {
  id: string;
  title: string;
  genres: string[];
  count: number;
}

export interface Catalogue {
  format: 'heed.items';
  version: 1;
  items: CatalogueItem[];
}

/** The catalogue of a data set, with each item's train count. */
export function catalogueOf(data: MovieTweetings, counts: Int32Array): Catalogue {
  return { format: 'heed.items', version: 1, items: data.items.slice(1).map((it, k) => ({ id: it.id, title: it.title, genres: it.genres, count: counts[k + 1] })) };
}

/** Reads and validates a catalogue file; anything malformed is a CheckpointError naming the file. */
export function readCatalogue(path: string): Catalogue {
  const json = parseUntrustedJson(readTextFileSync(path, { what: 'item catalogue', maxBytes: FILE_LIMITS.vocab }), path, 'item catalogue') as Partial<Catalogue>;
  if (json === null || typeof json !== 'object' || json.format !== 'heed.items' || json.version !== 1 || !Array.isArray(json.items)) {
    throw new CheckpointError(`${path}: expected {"format": "heed.items", "version": 1, "items": [...]}, received ${preview(json)}. Fix: restore the file or retrain.`);
  }
  json.items.forEach((it, k) => {
    const ok = it !== null && typeof it === 'object' && typeof it.id === 'string' && it.id !== '' && typeof it.title === 'string'
      && Array.isArray(it.genres) && it.genres.every((g) => typeof g === 'string') && Number.isInteger(it.count) && it.count >= 0;
    if (!ok) throw new CheckpointError(`${path}: items[${k}] is ${preview(it)}, expected {id, title, genres, count}. Fix: restore the file or retrain.`);
  });
  return json as Catalogue;
}

/** 'tt0133093', '0133093' and '133093' all name the same IMDb title. */
function normalizeId(id: string): string {
  return id.trim().replace(/^tt/i, '').replace(/^0+(?=\d)/, '');
}

/** One recommended item. */
export interface Recommendation {
  id: string;
  title: string;
  genres: string[];
  score: number;
}

/** A Prediction with the recommended items and what was skipped. */
export interface RecommendPrediction extends Prediction {
  recommendations: Recommendation[];
  /** History ids not known to the model, in input order. */
  skipped: string[];
  /** 'popularity' when no history item was known. */
  fallback?: 'popularity';
}

export class RecommendPredictor implements Predictor {
  readonly task = 'recommend';
  private readonly itemOf = new Map<string, number>();
  private readonly popularity: Float32Array;

  constructor(readonly dir: string, readonly config: Readonly<Record<string, unknown>>, readonly model: SASRec, readonly catalogue: Catalogue) {
    catalogue.items.forEach((it, k) => this.itemOf.set(normalizeId(it.id), k + 1));
    this.popularity = Float32Array.from({ length: catalogue.items.length + 1 }, (_, i) => (i === 0 ? -Infinity : catalogue.items[i - 1].count));
  }

  /** The history's ids as given (strings); a ValueError for anything that is not a history. */
  private parse(input: unknown, i: number): string[] {
    let ids: unknown[];
    if (typeof input === 'string') ids = input.split(/[\s,]+/).filter((s) => s !== '');
    else if (Array.isArray(input)) ids = input;
    else throw new ValueError(`recommend: input ${i} must be a history of IMDb ids (a string like '0133093 1074638', or an array), received ${typeof input}.`);
    if (ids.length === 0) throw new ValueError(`recommend: input ${i} is an empty history. Fix: give at least one IMDb id, oldest first.`);
    return ids.map((id, j) => {
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0) return String(id);
      if (typeof id !== 'string' || !/^(tt)?\d+$/i.test(id.trim())) {
        throw new ValueError(`recommend: input ${i}, item ${j} is ${preview(id)}, expected an IMDb id such as '0133093' or 'tt0133093'.`);
      }
      return id.trim();
    });
  }

  validateInput(input: unknown): void {
    this.parse(input, 0);
  }

  predict(inputs: readonly unknown[], options: PredictOptions = {}): RecommendPrediction[] {
    const k = options.nBest ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new ValueError(`recommend: nBest (the number of recommendations) is ${k}, expected a positive integer.`);
    const parsed = inputs.map((x, i) => this.parse(x, i));
    const known = parsed.map((ids) => ids.map((id) => this.itemOf.get(normalizeId(id)) ?? 0));
    const scored = known.map((items, b) => ({ b, items: items.filter((i) => i > 0) })).filter((h) => h.items.length > 0);
    const N1 = this.catalogue.items.length + 1;
    const rows = new Map<number, Float32Array>();
    const attention = new Map<number, AttentionMap[]>();
    if (scored.length > 0) {
      this.model.eval();
      noGrad(() => {
        const table = this.model.itemTable(); // (N + 1, D), outside the recorder: its fusion attention is per item, not per history
        const { ids, lengths } = padHistories(scored.map((h) => h.items), this.model.config.maxLen);
        const rec = options.attention ? new AttentionRecorder(this.model) : null;
        const scores = rec ? rec.record(() => this.model.scoreNext(ids, lengths, table)) : this.model.scoreNext(ids, lengths, table); // (B, N + 1)
        scored.forEach((h, j) => {
          rows.set(h.b, (scores.data as Float32Array).subarray(j * N1, (j + 1) * N1));
          if (rec) {
            const kept = h.items.slice(-lengths[j]).map((i) => this.catalogue.items[i - 1].title);
            attention.set(h.b, rec.toAttentionMaps(j, kept, kept));
          }
        });
      });
    }
    return inputs.map((input, b) => {
      const row = rows.get(b) ?? this.popularity;
      const recs = topK(row, k, new Set([0, ...known[b]])).map(({ index, score }): Recommendation => {
        const it = this.catalogue.items[index - 1];
        return { id: it.id, title: it.title, genres: it.genres, score };
      });
      const out: RecommendPrediction = {
        input, output: recs[0]?.title ?? null, alternatives: recs.map((r) => ({ output: r.title, score: r.score })),
        recommendations: recs, skipped: parsed[b].filter((_, j) => known[b][j] === 0),
      };
      if (!rows.has(b)) out.fallback = 'popularity';
      if (options.attention) out.attention = attention.get(b) ?? [];
      return out;
    });
  }
}
