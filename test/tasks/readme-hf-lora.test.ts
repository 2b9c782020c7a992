/**
 * The README's "load a Hugging Face checkpoint, LoRA-fine-tune it, serve it" block, run exactly
 * as printed (with `from 'heed'` pointed at the sources, the checkpoint path at the tiny
 * PyTorch-made BERT of test/fixtures/hf/bert_tiny_text and runs/ at a temporary directory): it
 * must stay under 15 lines of code, write peft's adapter files under HF names, and the merged
 * directory must be served by `heed serve`'s server with the labels it was trained on.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../core/import-graph.ts';
import { createServer, type HeedServer } from '../../src/serve/server.ts';
import { API_KEY } from '../serve/helpers.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const block = /<!-- hf-lora:begin -->\n```js\n([\s\S]*?)```\n<!-- hf-lora:end -->/.exec(README)?.[1] ?? '';
const dir = mkdtempSync(join(tmpdir(), 'heed-readme-hf-'));
let server: HeedServer | undefined;
after(async () => server?.close());

test('the README HF + LoRA example is under 15 lines of code', () => {
  const code = block.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
  assert.ok(code.length > 5 && code.length < 15, `${code.length} lines of code`);
  for (const call of ['fromPretrained', 'getPeftModel', 'savePeftAdapter', 'mergeAndUnload', 'savePretrained']) assert.match(block, new RegExp(`\\b${call}\\b`));
});

test('the README HF + LoRA example runs as printed, writes peft\'s files, and its merged model is served', async () => {
  const script = join(dir, 'example.mjs');
  writeFileSync(script, block
    .replace("from 'heed'", `from ${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'index.ts')).href)}`)
    .replace("'checkpoints/bert-tiny'", JSON.stringify(join(ROOT, 'test', 'fixtures', 'hf', 'bert_tiny_text')))
    .replaceAll("'runs/", `'${dir}/`));
  await import(pathToFileURL(script).href);
  const cfg = JSON.parse(readFileSync(join(dir, 'bert-lora', 'adapter_config.json'), 'utf8'));
  assert.equal(cfg.peft_type, 'LORA');
  assert.equal(cfg.key_names, 'hf');
  assert.ok(cfg.target_modules.includes('bert.encoder.layer.0.attention.self.query'));
  server = createServer({ models: [{ name: 'bert', dir: join(dir, 'bert-merged') }], apiKeys: [API_KEY], logger: false, config: { port: 0, workers: 1 } });
  await server.ready;
  const r = await server.app.inject({ method: 'POST', url: '/v1/models/bert/predict', headers: { authorization: `Bearer ${API_KEY}` }, payload: { inputs: ['a fine film', 'a dull film'] } });
  assert.equal(r.statusCode, 200, r.body);
  const outputs = r.json().predictions.map((p: { output: string }) => p.output);
  assert.deepEqual(outputs, ['LABEL_1', 'LABEL_0'], 'the served model answers with the labels it was fine-tuned on');
});
