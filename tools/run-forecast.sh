#!/usr/bin/env bash
# Forecasting on US daily births (issue 14): the ridge grid and the heed candidates chosen on the
# validation period (with and without the holiday features), the hybrid weight of the ridge chosen
# on validation, the chosen configuration refit on train + valid once per seed (an ensemble, its
# quantiles averaged), then the one test evaluation of heed against every baseline; writes
# bench/results/forecast-births-<date><suffix>.json and its .log (bench/forecast.ts).
#   bash tools/run-forecast.sh [max steps per candidate, default 1500] [seed, default 0] [refit seeds, default 5] [refits at once, default 1] [file suffix]
# Candidates already trained with the same flags in runs/forecast-bench/ are reused (--reuse).
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-1500}"; seed="${2:-0}"; seeds="${3:-5}"; parallel="${4:-1}"; suffix="${5:-}"
out="bench/results/forecast-births-$(date -u +%F)${suffix}.json"
node --import tsx bench/forecast.ts --max-steps "$steps" --seed "$seed" --seeds "$seeds" --parallel "$parallel" --reuse --out "$out" | tee "${out%.json}.log"
