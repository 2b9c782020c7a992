#!/usr/bin/env bash
# Fashion-MNIST: the CNN with CBAM attention, the same CNN without attention, and the ViT, each
# trained for the same wall-clock budget (default 600 s) with the schedule stretched over it; the
# checkpoint kept is the best on valid, then each is scored once on test. Logs and eval JSON go to
# bench/results/fashion-<date>/.
#   bash tools/run-fashion.sh [seconds, default 600] [configs, default "cbam none vit"]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"; configs="${2:-cbam none vit}"
dir="bench/results/fashion-$(date -u +%F)"
mkdir -p "$dir"
for cfg in $configs; do
  out="runs/fashion-$cfg"
  if [ "$cfg" = vit ]; then arch=(--architecture vit --width 64 --depth 4); else arch=(--attention "$cfg" --width 16); fi
  uptime >> "$dir/load.txt"
  node bin/heed.js train fashion "${arch[@]}" --time-limit "$seconds" --schedule-by-time true --max-steps 100000 \
    --eval-every 200 --progress plain --out "$out" --overwrite > "$dir/$cfg.train.log" 2>&1
  node bin/heed.js eval "$out" --split test --json > "$dir/$cfg.test.json"
  uptime >> "$dir/load.txt"
done
