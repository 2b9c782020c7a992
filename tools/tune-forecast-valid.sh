#!/usr/bin/env bash
# Validation-only tuning behind tools/run-forecast.sh (2026-12-05): the task's default config
# (56 weeks of context in 4-week patches) trained with seeds 0, 1, 2 and a 104-week context
# (--context-length 728), each 1,500 steps keeping its best checkpoint by validation MASE; then
# each model and the 3-seed ensemble scored on the validation period split into its two years
# against the ridge (bench/forecast-drift.ts). Reads no test data.
# Writes bench/results/forecast-valid-<date>/ (metrics.jsonl per run, drift-*.json).
#   HEED_NUM_THREADS=1 nice -n 19 bash tools/tune-forecast-valid.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir="bench/results/forecast-valid-$(date -u +%F)"
mkdir -p "$dir"
uptime > "$dir/load.txt"
train() { # name, flags...
  local name="$1"; shift
  node bin/heed.js train forecast --max-steps 1500 --eval-every 250 --progress none --out "runs/fc-$name" --overwrite "$@" > "$dir/fc-$name.train.log" 2>&1
  cp "runs/fc-$name/metrics.jsonl" "$dir/fc-$name.metrics.jsonl"
}
for s in 0 1 2; do train "s$s" --seed "$s"; done
train ctx728 --seed 0 --context-length 728 --patch-length 28 --patch-stride 28
for s in 0 1 2; do node --import tsx bench/forecast-drift.ts "runs/fc-s$s" --out "$dir/drift-s$s.json"; done
node --import tsx bench/forecast-drift.ts runs/fc-s0,runs/fc-s1,runs/fc-s2 --out "$dir/drift-ensemble-s0-s2.json"
uptime >> "$dir/load.txt"
