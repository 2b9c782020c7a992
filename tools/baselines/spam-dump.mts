// Dumps the parsed spam splits for tools/baselines/spam_logreg.py: node --import tsx tools/baselines/spam-dump.mts
import { loadSpamAssassin } from "../../src/data/spam.ts";
import { writeFileSync } from 'node:fs';
const d = await loadSpamAssassin();
writeFileSync('/tmp/spam.json', JSON.stringify({ train: d.train.map(e => [e.label, e.text, e.group]), valid: d.valid.map(e => [e.label, e.text, e.group]), test: d.test.map(e => [e.label, e.text, e.group]) }));
