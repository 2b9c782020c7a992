// The README's TypeScript example runs as written (with 'heed' pointing at the sources).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..', '..');

test('the README example runs', async () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has a ```ts example');
  const code = block[1].replace(`from 'heed'`, `from ${JSON.stringify(pathToFileURL(join(root, 'src', 'index.ts')).href)}`);
  const dir = mkdtempSync(join(tmpdir(), 'heed-readme-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, code + '\nexport const done = true;\n');
    const mod = await import(pathToFileURL(file).href);
    assert.equal(mod.done, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
