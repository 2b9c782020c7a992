#!/usr/bin/env bash
# Fashion-MNIST recipe sweep on the VALIDATION split (issue 14): short runs of the CNN + SE at an
# equal number of steps (not seconds: the shared machine's load changes the steps a second buys),
# each with its learning-rate schedule over those steps, scored on the 5,000 held-out training
# images. Test is never read here; tools/run-fashion.sh takes the chosen recipe.
#
#   bash tools/sweep-fashion.sh [steps, default 300] [parallel jobs, default 3] [names...]
#
# Writes bench/results/fashion-sweep-<UTC date>/<name>.train.log and <name>.metrics.jsonl (the
# last line is the valid evaluation), and summary.tsv (name, steps, valid accuracy, macro F1, CPU s).
# Each run uses one thread (HEED_NUM_THREADS=1) at nice 19, so several share the machine. A name may
# combine recipes with '+', e.g. noflip+lr5e-3.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300}"; jobs="${2:-3}"; shift $(( $# >= 2 ? 2 : $# )) || true
dir="${SWEEP_DIR:-bench/results/fashion-sweep-$(date -u +%F)}"
mkdir -p "$dir"
# name → the flags that differ from the base recipe (tools/run-fashion.sh's CNN flags before this sweep)
declare -A recipe=(
  [base]=""
  [lr5e-3]="--lr 5e-3"
  [lr1.5e-3]="--lr 1.5e-3"
  [noflip]="--augment-flip 0"
  [shift1]="--augment-shift 1"
  [shift0]="--augment-shift 0 --augment-flip 0"
  [drop0.1]="--dropout 0.1"
  [linear]="--schedule linear"
  [wd0.01]="--weight-decay 0.01"
  [ls0]="--label-smoothing 0"
  [seed1]="--seed 1"
  [b64]="--batch-size 64 --max-steps $((2 * steps)) --eval-every $((2 * steps))"
  [w48]="--width 48 --max-steps $((steps / 2)) --eval-every $((steps / 2))"
)
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(base lr5e-3 lr1.5e-3 noflip shift1 drop0.1 linear b64 w48)
base=(--attention se --width 32 --depth 2 --batch-size 128 --lr 3e-3 --warmup-steps $((steps / 10)) --weight-decay 0.05 --label-smoothing 0.1
      --augment-shift 2 --augment-flip 0.5 --dropout 0.2 --max-steps "$steps" --eval-every "$steps" --log-every 50 --progress plain --overwrite)
# A name may join several recipes with '+' (noflip+lr5e-3): their flags in turn, a later one winning.
flagsOf() {
  local part flags="" IFS=+
  for part in $1; do
    [ -n "${recipe[$part]+x}" ] || { echo "sweep-fashion: unknown recipe '$part' in '$1'; known: $(IFS=" "; echo "${!recipe[*]}")" >&2; return 2; }
    flags="$flags ${recipe[$part]}"
  done
  echo "$flags"
}
run() {
  local name="$1" flags
  flags=$(flagsOf "$name") || return 2
  local out="runs/sweep-fashion-$name" t0 t1
  t0=$(date +%s)
  # shellcheck disable=SC2086
  /usr/bin/time -f "%U %S" -o "$dir/$name.cpu" env HEED_NUM_THREADS=1 nice -n 19 node bin/heed.js train fashion "${base[@]}" $flags --out "$out" > "$dir/$name.train.log" 2>&1
  t1=$(date +%s)
  cp "$out/metrics.jsonl" "$dir/$name.metrics.jsonl"
  node -e '
    const fs = require("fs"); const [dir, name, wall] = process.argv.slice(1);
    const lines = fs.readFileSync(`${dir}/${name}.metrics.jsonl`, "utf8").trim().split("\n").map(JSON.parse);
    const ev = lines.filter((l) => l.type === "eval").pop(); const [u, s] = fs.readFileSync(`${dir}/${name}.cpu`, "utf8").trim().split(/\s+/).map(Number);
    fs.appendFileSync(`${dir}/summary.tsv`, [name, ev.step, ev.accuracy.toFixed(4), ev.macroF1.toFixed(4), (u + s).toFixed(0), wall].join("\t") + "\n");
  ' "$dir" "$name" "$((t1 - t0))"
}
[ -s "$dir/summary.tsv" ] || printf 'name\tsteps\tvalid_accuracy\tvalid_macroF1\tcpu_s\twall_s\n' > "$dir/summary.tsv"
{ echo "sweep start $(date -u +%FT%TZ) steps $steps"; uptime; } >> "$dir/load.txt"
for name in "${names[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 5; done
  run "$name" &
done
wait
{ echo "sweep end $(date -u +%FT%TZ)"; uptime; } >> "$dir/load.txt"
echo "sweep-fashion: results in $dir/summary.tsv"
