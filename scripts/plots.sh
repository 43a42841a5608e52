#!/bin/sh
# SPDX-License-Identifier: MIT
# `make plots`: run the benchmarks with --json (short runs) and draw their figures with gnuplot
# (scripts/install-deps.sh installs gnuplot-nox) into docs/img/*.png, the pictures
# docs/performance.md shows:
#   bench-ide.png      IDE throughput against payload size, per AES-GCM backend (openssl,
#                      ipsec-mb), beside the raw AES-256-GCM bound of the same backend and run;
#   bench-dma.png      DMA throughput against transfer size, one line per mode `bench dma` emits;
#   bench-connect.png  connect cost (wall and CPU time per connect) against the number of devices
#                      (`bench scale`: 1, 16, 64, 255).
# The JSON documents are kept beside the pictures' inputs in $PLOT_JSON (docs/performance.md
# "JSON output" is their schema).
# Environment: PCITSM (default build/pcitsm), PLOT_SECONDS (per figure, default 0.3),
# PLOT_DMA_SECONDS (bench dma's whole run, default 4), PLOT_OUT (default docs/img),
# PLOT_JSON (default build/plots). Usage: scripts/plots.sh
set -eu
pcitsm=${PCITSM:-build/pcitsm}
secs=${PLOT_SECONDS:-0.3}
dma_secs=${PLOT_DMA_SECONDS:-4}
out=${PLOT_OUT:-docs/img}
json=${PLOT_JSON:-build/plots}
command -v gnuplot >/dev/null || { echo "plots: gnuplot not installed (make deps)" >&2; exit 1; }
[ -x "$pcitsm" ] || { echo "plots: $pcitsm not built (make build)" >&2; exit 1; }
mkdir -p "$out" "$json"

# Rows of a JSON document as whitespace-separated columns: plots.sh table FILE FILTER COLS...
# FILTER is key=value (string compare) or "-"; each COL a row key, or key.sub for a nested figure.
table() {
	python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
flt, cols = sys.argv[2], sys.argv[3:]
for r in doc["rows"]:
    if flt != "-":
        k, v = flt.split("=", 1)
        if str(r.get(k)) != v:
            continue
    vals = []
    for c in cols:
        x = r
        for part in c.split("."):
            x = x[part]
        vals.append(str(x))
    print(" ".join(vals))
PY
}

# --- IDE: throughput against payload, per backend, with the raw AES-GCM bound -----------------
ide_plot=""
for be in openssl ipsec-mb; do
	if "$pcitsm" bench ide --backend "$be" --seconds "$secs" --streams 1 --json \
		>"$json/ide-$be.json" 2>"$json/ide-$be.err"; then
		table "$json/ide-$be.json" kind=single payload ide_gbps raw_gbps >"$json/ide-$be.dat"
		ide_plot="$ide_plot${ide_plot:+, }\"$json/ide-$be.dat\" using 1:2 with linespoints \
title \"IDE, $be\", \"$json/ide-$be.dat\" using 1:3 with lines dashtype 2 \
title \"raw AES-256-GCM bound, $be\""
	else
		echo "plots: bench ide --backend $be failed: $(cat "$json/ide-$be.err")" >&2
	fi
done
[ -n "$ide_plot" ] || { echo "plots: no IDE backend ran" >&2; exit 1; }
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set output "$out/bench-ide.png"
set title "pcitsm bench ide: encrypt + verify-decrypt, 1 core, one TLP per GCM invocation"
set xlabel "payload (bytes)"
set ylabel "throughput (GB/s)"
set logscale x 2
set key top left
set grid
plot $ide_plot
GP

# --- DMA: throughput against transfer size, one line per mode ---------------------------------
"$pcitsm" bench dma --seconds "$dma_secs" --json >"$json/dma.json"
# The modes are the row keys whose value is a figure with "gbps": whatever bench dma emits.
modes=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["rows"][0]
print(" ".join(k for k, v in r.items() if isinstance(v, dict) and "gbps" in v))
' "$json/dma.json")
dma_plot="" col=2 cols=""
for m in $modes; do
	cols="$cols $m.gbps"
	dma_plot="$dma_plot${dma_plot:+, }\"$json/dma.dat\" using (\$1/1024):$col with linespoints \
title \"$m\""
	col=$((col + 1))
done
# shellcheck disable=SC2086 # one column argument per mode
table "$json/dma.json" - size $cols >"$json/dma.dat"
link=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("link", "?"))' \
	"$json/dma.json")
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set output "$out/bench-dma.png"
set title "pcitsm bench dma: emulated SVA device, $link link"
set xlabel "transfer size (KiB)"
set ylabel "throughput (GB/s)"
set logscale xy
set key bottom right
set grid
plot $dma_plot
GP

# --- Connect cost against the number of devices -----------------------------------------------
# bench scale: per device count (1, 16, 64, 255 under one host bridge), the mean time per connect,
# and the CPU time per connect beside it.
"$pcitsm" bench scale --json >"$json/connect.json"
table "$json/connect.json" - devices connect_ms connect_cpu_ms_per_device >"$json/connect.dat"
xmax=$(awk 'BEGIN { m = 1 } $1 > m { m = $1 } END { print m + 1 }' "$json/connect.dat")
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set output "$out/bench-connect.png"
set title "TSM connect (SPDM, IDE_KM, IDE) against the number of devices under one host bridge\\n(bench scale: every device connected, then all disconnected)"
set xlabel "devices"
set ylabel "per connect (ms)"
set key top left
set grid
set yrange [0:*]
set xrange [0:$xmax]
plot "$json/connect.dat" using 1:2 with linespoints pointsize 1.5 title "wall time", \\
     "$json/connect.dat" using 1:3 with linespoints pointsize 1.5 title "CPU time"
GP
echo "plots: $out/bench-ide.png $out/bench-dma.png $out/bench-connect.png"
