#!/bin/bash
cd /work/wt/attn
for i in 1 2; do
  for v in old new; do
    echo "$(date -u +%H:%M:%S) $v round $i $(uptime)" >> /tmp/roof/uptime.txt
    HEED_NATIVE_PATH=/tmp/heed-$v.node nice -n 19 node --import tsx bench/attention-roofline-cpu.ts --threads 1,2 --rounds 5 --fwd 1024,2048,4096 --bwd 128,256,512 --out /tmp/roof/$v-$i.json > /tmp/roof/$v-$i.log 2>&1
  done
done
echo "$(date -u +%H:%M:%S) end $(uptime)" >> /tmp/roof/uptime.txt
