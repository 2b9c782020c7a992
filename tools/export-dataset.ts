/**
 * Writes a built-in dataset as the user files the task templates read, so `heed train classify`
 * and `heed train seq2seq` can be run on real data (issue 13's done-when):
 *
 *   node --import tsx tools/export-dataset.ts spam    data-export/spam      # train.csv valid.csv test.csv (text,label)
 *   node --import tsx tools/export-dataset.ts cmudict data-export/cmudict   # train.tsv valid.tsv test.tsv (word<TAB>phonemes)
 *
 * The splits are the built-in tasks' own hash splits (src/data/spam.ts, src/data/cmudict.ts), so a
 * template's scores compare with the built-in task's. Spam text = the content headers + subject +
 * body, as the spam task reads it; CSV fields are quoted as RFC 4180 says, so
 * the mails' newlines, commas and quotes survive. Files are written to a temporary name and renamed.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpamAssassin } from '../src/data/spam.ts';
import { loadCmudict } from '../src/data/cmudict.ts';

const [what, out] = process.argv.slice(2);
if ((what !== 'spam' && what !== 'cmudict') || out === undefined) {
  console.error('usage: node --import tsx tools/export-dataset.ts spam|cmudict <out-dir>');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

function write(name: string, text: string): void {
  const path = join(out, name);
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  console.log(`wrote ${path} (${text.length} characters)`);
}

/** One RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

if (what === 'spam') {
  const data = await loadSpamAssassin();
  for (const split of ['train', 'valid', 'test'] as const) {
    const rows = data[split].map((e) => `${csvField(e.headers ? `${e.headers}\n${e.text}` : e.text)},${e.label === 1 ? 'spam' : 'ham'}`);
    write(`${split}.csv`, ['text,label', ...rows].join('\n') + '\n');
  }
} else {
  const data = loadCmudict();
  write('train.tsv', data.train.examples.map((e) => `${e.word}\t${e.phonemes.join(' ')}`).join('\n') + '\n');
  for (const split of ['valid', 'test'] as const) {
    write(`${split}.tsv`, data[split].words.flatMap((w) => w.pronunciations.map((p) => `${w.word}\t${p.join(' ')}`)).join('\n') + '\n');
  }
}
