#!/usr/bin/env bash
# Split Fashion-MNIST, class-incremental: every method of the continual task with the same CNN,
# steps and seed; each run's accuracy matrix is copied to bench/results/continual-<date>/<method>.json.
# Settings are fixed here in advance (not tuned on test):
#   bash tools/run-continual.sh [steps per task, default 100] [width, default 8] [methods, default all]
# Methods given as one space-separated argument may run as parallel invocations.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-100}"; width="${2:-8}"; methods="${3:-finetune replay ewc lwf joint}"
dir="bench/results/continual-$(date -u +%F)"
mkdir -p "$dir"
for method in $methods; do
  out="runs/continual-$method"
  node bin/heed.js train continual --method "$method" --setting class --eval-split test --max-steps "$steps" --width "$width" \
    --batch-size 32 --buffer-size 1000 --progress plain --out "$out" --overwrite | tee "$dir/$method.log"
  cp "$out/continual_results.json" "$dir/$method.json"
done
uptime >> "$dir/load.txt"
