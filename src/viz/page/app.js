// heed attention-map page: type an input, see the prediction, its attention maps (head view,
// token view, all layers × heads) and the model's training curves (uPlot). A forecast model's
// prediction is also drawn: forecast against actual, with the quantile band (renderForecast).
//
// Data: GET /v1/models → the models; POST /v1/models/:name/predict {input, attention: true}
// → { predictions: [{ output, alternatives?, attention: [{ name, kind, layer, queryTokens,
// keyTokens, weights (heads × queries × keys) }] }] }; GET /v1/models/:name/training → curves.
// Every text that comes from the model or the user is set with textContent, never as HTML.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
const state = { models: [], model: null, maps: [], mapIndex: 0, head: 0, charts: [], forecastChart: null };

// ---- HTTP ---------------------------------------------------------------------------------

function apiKey() { return sessionStorage.getItem('heed-api-key') || ''; }

async function api(path, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (apiKey()) headers.authorization = `Bearer ${apiKey()}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(path, { ...init, headers });
  const body = await r.json().catch(() => ({}));
  if (r.status === 401) $('key-box').hidden = false;
  if (!r.ok) throw new Error((body.error && body.error.message) || `HTTP ${r.status}`);
  return body;
}

// ---- colours ------------------------------------------------------------------------------

/** Weight in [0, 1] → a blue ramp from near-white to dark blue (ColorBrewer Blues ends). */
function colour(w) {
  const t = Math.max(0, Math.min(1, w));
  const mix = (a, b) => Math.round(a + (b - a) * t);
  return `rgb(${mix(247, 8)},${mix(251, 48)},${mix(255, 107)})`;
}

function showTip(event, text) {
  const tip = $('tooltip');
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = `${event.clientX + 12}px`;
  tip.style.top = `${event.clientY + 12}px`;
}
function hideTip() { $('tooltip').hidden = true; }

// ---- models -------------------------------------------------------------------------------

async function loadModels() {
  try {
    const { models } = await api('../v1/models');
    state.models = models;
    const sel = $('model-select');
    sel.replaceChildren(...models.map((m) => new Option(m.name, m.name)));
    selectModel(models[0] ? models[0].name : null);
    $('status').textContent = '';
  } catch (e) {
    $('status').textContent = `Could not list models: ${e.message}`;
    $('status').className = 'error';
  }
}

function selectModel(name) {
  state.model = state.models.find((m) => m.name === name) || null;
  const m = state.model;
  if (!m) return;
  const c = m.config || {};
  const size = ['dModel', 'numHeads', 'nHeads', 'numEncoderLayers', 'numDecoderLayers'].filter((k) => c[k] !== undefined).map((k) => `${k} ${c[k]}`);
  $('model-info').textContent = `task ${m.task}${size.length ? ' · ' + size.join(', ') : ''}`;
  $('input').placeholder = m.task === 'digits' ? '64 pixel values 0-16, comma-separated' : m.task === 'spam' ? 'paste a mail text'
    : m.task === 'forecast' ? 'an origin date, e.g. 1988-06-01' : 'type a word, e.g. hello';
  loadCurves();
}

/** The text box as the task's input: a JSON value when it looks like one, else the text. */
function parseInput(text) {
  const t = text.trim();
  if (state.model && state.model.task === 'digits' && !t.startsWith('[')) return t.split(/[\s,]+/).filter(Boolean).map(Number);
  if (t.startsWith('[') || t.startsWith('{')) {
    try { return JSON.parse(t); } catch { /* plain text */ }
  }
  return t;
}

// ---- predict ------------------------------------------------------------------------------

async function predict(event) {
  event.preventDefault();
  if (!state.model) return;
  const input = parseInput($('input').value);
  const nBest = Number($('n-best').value) || 1;
  $('status').textContent = 'predicting…';
  $('status').className = 'muted';
  try {
    const t0 = performance.now();
    const body = { input, attention: true };
    if (nBest > 1) body.nBest = nBest;
    const res = await api(`../v1/models/${encodeURIComponent(state.model.name)}/predict`, { method: 'POST', body: JSON.stringify(body) });
    $('status').textContent = `${Math.round(performance.now() - t0)} ms`;
    showPrediction(res.predictions[0]);
  } catch (e) {
    $('status').textContent = e.message;
    $('status').className = 'error';
  }
}

/** A forecast task's output: { series, origin, timestamps, point, quantiles, actual, history }. */
function isForecast(o) {
  return o !== null && typeof o === 'object' && Array.isArray(o.timestamps) && Array.isArray(o.point) && o.quantiles && o.history;
}

function fmtOutput(o) {
  if (Array.isArray(o)) return o.join(' ');
  if (typeof o === 'string') return o;
  if (isForecast(o)) return `${o.series}: ${o.point.length} steps from ${o.origin}`;
  return JSON.stringify(o);
}

// ---- forecast chart -----------------------------------------------------------------------

/** Seconds since the epoch (uPlot's time scale) of an ISO date or date-time. */
function seconds(ts) { return Date.parse(ts.length === 10 ? `${ts}T00:00:00Z` : ts) / 1000; }

/**
 * One uPlot chart: x = the context's and the forecast's timestamps; series = actual (the context,
 * then the actual values where known), the median forecast, and the outer quantile levels, with
 * the band between them filled.
 */
function renderForecast(o) {
  if (state.forecastChart) { state.forecastChart.destroy(); state.forecastChart = null; }
  const box = $('forecast-chart');
  box.replaceChildren();
  $('forecast').hidden = !isForecast(o);
  if (!isForecast(o)) return;
  const levels = Object.keys(o.quantiles).sort((a, b) => Number(a) - Number(b));
  const lo = levels[0], hi = levels[levels.length - 1];
  const nHist = o.history.timestamps.length;
  const x = [...o.history.timestamps, ...o.timestamps].map(seconds);
  const pad = (vals) => [...new Array(nHist).fill(null), ...vals];
  const actual = [...o.history.values, ...o.actual];
  const series = [
    { label: 'time' },
    { label: `actual (${o.series})`, stroke: '#222', width: 1.5, spanGaps: false },
    { label: 'median forecast', stroke: '#1f4e9c', width: 2 },
    { label: `q${lo}`, stroke: 'rgba(31,78,156,0.45)', width: 1, dash: [4, 3] },
    { label: `q${hi}`, stroke: 'rgba(31,78,156,0.45)', width: 1, dash: [4, 3] },
  ];
  const opts = {
    width: Math.min(960, Math.max(480, window.innerWidth - 80)), height: 320,
    scales: { x: { time: true } }, series,
    bands: lo === hi ? [] : [{ series: [4, 3], fill: 'rgba(31,78,156,0.15)' }],
  };
  box.dataset.points = String(o.point.length);
  box.dataset.band = `${lo}-${hi}`;
  state.forecastChart = new uPlot(opts, [x, actual, pad(o.point), pad(o.quantiles[lo]), pad(o.quantiles[hi])], box);
}

function showPrediction(p) {
  const out = $('prediction');
  const line = document.createElement('div');
  const label = document.createElement('span');
  label.className = 'muted';
  label.textContent = 'output: ';
  const value = document.createElement('span');
  value.className = 'output';
  value.id = 'output';
  value.textContent = fmtOutput(p.output);
  line.append(label, value);
  out.replaceChildren(line);
  renderForecast(p.output);
  if (p.alternatives && p.alternatives.length > 0) {
    const table = document.createElement('table');
    for (const a of p.alternatives) {
      const tr = table.insertRow();
      tr.insertCell().textContent = fmtOutput(a.output);
      tr.insertCell().textContent = Number(a.score).toFixed(3);
    }
    out.append(table);
  }
  state.maps = p.attention || [];
  state.mapIndex = 0;
  state.head = 0;
  $('attention').hidden = state.maps.length === 0;
  if (state.maps.length === 0) return;
  $('map-select').replaceChildren(...state.maps.map((m, i) => new Option(`${m.name} (${m.kind}, layer ${m.layer})`, String(i))));
  renderAll();
}

// ---- attention views ----------------------------------------------------------------------

function currentMap() { return state.maps[state.mapIndex]; }

function renderAll() {
  const m = currentMap();
  const heads = m.weights.length;
  if (state.head >= heads) state.head = 0;
  $('map-select').value = String(state.mapIndex);
  $('head-select').replaceChildren(...Array.from({ length: heads }, (_, h) => new Option(`head ${h}`, String(h))));
  $('head-select').value = String(state.head);
  $('map-info').textContent = `${m.queryTokens.length} queries × ${m.keyTokens.length} keys, ${heads} heads`;
  renderHeadView();
  renderTokenView();
  renderGrid();
}

/** Heatmap of one head: rows = queries, columns = keys; one rect.cell per weight. */
function renderHeadView() {
  const m = currentMap();
  const w = m.weights[state.head];
  const cell = 26;
  const labelW = 8 + 9 * Math.max(1, ...m.queryTokens.map((t) => String(t).length));
  const labelH = 8 + 8 * Math.max(1, ...m.keyTokens.map((t) => String(t).length));
  const svg = $('head-view');
  svg.replaceChildren();
  svg.setAttribute('width', labelW + cell * m.keyTokens.length + 4);
  svg.setAttribute('height', labelH + cell * m.queryTokens.length + 4);
  svg.dataset.map = m.name;
  svg.dataset.head = String(state.head);
  m.keyTokens.forEach((tok, k) => {
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('class', 'klabel');
    const x = labelW + k * cell + cell / 2 + 4, y = labelH - 4;
    t.setAttribute('transform', `translate(${x},${y}) rotate(-60)`);
    t.textContent = tok;
    svg.append(t);
  });
  m.queryTokens.forEach((tok, q) => {
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('class', 'qlabel');
    t.setAttribute('x', labelW - 6);
    t.setAttribute('y', labelH + q * cell + cell / 2 + 4);
    t.setAttribute('text-anchor', 'end');
    t.textContent = tok;
    svg.append(t);
    w[q].forEach((value, k) => {
      const r = document.createElementNS(SVG, 'rect');
      r.setAttribute('class', 'cell');
      r.setAttribute('x', labelW + k * cell);
      r.setAttribute('y', labelH + q * cell);
      r.setAttribute('width', cell - 1);
      r.setAttribute('height', cell - 1);
      r.setAttribute('fill', colour(value));
      r.dataset.q = String(q);
      r.dataset.k = String(k);
      r.dataset.w = value.toFixed(4);
      r.addEventListener('mousemove', (e) => showTip(e, `${m.queryTokens[q]} → ${m.keyTokens[k]}: ${value.toFixed(3)}`));
      r.addEventListener('mouseleave', hideTip);
      svg.append(r);
    });
  });
}

/** Query tokens on the left, key tokens on the right; hovering a query shades the keys by weight. */
function renderTokenView() {
  const m = currentMap();
  const w = m.weights[state.head];
  const view = $('token-view');
  view.replaceChildren();
  const queries = document.createElement('div');
  const keys = document.createElement('div');
  const keyEls = m.keyTokens.map((tok) => {
    const el = document.createElement('div');
    el.className = 'tok key';
    el.textContent = tok;
    const wEl = document.createElement('span');
    wEl.className = 'w';
    el.append(wEl);
    keys.append(el);
    return { el, wEl };
  });
  m.queryTokens.forEach((tok, q) => {
    const el = document.createElement('div');
    el.className = 'tok query';
    el.textContent = tok;
    el.addEventListener('mouseenter', () => keyEls.forEach(({ el: k, wEl }, j) => {
      k.style.background = colour(w[q][j]);
      k.style.color = w[q][j] > 0.5 ? 'white' : '';
      wEl.textContent = w[q][j].toFixed(3);
    }));
    el.addEventListener('mouseleave', () => keyEls.forEach(({ el: k, wEl }) => { k.style.background = ''; k.style.color = ''; wEl.textContent = ''; }));
    queries.append(el);
  });
  const qh = document.createElement('div'); qh.className = 'muted'; qh.textContent = m.kind === 'cross' ? 'target (query)' : 'query';
  const kh = document.createElement('div'); kh.className = 'muted'; kh.textContent = m.kind === 'cross' ? 'source (key)' : 'key';
  view.append(qh, kh, queries, keys);
}

/** Small multiples: one row per attention module, one column per head. */
function renderGrid() {
  const grid = $('grid');
  grid.replaceChildren();
  const maxHeads = Math.max(...state.maps.map((m) => m.weights.length));
  grid.style.gridTemplateColumns = `auto repeat(${maxHeads}, auto)`;
  state.maps.forEach((m, i) => {
    const label = document.createElement('div');
    label.className = 'row-label';
    label.textContent = `${m.name}`;
    grid.append(label);
    for (let h = 0; h < maxHeads; h++) {
      if (h >= m.weights.length) { grid.append(document.createElement('div')); continue; }
      const px = Math.max(3, Math.min(8, Math.floor(96 / Math.max(m.queryTokens.length, m.keyTokens.length))));
      const svg = document.createElementNS(SVG, 'svg');
      svg.setAttribute('class', 'mini' + (i === state.mapIndex && h === state.head ? ' selected' : ''));
      svg.setAttribute('width', px * m.keyTokens.length);
      svg.setAttribute('height', px * m.queryTokens.length);
      svg.dataset.map = String(i);
      svg.dataset.head = String(h);
      m.weights[h].forEach((row, q) => row.forEach((value, k) => {
        const r = document.createElementNS(SVG, 'rect');
        r.setAttribute('class', 'mini-cell');
        r.setAttribute('x', k * px);
        r.setAttribute('y', q * px);
        r.setAttribute('width', px);
        r.setAttribute('height', px);
        r.setAttribute('fill', colour(value));
        svg.append(r);
      }));
      svg.addEventListener('mousemove', (e) => showTip(e, `${m.name}, head ${h}`));
      svg.addEventListener('mouseleave', hideTip);
      svg.addEventListener('click', () => { state.mapIndex = i; state.head = h; renderAll(); });
      grid.append(svg);
    }
  });
}

// ---- training curves ----------------------------------------------------------------------

function chart(title, x, series, { exponent = false } = {}) {
  const box = document.createElement('div');
  box.className = 'chart';
  box.dataset.chart = title;
  const h = document.createElement('h3');
  h.textContent = title;
  box.append(h);
  $('curves').append(box);
  const palette = ['#1f4e9c', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#0b7285'];
  const opts = {
    width: 420, height: 220,
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, exponent ? { size: 60, values: (_u, vals) => vals.map((v) => v.toExponential(1)) } : {}],
    series: [{ label: 'step' }, ...Object.keys(series).map((name, i) => ({ label: name, stroke: palette[i % palette.length], width: 1.5, spanGaps: true }))],
  };
  state.charts.push(new uPlot(opts, [x, ...Object.values(series)], box));
}

async function loadCurves() {
  for (const c of state.charts) c.destroy();
  state.charts = [];
  $('curves').replaceChildren();
  if (!state.model) return;
  try {
    const t = await api(`../v1/models/${encodeURIComponent(state.model.name)}/training`);
    const hasSteps = t.steps.step.length > 0;
    const hasEvals = t.evals.step.length > 0;
    $('curves-status').textContent = hasSteps || hasEvals ? '' : 'No metrics.jsonl in this model directory.';
    if (hasSteps) {
      chart('training loss', t.steps.step, { loss: t.steps.loss });
      if (t.steps.lr.some((v) => v !== null)) chart('learning rate', t.steps.step, { lr: t.steps.lr }, { exponent: true });
    }
    if (hasEvals) {
      const names = Object.keys(t.evals.series);
      const losses = Object.fromEntries(names.filter((n) => /loss/i.test(n)).map((n) => [n, t.evals.series[n]]));
      const others = Object.fromEntries(names.filter((n) => !/loss/i.test(n)).map((n) => [n, t.evals.series[n]]));
      if (Object.keys(others).length > 0) chart('validation metrics', t.evals.step, others);
      if (Object.keys(losses).length > 0) chart('epoch / validation loss', t.evals.step, losses);
    }
  } catch (e) {
    $('curves-status').textContent = `Could not load training curves: ${e.message}`;
  }
}

// ---- wiring -------------------------------------------------------------------------------

$('predict-form').addEventListener('submit', predict);
$('model-select').addEventListener('change', (e) => selectModel(e.target.value));
$('map-select').addEventListener('change', (e) => { state.mapIndex = Number(e.target.value); renderAll(); });
$('head-select').addEventListener('change', (e) => { state.head = Number(e.target.value); renderAll(); });
$('key-save').addEventListener('click', () => {
  sessionStorage.setItem('heed-api-key', $('api-key').value.trim());
  $('api-key').value = '';
  $('key-box').hidden = true;
  loadModels();
});
loadModels();
