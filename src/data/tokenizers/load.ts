/**
 * Loading a tokenizer from the files a Hugging Face model directory carries:
 *
 *   tokenizer.json               the whole pipeline (WordPiece or BPE model) — preferred when present
 *   vocab.txt                    BERT: one WordPiece token per line, id = line number
 *   vocab.json + merges.txt      GPT-2: byte-level BPE vocabulary and merge list
 *   tokenizer_config.json        optional: do_lower_case (for vocab.txt), model_max_length
 *
 * vocab.txt and vocab.json + merges.txt are turned into the same pipeline Hugging Face's
 * converters (convert_slow_tokenizer.py, BertConverter / GPT2Converter) build, so
 * `tokenizer.save(dir)` writes the tokenizer.json a fast tokenizer would have.
 *
 *   const tok = loadTokenizer('models/bert-base-uncased');       // a directory
 *   const tok = loadTokenizer('models/gpt2/tokenizer.json');     // or one file
 *
 * Loading never executes anything from the files; every field is checked (json-fields.ts), and a
 * component heed does not implement (a Unigram model, a Metaspace pre-tokenizer) is a
 * NotImplementedError naming it.
 */

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { CheckpointError, NotImplementedError } from '../../errors.js';
import { parseUntrustedJson, preview } from '../../io/json.js';
import { FILE_LIMITS, readTextFileSync } from '../../io/read-file.js';
import { BPE, parseMerge } from './bpe.js';
import { ByteLevelDecoder, WordPieceDecoder, decoderFromJSON } from './decoder.js';
import { type JsonObject, optionalBoolean, optionalInteger, requireArray, requireObject, requireString } from './json-fields.js';
import { BertNormalizer, normalizerFromJSON } from './normalizer.js';
import { ByteLevelProcessing, bertTemplate, postProcessorFromJSON } from './post-processor.js';
import { BertPreTokenizer, ByteLevelPreTokenizer, preTokenizerFromJSON } from './pre-tokenizer.js';
import { type AddedToken, Tokenizer, type TokenizerParts } from './tokenizer.js';
import { WordPiece } from './wordpiece.js';

/** The largest tokenizer file read whole (a 250k-token multilingual tokenizer.json is ~20 MB). */
const MAX_TOKENIZER_BYTES = FILE_LIMITS.vocab;

function readText(path: string, what: string): string {
  return readTextFileSync(path, { what, maxBytes: MAX_TOKENIZER_BYTES });
}

function readJson(path: string, what: string): unknown {
  return parseUntrustedJson(readText(path, what), path, what);
}

/**
 * Loads a tokenizer from a model directory (tokenizer.json, else vocab.txt, else vocab.json +
 * merges.txt) or from one of those files. Throws a CheckpointError naming the path when nothing
 * there is a tokenizer.
 */
export function loadTokenizer(path: string): Tokenizer {
  if (!existsSync(path)) throw new CheckpointError(`loadTokenizer: ${path} does not exist. Fix: pass a model directory or its tokenizer.json / vocab.txt / vocab.json.`);
  const isDir = statSync(path).isDirectory();
  const dir = isDir ? path : dirname(path);
  const name = isDir ? null : basename(path);
  const config = readTokenizerConfig(dir);
  let tok: Tokenizer;
  if ((isDir && existsSync(join(dir, 'tokenizer.json'))) || (name !== null && name !== 'vocab.json' && name.endsWith('.json'))) {
    const file = isDir ? join(dir, 'tokenizer.json') : path;
    tok = tokenizerFromJSON(readJson(file, 'tokenizer file'), file);
  } else if ((isDir && existsSync(join(dir, 'vocab.txt'))) || (name !== null && name.endsWith('.txt'))) {
    const file = isDir ? join(dir, 'vocab.txt') : path;
    tok = bertTokenizerFromVocab(readText(file, 'WordPiece vocabulary'), { lowercase: config.doLowerCase ?? true, source: file });
  } else if ((isDir && existsSync(join(dir, 'vocab.json'))) || name === 'vocab.json') {
    const vocabFile = join(dir, 'vocab.json');
    const mergesFile = join(dir, 'merges.txt');
    if (!existsSync(mergesFile)) throw new CheckpointError(`loadTokenizer: ${vocabFile} needs ${mergesFile} beside it (GPT-2's BPE merges), which does not exist.`);
    tok = gpt2TokenizerFromFiles(readJson(vocabFile, 'BPE vocabulary'), readText(mergesFile, 'BPE merges'), vocabFile);
  } else {
    throw new CheckpointError(`loadTokenizer: ${path} holds no tokenizer: expected tokenizer.json, vocab.txt (BERT) or vocab.json + merges.txt (GPT-2).`);
  }
  if (config.modelMaxLength !== undefined) tok.modelMaxLength = config.modelMaxLength;
  return tok;
}

/** The few tokenizer_config.json keys heed uses; absent file → nothing. */
function readTokenizerConfig(dir: string): { doLowerCase?: boolean; modelMaxLength?: number } {
  const file = join(dir, 'tokenizer_config.json');
  if (!existsSync(file)) return {};
  const o = requireObject(readJson(file, 'tokenizer config'), file);
  const max = o.model_max_length;
  return {
    doLowerCase: optionalBoolean(o, 'do_lower_case', file),
    // Hugging Face writes 1e30 for "no limit".
    modelMaxLength: typeof max === 'number' && Number.isInteger(max) && max > 0 && max < 1e9 ? max : undefined,
  };
}

/** Reads a tokenizer.json object (`source` names it in errors). */
export function tokenizerFromJSON(json: unknown, source: string): Tokenizer {
  const o = requireObject(json, source);
  const modelJson = requireObject(o.model, `${source}: model`);
  const modelType = modelJson.type ?? inferModelType(modelJson);
  let model;
  if (modelType === 'WordPiece') model = WordPiece.fromJSON(modelJson, `${source}: model`);
  else if (modelType === 'BPE') model = BPE.fromJSON(modelJson, `${source}: model`);
  else {
    throw new NotImplementedError(`${source}: model type ${preview(modelType)} is not supported; heed reads WordPiece (BERT) and BPE (GPT-2, RoBERTa) tokenizers (Unigram/SentencePiece is not implemented).`);
  }
  const nullable = <T>(v: unknown, read: (v: unknown, where: string) => T, where: string): T | null => (v === null || v === undefined ? null : read(v, where));
  return new Tokenizer({
    model,
    normalizer: nullable(o.normalizer, normalizerFromJSON, `${source}: normalizer`),
    preTokenizer: nullable(o.pre_tokenizer, preTokenizerFromJSON, `${source}: pre_tokenizer`),
    postProcessor: postProcessorFromJSON(o.post_processor, `${source}: post_processor`),
    decoder: nullable(o.decoder, decoderFromJSON, `${source}: decoder`),
    addedTokens: o.added_tokens === undefined || o.added_tokens === null ? [] : requireArray(o, 'added_tokens', source).map((t, i) => readAddedToken(t, `${source}: added_tokens[${i}]`)),
    truncation: readTruncation(o.truncation, `${source}: truncation`),
    padding: readPadding(o.padding, `${source}: padding`),
  });
}

/** Older files omit model.type; Hugging Face infers it from the keys. */
function inferModelType(o: JsonObject): string | undefined {
  if (o.merges !== undefined) return 'BPE';
  if (o.continuing_subword_prefix !== undefined || o.max_input_chars_per_word !== undefined) return 'WordPiece';
  return undefined;
}

function readAddedToken(v: unknown, where: string): AddedToken {
  const o = requireObject(v, where);
  const id = optionalInteger(o, 'id', where);
  if (id === undefined) throw new CheckpointError(`${where}.id is missing, expected the token's integer id.`);
  return {
    id,
    content: requireString(o, 'content', where),
    special: optionalBoolean(o, 'special', where) ?? false,
    lstrip: optionalBoolean(o, 'lstrip', where) ?? false,
    rstrip: optionalBoolean(o, 'rstrip', where) ?? false,
    singleWord: optionalBoolean(o, 'single_word', where) ?? false,
    normalized: optionalBoolean(o, 'normalized', where) ?? false,
  };
}

function readSide(v: unknown, where: string): 'left' | 'right' {
  if (v === undefined || v === 'Right') return 'right';
  if (v === 'Left') return 'left';
  throw new CheckpointError(`${where} is ${preview(v)}, expected "Left" or "Right".`);
}

function readTruncation(v: unknown, where: string): TokenizerParts['truncation'] {
  if (v === null || v === undefined) return null;
  const o = requireObject(v, where);
  const strategies = { LongestFirst: 'longest_first', OnlyFirst: 'only_first', OnlySecond: 'only_second' } as const;
  const s = o.strategy ?? 'LongestFirst';
  if (typeof s !== 'string' || !(s in strategies)) throw new CheckpointError(`${where}.strategy is ${preview(s)}, expected one of ${Object.keys(strategies).join(', ')}.`);
  const maxLength = optionalInteger(o, 'max_length', where);
  if (maxLength === undefined) throw new CheckpointError(`${where}.max_length is missing.`);
  const stride = optionalInteger(o, 'stride', where) ?? 0;
  if (stride !== 0) throw new NotImplementedError(`${where}.stride is ${stride}: overflowing windows (stride) are not supported. Fix: set it to 0.`);
  return { maxLength, strategy: strategies[s as keyof typeof strategies], direction: readSide(o.direction, `${where}.direction`), stride };
}

function readPadding(v: unknown, where: string): TokenizerParts['padding'] {
  if (v === null || v === undefined) return null;
  const o = requireObject(v, where);
  let strategy: 'longest' | { fixed: number };
  if (o.strategy === 'BatchLongest' || o.strategy === undefined) strategy = 'longest';
  else {
    const fixed = optionalInteger(requireObject(o.strategy, `${where}.strategy`), 'Fixed', `${where}.strategy`);
    if (fixed === undefined) throw new CheckpointError(`${where}.strategy is ${preview(o.strategy)}, expected "BatchLongest" or { "Fixed": n }.`);
    strategy = { fixed };
  }
  return {
    strategy,
    direction: readSide(o.direction, `${where}.direction`),
    padToMultipleOf: optionalInteger(o, 'pad_to_multiple_of', where) ?? null,
    padId: optionalInteger(o, 'pad_id', where) ?? 0,
    padTypeId: optionalInteger(o, 'pad_type_id', where) ?? 0,
    padToken: typeof o.pad_token === 'string' ? o.pad_token : '[PAD]',
  };
}

/** Special tokens as Hugging Face's converters list them: in the vocabulary already, marked special. */
function specialTokens(vocab: ReadonlyMap<string, number>, names: readonly string[]): AddedToken[] {
  return names
    .filter((n) => vocab.has(n))
    .map((content) => ({ id: vocab.get(content)!, content, special: true, lstrip: false, rstrip: false, singleWord: false, normalized: false }))
    .sort((a, b) => a.id - b.id);
}

/** A BERT tokenizer from vocab.txt's text (one token per line, id = line number). */
export function bertTokenizerFromVocab(vocabTxt: string, options: { lowercase?: boolean; source?: string } = {}): Tokenizer {
  const source = options.source ?? 'vocab.txt';
  const vocab = new Map<string, number>();
  const lines = vocabTxt.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const token = line.endsWith('\r') ? line.slice(0, -1) : line;
    // A repeated token keeps its last line's id, as transformers' load_vocab does.
    vocab.set(token, i);
  });
  for (const needed of ['[UNK]', '[CLS]', '[SEP]']) {
    if (!vocab.has(needed)) throw new CheckpointError(`${source}: the BERT vocabulary has no ${needed} token (${vocab.size} lines). Fix: use the vocab.txt of a BERT model.`);
  }
  return new Tokenizer({
    model: new WordPiece(vocab, { unkToken: '[UNK]' }),
    normalizer: new BertNormalizer({ lowercase: options.lowercase ?? true }),
    preTokenizer: new BertPreTokenizer(),
    postProcessor: bertTemplate('[CLS]', vocab.get('[CLS]')!, '[SEP]', vocab.get('[SEP]')!),
    decoder: new WordPieceDecoder('##', true),
    addedTokens: specialTokens(vocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']),
    truncation: null,
    padding: null,
  });
}

/** A GPT-2 tokenizer from vocab.json (parsed) and merges.txt's text. */
export function gpt2TokenizerFromFiles(vocabJson: unknown, mergesTxt: string, source = 'vocab.json'): Tokenizer {
  const lines = mergesTxt.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const merges = lines.map((l, i) => ({ l, i })).filter(({ l }) => l !== '' && !l.startsWith('#version')).map(({ l, i }) => parseMerge(l, `merges.txt line ${i + 1}`));
  const model = BPE.fromJSON({ vocab: vocabJson, merges }, source);
  // The flags Hugging Face's GPT2Converter writes (only the pre-tokenizer's add_prefix_space and the post-processor's trim_offsets act).
  const byteLevel = { type: 'ByteLevel', add_prefix_space: true, use_regex: true };
  return new Tokenizer({
    model,
    normalizer: null,
    preTokenizer: new ByteLevelPreTokenizer(false, true, true),
    postProcessor: new ByteLevelProcessing(false, { ...byteLevel, trim_offsets: false }),
    decoder: new ByteLevelDecoder({ ...byteLevel, trim_offsets: true }),
    addedTokens: specialTokens(model.vocab, ['<|endoftext|>']),
    truncation: null,
    padding: null,
  });
}
