#!/bin/bash
# Alternates the base tree (/work/main = 252cec9, head split/merge by permute) and this branch, 1 thread.
for i in 1 2 3; do
  for arm in base attn; do
    dir=/work/main; [ $arm = attn ] && dir=/work/wt/attn
    uptime > /tmp/attn-ab/$arm-$i.uptime
    (cd $dir && HEED_QUIET=1 nice -n 19 node --import tsx bench/train-fusion-ab.ts --threads 1 --rounds 5 --out /tmp/attn-ab/$arm-$i.json > /tmp/attn-ab/$arm-$i.txt 2>&1)
  done
done
