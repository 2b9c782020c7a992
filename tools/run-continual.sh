#!/usr/bin/env bash
# Split Fashion-MNIST, class-incremental: every method of the continual task with the same CNN,
# steps and seed, one after another; each run's accuracy matrix is copied to
# bench/results/continual-<date>/<method>.json, and gap.json gives the share of the finetune → joint
# gap each method closes (the goal: ≥ 70% with ≤ 1,000 stored examples).
# Settings are fixed here in advance (not tuned on test):
#   bash tools/run-continual.sh [steps per task, default 100] [width, default 8] [methods, default all] [split, default test]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-100}"; width="${2:-8}"; methods="${3:-finetune replay ace ewc lwf joint}"; split="${4:-test}"
dir="bench/results/continual-$(date -u +%F)"
mkdir -p "$dir"
uptime > "$dir/load.txt"
for method in $methods; do
  out="runs/continual-$method"
  node bin/heed.js train continual --method "$method" --setting class --eval-split "$split" --max-steps "$steps" --width "$width" \
    --batch-size 32 --buffer-size 1000 --progress plain --out "$out" --overwrite | tee "$dir/$method.log"
  cp "$out/continual_results.json" "$dir/$method.json"
done
uptime >> "$dir/load.txt"
node -e '
const fs = require("fs"), dir = process.argv[1];
const acc = (m) => { try { return JSON.parse(fs.readFileSync(`${dir}/${m}.json`, "utf8")).summary.finalAverageAccuracy; } catch { return undefined; } };
const ft = acc("finetune"), joint = acc("joint");
if (ft === undefined || joint === undefined) { console.log("gap: needs finetune and joint"); process.exit(0); }
const gap = {};
for (const m of ["replay", "ace", "ewc", "lwf"]) { const a = acc(m); if (a !== undefined) gap[m] = { averageAccuracy: a, gapClosed: (a - ft) / (joint - ft) }; }
fs.writeFileSync(`${dir}/gap.json`, JSON.stringify({ finetune: ft, joint, methods: gap }, null, 2) + "\n");
for (const [m, g] of Object.entries(gap)) console.log(`${m}: ${(100 * g.averageAccuracy).toFixed(2)}%, closes ${(100 * g.gapClosed).toFixed(1)}% of the finetune → joint gap`);
' "$dir"
