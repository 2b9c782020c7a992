#!/usr/bin/env bash
# Validation-only tuning behind tools/run-recommend.sh (2026-12-05): SASRec with the full-softmax
# objective (cross-entropy over all items) instead of SASRec's sampled-negative BCE, dropout 0.3,
# first for a 600-s wall-clock budget (schedule stretched over it), then for 1,500 fixed steps with
# ID embeddings only and with title + genre fusion; each keeps its best checkpoint by validation
# NDCG@10 (100 sampled negatives), and each is then scored on validation overall and on cold items.
# The BCE curve to compare with is bench/results/recommend-valid-2026-12-05/. Reads no test item.
# Writes bench/results/recommend-valid-<date>b/.
#   HEED_NUM_THREADS=1 nice -n 19 bash tools/tune-recommend-valid.sh [data dir]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-${HEED_RECSYS_DIR:-/work/shared/data/recsys}}"
dir="bench/results/recommend-valid-$(date -u +%F)b"
mkdir -p "$dir"
uptime > "$dir/load.txt"
run() { # name, flags...
  local name="$1"; shift
  node bin/heed.js train recommend --data-dir "$data" --objective softmax --dropout 0.3 --log-every 50 --progress plain --out "runs/$name" --overwrite "$@" > "$dir/$name.train.log" 2>&1
  cp "runs/$name/metrics.jsonl" "$dir/$name.metrics.jsonl"
  node bin/heed.js eval "runs/$name" --split valid > "$dir/$name.valid-eval.txt"
  uptime >> "$dir/load.txt"
}
run rec-sm-d03 --time-limit 600 --schedule-by-time true --max-steps 100000 --eval-every 150
run rec-sm-none-1500 --fusion none --max-steps 1500 --time-limit 3000 --eval-every 250
run rec-sm-fus-1500 --fusion attention --max-steps 1500 --time-limit 3000 --eval-every 250
node --import tsx bench/recommend-poprec-valid.ts /work/shared/data/recsys > bench/results/recommend-valid-2026-12-05b/poprec-valid.json
run rec-sm-none-d05 --fusion none --dropout 0.5 --max-steps 1500 --time-limit 3000 --eval-every 250   # the later --dropout overrides 0.3
