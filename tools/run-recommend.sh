#!/usr/bin/env bash
# Next-item recommendation on MovieTweetings 100K (issue 14): SASRec with ID embeddings only, then
# SASRec with title + genre fusion, each trained for the same wall-clock budget (default 540 s,
# the schedule stretched over it, the checkpoint kept the best on the validation item), one after
# another; then bench/recommend.ts trains PopRec and BPR-MF (chosen on valid) and scores every model
# once on test under SASRec's 100-negative protocol and full ranking, overall and on cold items.
# Writes bench/results/recommend-<date>.json (+ the two training logs and metrics).
#   bash tools/run-recommend.sh [seconds per model, default 540] [objective bce|softmax, default bce] [data dir]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-540}"; objective="${2:-bce}"; data="${3:-${HEED_RECSYS_DIR:-/work/shared/data/recsys}}"
dir="bench/results/recommend-$(date -u +%F)"
mkdir -p "$dir"
uptime > "$dir/load.txt"
for fusion in none attention; do
  out="runs/recommend-$fusion"
  node bin/heed.js train recommend --data-dir "$data" --fusion "$fusion" --objective "$objective" --time-limit "$seconds" --schedule-by-time true \
    --max-steps 100000 --eval-every 200 --progress plain --out "$out" --overwrite > "$dir/sasrec-fusion-$fusion.train.log" 2>&1
  cp "$out/metrics.jsonl" "$dir/sasrec-fusion-$fusion.metrics.jsonl"
  uptime >> "$dir/load.txt"
done
node --import tsx bench/recommend.ts --data-dir "$data" --model sasrec=runs/recommend-none --model sasrec+fusion=runs/recommend-attention \
  --out "bench/results/recommend-$(date -u +%F).json" | tee "$dir/bench.log"
uptime >> "$dir/load.txt"
