/**
 * `heed viz` on a trained forecast model: a prediction from an origin date is drawn as a uPlot
 * chart of the context, the actual values, the median forecast and its quantile band, in Debian's
 * chromium (skips, saying why, only when chromium is not installed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createServer } from '../../src/serve/server.js';
import { main } from '../../src/cli/main.js';
import { formatTimestamp } from '../../src/data/timeseries.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../out/', import.meta.url);
const SKIP = existsSync(CHROMIUM) ? false : `chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;

test('the viz page draws a forecast against the actual values with its quantile band', { skip: SKIP }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'heed-viz-forecast-'));
  const csv = join(root, 'series.csv');
  const day = (t: number) => formatTimestamp(Date.UTC(2021, 0, 1 + t));
  writeFileSync(csv, ['date,visits', ...Array.from({ length: 300 }, (_, t) => `${day(t)},${(200 + 30 * Math.sin((2 * Math.PI * t) / 7) + t / 5).toFixed(2)}`)].join('\n'));
  const dir = join(root, 'model');
  const log = console.log;
  console.log = () => undefined;
  try {
    assert.equal(await main(['train', 'forecast', '--data', csv, '--context-length', '28', '--patch-length', '7', '--patch-stride', '7', '--horizon', '14', '--horizons', '7,14', '--d-model', '16', '--num-heads', '2',
      '--num-layers', '1', '--dim-feedforward', '32', '--head-dim', '8', '--valid-steps', '42', '--test-steps', '42', '--max-steps', '4', '--eval-every', '2',
      '--warmup-steps', '1', '--ridge-lags', '1-14', '--log-every', '1', '--progress', 'none', '--out', dir]), 0);
  } finally {
    console.log = log;
  }
  const server = createServer({ models: [{ name: 'visits', dir }], logger: false, config: { port: 0, workers: 1, insecureNoAuth: true } });
  await server.ready;
  const profile = mkdtempSync(join(tmpdir(), 'heed-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 1100 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const base = await server.listen();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${base}/ui/`);
    await page.locator('#model-select option[value="visits"]').waitFor({ state: 'attached' });
    assert.match((await page.getAttribute('#input', 'placeholder')) ?? '', /origin date/);
    assert.equal(await page.locator('#forecast').isHidden(), true, 'no chart before a prediction');
    await page.fill('#input', day(250));
    await page.click('#predict-btn');
    await page.waitForFunction(() => document.querySelectorAll('#forecast-chart canvas').length > 0);
    assert.equal(await page.locator('#forecast').isVisible(), true);
    assert.equal(await page.getAttribute('#forecast-chart', 'data-points'), '14');
    assert.equal(await page.getAttribute('#forecast-chart', 'data-band'), '0.1-0.9');
    const legend = await page.locator('#forecast-chart .u-legend .u-label').allTextContents();
    assert.deepEqual(legend.slice(1), ['actual (visits)', 'median forecast', 'q0.1', 'q0.9']);
    assert.match((await page.textContent('#output')) ?? '', new RegExp(`visits: 14 steps from ${day(250)}`));
    // The patch tokens' self-attention is shown too (4 weekly patches).
    await page.waitForFunction(() => document.querySelectorAll('#head-view rect.cell').length > 0);
    assert.equal(await page.locator('#head-view rect.cell').count(), 4 * 4);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: new URL('viz-forecast.png', OUT).pathname, fullPage: true });
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
