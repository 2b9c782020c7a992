#!/usr/bin/env bash
# WNUT-17 NER, dev split: `heed train tag` from scratch on wnut17train.conll for a wall-clock
# budget (default 1800 s, the issue's 30 minutes) with the schedule stretched over it, then one
# `heed eval --split valid`. Writes bench/results/wnut17-dev-<date>.json: the commands, the
# resolved config, the training log, every validation, the dev report and metrics, and `uptime`
# before and after (the machine is shared). Dev only: the test split is held back on purpose.
#   bash tools/run-wnut.sh [seconds, default 1800] [extra heed train flags...]
#
# FLAGS are the best of short (≈ 3 min, nice'd, load 20-28) dev runs on 2026-12-05, listed in
# bench/results/wnut17-sweep-2026-12-05.txt; see BENCHMARKS.md "WNUT-17 NER, dev split".
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-1800}"; shift || true
data="${WNUT_DATA:-../shared/data/ner}"
out="${WNUT_OUT:-runs/wnut17}"
raw="bench/results/wnut17-dev-$(date -u +%F).json"
FLAGS=(--d-model 64 --dim-feedforward 256 --lr 3e-3 --warmup-steps 50 --dropout 0.1 --batch-size 16)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
train=(node bin/heed.js train tag --train "$data/wnut17train.conll.gz" --valid "$data/emerging.dev.conll.gz"
  --time-limit "$seconds" --schedule-by-time true --max-steps 1000000 --eval-every 1000 --log-every 100 --progress plain
  "${FLAGS[@]}" "$@" --out "$out" --overwrite)
evalc=(node bin/heed.js eval "$out" --split valid)
{ uptime; date -u; } > "$tmp/start"
"${train[@]}" 2>&1 | tee "$tmp/train.log"
"${evalc[@]}" > "$tmp/dev.txt"
"${evalc[@]}" --json > "$tmp/dev.json"
{ uptime; date -u; } > "$tmp/end"
mkdir -p bench/results
node - "$tmp" "$out" "$raw" "${train[*]}" "${evalc[*]}" <<'JS'
const fs = require('node:fs');
const [tmp, out, raw, command, evalCommand] = process.argv.slice(2);
const read = (f) => fs.readFileSync(f, 'utf8');
const lines = (f) => read(f).split('\n').filter((l) => l.trim() !== '');
const dev = JSON.parse(read(`${tmp}/dev.json`));
const record = {
  what: 'heed train tag on WNUT-17 (train → dev), from scratch; dev only: the test split is held back (see ../shared/data/ner/README.md)',
  command: command.replace(/^node bin\/heed\.js/, 'heed'),
  evalCommand: evalCommand.replace(/^node bin\/heed\.js/, 'heed'),
  machine: { start: read(`${tmp}/start`).trim(), end: read(`${tmp}/end`).trim(), cpus: require('node:os').cpus().length },
  config: JSON.parse(read(`${out}/config.json`)).config,
  trainingLog: lines(`${tmp}/train.log`),
  validationEvals: lines(`${out}/metrics.jsonl`).map((l) => JSON.parse(l)).filter((r) => r.type === 'eval'),
  devReport: lines(`${tmp}/dev.txt`),
  devMetrics: dev.metrics ?? dev,
};
fs.writeFileSync(raw, JSON.stringify(record, null, 1) + '\n');
console.log(`wrote ${raw}: dev F1 ${(100 * record.devMetrics.f1).toFixed(2)}`);
JS
