// Dumps some raw header fields per split for spam_logreg.py (spamh.json).
import { importSpamCorpus, parsePart } from '../../src/data/spam.ts';
import { hashSplit } from '../../src/data/split.ts';
import { writeFileSync } from 'node:fs';
const corpus = await importSpamCorpus();
const out: Record<string, unknown[]> = { train: [], valid: [], test: [] };
for (const m of corpus()) {
  const p = parsePart(m.text);
  const h: Record<string, string> = {};
  for (const k of ['from', 'reply-to', 'to', 'content-type', 'x-mailer', 'user-agent', 'message-id', 'mime-version', 'x-priority', 'x-msmail-priority', 'importance', 'precedence', 'list-id', 'list-unsubscribe']) if (p.headers.has(k)) h[k] = p.headers.get(k)!;
  out[hashSplit(m.checksum.value)].push(h);
}
writeFileSync('/tmp/spamh.json', JSON.stringify(out));
