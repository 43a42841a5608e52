#!/bin/sh
# SPDX-License-Identifier: MIT
# ctest's bench/<name>: run one benchmark briefly (a fraction of a second per figure) and fail
# unless it exits 0 and still prints its figure beside the baseline ratio (the word "ratio", or
# the IDE table's IDE/raw column), writes nothing to stderr when stderr is not a terminal (no
# progress line), and with --json prints one JSON document {"bench": NAME, "rows": [...]} with at
# least one row and no text around it (docs/performance.md "JSON output").
# Usage: quick.sh PCITSM NAME
pcitsm=$1 name=$2
if [ "$name" = dma ] && [ -n "${PCITSM_VALGRIND:-}" ]; then
	# The emulated SVA device's bind holds a pidfd of the bound process (lib/sva/iommu.c).
	echo "SKIP: pcitsm runs under valgrind, whose 3.19 answers pidfd_open with ENOSYS"
	exit 77
fi
err=$(mktemp)
trap 'rm -f "$err"' EXIT
out=$("$pcitsm" bench "$name" --seconds 0.05 2>"$err")
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then
	cat "$err" >&2
	echo "bench $name: exit $rc" >&2
	exit 1
fi
if [ -s "$err" ]; then
	cat "$err" >&2
	echo "bench $name: wrote to stderr, which is not a terminal" >&2
	exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq 'ratio|IDE/raw'; then
	echo "bench $name: no figure / baseline ratio in the output" >&2
	exit 1
fi
extra=
[ "$name" = ide ] && extra="--streams 1,4"
# The switch layout (docs/emulated-platform.md "Switches"): 16 and 32 endpoints below 8-port switches.
[ "$name" = scale ] && extra="--switch-ports 8"
# shellcheck disable=SC2086 # extra is two words or none
json=$("$pcitsm" bench "$name" --seconds 0.05 --json $extra 2>"$err")
rc=$?
if [ "$rc" -ne 0 ] || [ -s "$err" ]; then
	cat "$err" >&2
	echo "bench $name --json: exit $rc, or stderr written" >&2
	exit 1
fi
printf '%s\n' "$json" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
name = sys.argv[1]
assert doc["bench"] == name and doc["schema"] == 1, "bench/schema"
assert isinstance(doc["rows"], list) and doc["rows"], "no rows"
assert all(isinstance(r, dict) and r for r in doc["rows"]), "a row is not an object"
if name == "ide":
    s = [r for r in doc["rows"] if r["kind"] == "streams"]
    assert sorted({r["streams"] for r in s}) == [1, 4], "stream counts"
    assert all(r["ratio_to_1"] == 1.0 for r in s if r["streams"] == 1), "1-stream ratio"
    assert all(r["ide_gbps"] > 0 for r in doc["rows"]), "a zero figure"
print("bench %s --json: %d rows" % (name, len(doc["rows"])))
' "$name" || { echo "bench $name --json: not the documented document" >&2; exit 1; }
