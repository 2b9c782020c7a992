#!/usr/bin/env bash
# Next-item recommendation on MovieTweetings 100K (issue 14): SASRec with ID embeddings only, then
# SASRec with title + genre fusion, one after another, each for a fixed number of steps (default
# 1500, ≈ 40 epochs; cosine schedule over them; the checkpoint kept is the best on the validation
# item, evaluated every 250 steps), with the settings chosen on validation (2026-12-05,
# bench/results/recommend-valid-2026-12-05b/): the full-softmax objective (cross-entropy over all
# items), dropout 0.5, lr 1e-3, d 64, 2 blocks, max length 50. Then bench/recommend.ts trains PopRec
# and BPR-MF (chosen on valid) and scores every model once on test under SASRec's 100-negative
# protocol and full ranking, overall and on cold items.
# Writes bench/results/recommend-<date>.json (+ the two training logs and metrics).
#   bash tools/run-recommend.sh [steps per model, default 1500] [objective softmax|bce, default softmax] [data dir]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-1500}"; objective="${2:-softmax}"; data="${3:-${HEED_RECSYS_DIR:-/work/shared/data/recsys}}"
dir="bench/results/recommend-$(date -u +%F)"
mkdir -p "$dir"
uptime > "$dir/load.txt"
for fusion in none attention; do
  out="runs/recommend-$fusion"
  # --time-limit is a safety bound only (a quiet core needs ~5 min for ID-only, ~8 min with fusion)
  node bin/heed.js train recommend --data-dir "$data" --fusion "$fusion" --objective "$objective" --dropout 0.5 --lr 0.001 \
    --max-steps "$steps" --time-limit 2400 --eval-every 250 --progress plain --out "$out" --overwrite > "$dir/sasrec-fusion-$fusion.train.log" 2>&1
  cp "$out/metrics.jsonl" "$dir/sasrec-fusion-$fusion.metrics.jsonl"
  uptime >> "$dir/load.txt"
done
node --import tsx bench/recommend.ts --data-dir "$data" --model sasrec=runs/recommend-none --model sasrec+fusion=runs/recommend-attention \
  --out "bench/results/recommend-$(date -u +%F).json" | tee "$dir/bench.log"
uptime >> "$dir/load.txt"
