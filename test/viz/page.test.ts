/**
 * The attention-map page end to end in a real browser: Debian's chromium driven by
 * playwright-core against `heed serve` (toy attention model in a worker) on 127.0.0.1.
 * Skips, saying why, only when chromium is not installed (`apt-get install -y chromium`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { startToyServer, toyModelDir, API_KEY } from '../serve/helpers.js';
import { createServer } from '../../src/serve/server.js';
import { main } from '../../src/cli/main.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../out/', import.meta.url);

/** A metrics.jsonl in the trainer's format: step records, an epoch record and eval records. */
function metricsJsonl(): string {
  const lines: object[] = [];
  for (let step = 10; step <= 200; step += 10) lines.push({ type: 'step', step, epoch: 1, loss: 3 * Math.exp(-step / 80) + 0.5, lr: 1e-3 * Math.min(1, step / 50) });
  lines.push({ type: 'eval', step: 100, epoch: 1, wer: 0.8, per: 0.3, best: 0.8, improved: true });
  lines.push({ type: 'epoch', step: 150, epoch: 1, meanLoss: 1.4 });
  lines.push({ type: 'eval', step: 200, epoch: 2, wer: 0.6, per: 0.2, best: 0.6, improved: true });
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

const SKIP = existsSync(CHROMIUM) ? false : `chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;

/** Debian's chromium, headless, with a fresh profile directory (playwright passes it as --user-data-dir). */
async function launch(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 1100 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

test('the attention page renders a prediction, its heatmaps per head, the layer × head grid and the training curves',
  { skip: SKIP }, async () => {
    const server = await startToyServer([{ name: 'toy', dir: toyModelDir('toy', { nHeads: 4 }, metricsJsonl()) }]);
    const profile = mkdtempSync(join(tmpdir(), 'heed-chromium-'));
    const browser = await launch(profile);
    try {
      const base = await server.listen();
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const external: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });
      await page.goto(`${base}/ui`);

      // The server wants a key: the page asks for it.
      await page.locator('#key-box').waitFor({ state: 'visible' });
      await page.fill('#api-key', API_KEY);
      await page.click('#key-save');
      await page.locator('#model-select option[value="toy"]').waitFor({ state: 'attached' });

      await page.fill('#input', 'hello');
      await page.click('#predict-btn');
      const cells = page.locator('#head-view rect.cell');
      await page.waitForFunction(() => document.querySelectorAll('#head-view rect.cell').length > 0);
      assert.equal(await cells.count(), 5 * 5, 'one cell per query × key');
      assert.equal((await page.textContent('#output'))?.split(' ').length, 5);
      assert.deepEqual(await page.locator('#head-view text.klabel').allTextContents(), ['h', 'e', 'l', 'l', 'o']);
      const head0 = await cells.evaluateAll((els) => els.map((e) => (e as SVGElement).dataset.w));
      const rowSum = head0.slice(0, 5).reduce((s, w) => s + Number(w), 0);
      assert.ok(Math.abs(rowSum - 1) < 1e-2, `a query row sums to 1 (${rowSum})`);

      await page.selectOption('#head-select', '2');
      await page.waitForFunction(() => (document.getElementById('head-view') as unknown as SVGElement).dataset.head === '2');
      const head2 = await cells.evaluateAll((els) => els.map((e) => (e as SVGElement).dataset.w));
      assert.equal(head2.length, 25);
      assert.notDeepEqual(head2, head0, 'another head shows other weights');

      // Two attention modules × four heads of small multiples; clicking one opens it.
      assert.equal(await page.locator('#grid svg.mini').count(), 2 * 4);
      await page.click('#grid svg.mini[data-map="1"][data-head="3"]');
      assert.equal(await page.inputValue('#map-select'), '1');
      assert.equal(await page.inputValue('#head-select'), '3');

      // Hover shows the weight.
      await cells.nth(7).hover();
      assert.match((await page.textContent('#tooltip')) ?? '', /^[a-z] → [a-z]: 0\.\d{3}$/);

      // Training curves drawn by uPlot from metrics.jsonl.
      await page.waitForFunction(() => document.querySelectorAll('#curves .chart canvas').length >= 3);
      assert.deepEqual(await page.locator('#curves .chart').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.chart)),
        ['training loss', 'learning rate', 'validation metrics', 'epoch / validation loss']);

      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: new URL('viz-attention.png', OUT).pathname, fullPage: true });
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(external, [], 'the page loads nothing from other origins');
    } finally {
      await browser.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

test('heed viz on a trained G2P model shows its cross-attention (phonemes × letters)', { skip: SKIP }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'heed-viz-g2p-')), 'g2p');
  const log = console.log;
  console.log = () => undefined;
  try {
    assert.equal(await main(['train', 'g2p', '--d-model', '16', '--num-heads', '2', '--num-encoder-layers', '1', '--num-decoder-layers', '1',
      '--dim-feedforward', '32', '--max-steps', '3', '--eval-words', '10', '--eval-every', '0', '--warmup-steps', '1', '--max-tokens', '300',
      '--log-every', '1', '--progress', 'none', '--out', dir]), 0);
  } finally {
    console.log = log;
  }
  // What `heed viz` runs: one worker, no keys, loopback.
  const server = createServer({ models: [{ name: 'g2p', dir }], logger: false, config: { port: 0, workers: 1, insecureNoAuth: true } });
  await server.ready;
  const profile = mkdtempSync(join(tmpdir(), 'heed-chromium-'));
  const browser = await launch(profile);
  try {
    const base = await server.listen();
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.locator('#model-select option[value="g2p"]').waitFor({ state: 'attached' });
    assert.equal(await page.locator('#key-box').isHidden(), true, 'no key needed');
    await page.fill('#input', 'photograph');
    await page.click('#predict-btn');
    await page.waitForFunction(() => document.querySelectorAll('#head-view rect.cell').length > 0);
    const options = await page.locator('#map-select option').allTextContents();
    const cross = options.findIndex((o) => o.includes('cross'));
    assert.ok(cross >= 0, `a cross-attention map is listed: ${options.join(' | ')}`);
    await page.selectOption('#map-select', String(cross));
    await page.waitForFunction(() => (document.getElementById('head-view') as unknown as SVGElement).dataset.map?.includes('cross'));
    assert.equal(await page.locator('#head-view text.klabel').count(), 'photograph'.length, 'the keys are the letters');
    const q = await page.locator('#head-view text.qlabel').count();
    const k = await page.locator('#head-view text.klabel').count();
    assert.equal(await page.locator('#head-view rect.cell').count(), q * k);
    assert.equal(await page.locator('#grid svg.mini').count(), options.length * 2, 'every module × 2 heads');
    await page.waitForFunction(() => document.querySelectorAll('#curves .chart canvas').length >= 1);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: new URL('viz-g2p.png', OUT).pathname, fullPage: true });
  } finally {
    await browser.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
