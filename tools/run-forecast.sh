#!/usr/bin/env bash
# Forecasting on US daily births (issue 14): the ridge grid and the heed candidates chosen on the
# validation period, the chosen configuration refit on train + valid once per seed (5 seeds: an
# ensemble, its quantiles averaged; chosen on validation, bench/results/forecast-valid-2026-12-05/),
# then the one test evaluation of heed against every baseline; writes
# bench/results/forecast-births-<date>.json. Every training runs one after another (bench/forecast.ts):
#   bash tools/run-forecast.sh [max steps per candidate, default 1500] [seed, default 0] [refit seeds, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-1500}"; seed="${2:-0}"; seeds="${3:-5}"
out="bench/results/forecast-births-$(date -u +%F).json"
node --import tsx bench/forecast.ts --max-steps "$steps" --seed "$seed" --seeds "$seeds" --out "$out" | tee "${out%.json}.log"
