#!/usr/bin/env bash
# Validation-only selection for issue 14 part 3 (fusion that helps cold items), 2026-12-05: SASRec
# with the settings of tools/run-recommend.sh (full softmax, dropout 0.5, lr 1e-3, 1,500 steps,
# seed 0), ID-only and with title + genre fusion, the fusion run with item-ID dropout
# (--id-dropout p: each training step, each item's ID embedding is zeroed with probability p, so the
# model learns to rank from titles and genres alone; DropoutNet, Volkovs et al. 2017) and/or
# content-only rare items (--content-only-below k: at evaluation, items with < k train interactions
# use no ID embedding; with --content-only-in-training true, in training too). Each run keeps its
# best checkpoint by validation NDCG@10, then `heed eval --split valid` scores it overall and on
# cold items; bench/recommend-cold.ts compares the checkpoints with paired standard errors (and can
# apply the evaluation gate to any fused checkpoint: dir#cob=k). Reads no test item.
# Writes bench/results/recommend-cold-valid-<date>/<name>.{train.txt,metrics.jsonl,valid-eval.txt} and load.txt.
#   HEED_NUM_THREADS=1 nice -n 19 bash tools/tune-recommend-cold.sh "<name>=<flags>" ...
#   the 2026-12-05 runs: "none=--fusion none" "idd05=--fusion attention --id-dropout 0.5"
#     "cob10=--fusion attention --content-only-below 10 --content-only-in-training true"
#     "idd03-cob10=--fusion attention --id-dropout 0.3 --content-only-below 10 --content-only-in-training true"
#   (the last two were made before --content-only-in-training existed, when the gate always applied in training)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${HEED_RECSYS_DIR:-/work/shared/data/recsys}"
dir="bench/results/recommend-cold-valid-$(date -u +%F)"
mkdir -p "$dir"
for spec in "$@"; do
  name="${spec%%=*}"; flags="${spec#*=}"
  echo "$name start $(uptime)" >> "$dir/load.txt"
  # shellcheck disable=SC2086
  node bin/heed.js train recommend --data-dir "$data" --objective softmax --dropout 0.5 --lr 0.001 --max-steps 1500 \
    --time-limit 3000 --eval-every 250 --log-every 50 --seed 0 --progress plain --out "runs/cold-$name" --overwrite $flags > "$dir/$name.train.txt" 2>&1
  cp "runs/cold-$name/metrics.jsonl" "$dir/$name.metrics.jsonl"
  node bin/heed.js eval "runs/cold-$name" --split valid > "$dir/$name.valid-eval.txt"
  echo "$name end   $(uptime)" >> "$dir/load.txt"
done
