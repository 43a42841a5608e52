#!/bin/sh
# SPDX-License-Identifier: MIT
# After ctest -O LOG: print one clear line with how many tests reported themselves skipped in
# this build (exit 77: a tool, a kernel feature or a check this build cannot have), and which.
# Usage: ctest-skipped.sh LOG BUILD-NAME
log=$1 build=$2
names=$(grep -E '^[[:space:]]*[0-9]+ - .* \(Skipped\)' "$log" 2>/dev/null |
	sed -E 's/^[[:space:]]*[0-9]+ - ([^ ]+) \(Skipped\).*/\1/' | sort -u)
n=$(printf '%s' "$names" | grep -c . || true)
if [ "$n" -eq 0 ]; then
	echo "== $build: 0 tests skipped"
else
	echo "== $build: $n tests skipped: $(echo $names)"
fi
