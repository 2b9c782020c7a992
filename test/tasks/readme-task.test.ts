/**
 * The README's custom task, run exactly as printed (the block between the custom-task markers,
 * with `from 'heed'` pointed at the sources): `heed --task-module` imports it, trains it, evaluates
 * and predicts with it, and `heed serve`'s server answers it from a worker thread that imported
 * the same module.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../core/import-graph.ts';
import { heed } from './run-cli.ts';
import { createServer, type HeedServer } from '../../src/serve/server.ts';
import { taskModuleUrls } from '../../src/tasks/registry.ts';
import { API_KEY } from '../serve/helpers.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const block = /<!-- custom-task:begin -->\n```js\n([\s\S]*?)```\n<!-- custom-task:end -->/.exec(README)?.[1] ?? '';
const dir = mkdtempSync(join(tmpdir(), 'heed-readme-task-'));
const modulePath = join(dir, 'majority-task.mjs');
writeFileSync(modulePath, block.replace("from 'heed'", `from ${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'index.ts')).href)}`));
let server: HeedServer | undefined;
after(async () => server?.close());


test('the README custom task is complete and under 40 lines', () => {
  const lines = block.trim().split('\n');
  assert.ok(lines.length > 20 && lines.length < 40, `${lines.length} lines`);
  assert.match(block, /heed\.registerTask\(\{/);
  for (const key of ['name', 'configSchema', 'loadData', 'buildModel', 'lossAndMetrics', 'predictor']) assert.match(block, new RegExp(`\\b${key}\\b`));
});

test('the README custom task trains, evaluates, predicts and is served', async () => {
  const out = join(dir, 'run');
  const trained = await heed('--task-module', modulePath, 'train', 'majority', '--hidden', '32', '--max-steps', '200', '--progress', 'none', '--out', out);
  assert.equal(trained.code, 0, trained.out);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.task, 'majority');
  assert.equal(config.config.hidden, 32, 'the flag is saved in config.json');
  const ev = await heed('eval', out, '--split', 'test', '--json');
  assert.equal(ev.code, 0, ev.out);
  const { accuracy } = JSON.parse(ev.out.trim().split('\n').pop()!) as { accuracy: number };
  assert.ok(accuracy > 0.9, `majority of 9 bits is learnable: test accuracy ${accuracy}`);
  const pr = await heed('predict', out, '111110000', '000001111');
  assert.equal(pr.code, 0, pr.out);
  assert.deepEqual(pr.out.trim().split('\n'), ['111110000\tmore 1s', '000001111\tmore 0s']);
  const bad = await heed('predict', out, '12');
  assert.equal(bad.code, 1);
  assert.match(bad.out, /ValueError: expected 9 bits like "010011101", received "12"/);

  assert.deepEqual(taskModuleUrls(), [pathToFileURL(modulePath).href], 'the CLI recorded the module for serve workers');
  server = createServer({ models: [{ name: 'majority', dir: out }], apiKeys: [API_KEY], logger: false, config: { port: 0, workers: 1 } });
  await server.ready;
  const r = await server.app.inject({ method: 'POST', url: '/v1/models/majority/predict', headers: { authorization: `Bearer ${API_KEY}` }, payload: { inputs: ['101010111', '100000001'] } });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json().predictions.map((p: { output: string }) => p.output), ['more 1s', 'more 0s']);
  const refused = await server.app.inject({ method: 'POST', url: '/v1/models/majority/predict', headers: { authorization: `Bearer ${API_KEY}` }, payload: { input: 'abc' } });
  assert.equal(refused.statusCode, 422, refused.body);
});
