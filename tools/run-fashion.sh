#!/usr/bin/env bash
# Fashion-MNIST (issue 14, "Images: CNN + attention"): the CNN with attention, the same CNN without
# attention, and the ViT, trained ONE AFTER ANOTHER (never in parallel: each run has the machine to
# itself) for the same wall-clock budget, the learning-rate schedule stretched over it
# (--schedule-by-time). Each run keeps its best-on-valid checkpoint (5,000 held-out training
# images), which is then scored on valid and, once, on the official 10,000 test images.
#
#   bash tools/run-fashion.sh [seconds, default 600] [configs, default "se none vit"] [out dir]
#
# Writes <out dir> (default bench/results/fashion-<UTC date>/): <cfg>.train.log (the training log:
# steps, images/s, valid accuracy per eval), <cfg>.valid.json and <cfg>.test.json (heed eval),
# <cfg>.trainer_state.json (steps, seconds, best step), <cfg>.metrics.jsonl (the logged curve), and load.txt (uptime before and after each run).
# configs: se | cbam | mhsa | none (the CNN with that attention) | vit.
# The recipe was chosen on the validation split by tools/sweep-fashion.sh (300-step runs, raw results in
# bench/results/fashion-sweep-2026-12-05/summary.tsv); the three models share it: batch, optimizer,
# schedule, warmup, weight decay, label smoothing, augmentation and evaluation cadence. Only the
# architecture's own flags differ (the ViT keeps its learning rate and dropout, which the sweep did not cover).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"; configs="${2:-se none vit}"
dir="${3:-bench/results/fashion-$(date -u +%F)}"
mkdir -p "$dir"
[ -d dist ] || npm run build >/dev/null
common=(--time-limit "$seconds" --schedule-by-time true --max-steps 1000000 --eval-every 500 --log-every 50 --progress plain --overwrite)
recipe=(--batch-size 128 --schedule cosine --warmup-steps 100 --weight-decay 0.05 --label-smoothing 0.1 --augment-shift 1 --augment-flip 0)
# CNN: 2 stages of [conv3×3 → BN → ReLU] × 2 (32 then 64 channels), attention, maxpool; GAP → linear.
cnn=(--width 32 --depth 2 --lr 5e-3 --dropout 0.1)
vit=(--architecture vit --width 64 --depth 4 --patch-size 4 --num-heads 4 --lr 1e-3 --dropout 0.1)
for cfg in $configs; do
  case "$cfg" in
    vit) args=("${recipe[@]}" "${vit[@]}") ;;
    se|cbam|mhsa|none) args=("${recipe[@]}" "${cnn[@]}" --attention "$cfg") ;;
    *) echo "run-fashion: unknown config '$cfg'; expected se, cbam, mhsa, none or vit." >&2; exit 2 ;;
  esac
  out="runs/fashion-$cfg"
  { echo "$cfg start $(date -u +%FT%TZ)"; uptime; } >> "$dir/load.txt"
  node bin/heed.js train fashion "${args[@]}" "${common[@]}" --out "$out" > "$dir/$cfg.train.log" 2>&1
  { echo "$cfg end $(date -u +%FT%TZ)"; uptime; } >> "$dir/load.txt"
  cp "$out/last/trainer_state.json" "$dir/$cfg.trainer_state.json"
  cp "$out/metrics.jsonl" "$dir/$cfg.metrics.jsonl"
  node bin/heed.js eval "$out" --split valid --json > "$dir/$cfg.valid.json"
  node bin/heed.js eval "$out" --split test --json > "$dir/$cfg.test.json"
done
echo "run-fashion: results in $dir"
