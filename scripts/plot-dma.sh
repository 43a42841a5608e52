#!/bin/sh
# SPDX-License-Identifier: MIT
# Plot `pcitsm bench dma --json` output: throughput against transfer size, one line per mode
# (memcpy; sva, iova, bounce over the plaintext link; the same over the IDE-encrypted link),
# log-log, as a PNG. Needs gnuplot (scripts/install-deps.sh).
# Usage: scripts/plot-dma.sh BENCH.json OUT.png
set -eu
in=$1 out=$2
dat=$(mktemp)
trap 'rm -f "$dat"' EXIT
python3 - "$in" >"$dat" <<'PY'
import json, sys
modes = ("memcpy", "sva", "iova", "bounce", "sva_ide", "iova_ide", "bounce_ide")
for r in json.load(open(sys.argv[1]))["rows"]:
    print(r["size"] // 1024, *(r[m]["gbps"] for m in modes))
PY
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set output "$out"
set title "pcitsm bench dma: emulated SVA device, DMA as TLPs (MPS 4096)"
set xlabel "transfer size (KiB)"
set ylabel "throughput (GB/s)"
set logscale xy
set key top left
set grid
plot "$dat" using 1:2 with linespoints lw 2 title "memcpy (bound)", \
     "$dat" using 1:3 with linespoints title "SVA, plaintext link", \
     "$dat" using 1:4 with linespoints title "IOVA, plaintext link", \
     "$dat" using 1:5 with linespoints title "bounce, plaintext link", \
     "$dat" using 1:6 with linespoints dt 2 title "SVA, IDE link", \
     "$dat" using 1:7 with linespoints dt 2 title "IOVA, IDE link", \
     "$dat" using 1:8 with linespoints dt 2 title "bounce, IDE link"
GP
