#!/bin/sh
# SPDX-License-Identifier: MIT
# Plot `pcitsm bench dma --json` output: throughput against transfer size, one line per mode
# (memcpy, sva, iova, bounce), log-log, as a PNG. Needs gnuplot (scripts/install-deps.sh).
# Usage: scripts/plot-dma.sh BENCH.json OUT.png
set -eu
in=$1 out=$2
dat=$(mktemp)
trap 'rm -f "$dat"' EXIT
python3 - "$in" >"$dat" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["rows"]:
    print(r["size"] // 1024, *(r[m]["gbps"] for m in ("memcpy", "sva", "iova", "bounce")))
PY
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set output "$out"
set title "pcitsm bench dma: emulated SVA device, plaintext link"
set xlabel "transfer size (KiB)"
set ylabel "throughput (GB/s)"
set logscale xy
set key top left
set grid
plot "$dat" using 1:2 with linespoints title "memcpy (bound)", \
     "$dat" using 1:3 with linespoints title "SVA (malloc'ed pointers)", \
     "$dat" using 1:4 with linespoints title "IOVA (registered buffers)", \
     "$dat" using 1:5 with linespoints title "bounce buffers"
GP
