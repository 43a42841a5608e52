#!/bin/sh
# Run each libFuzzer target for a few seconds, starting from its corpus in tests/fuzz/corpus/<target>.
# New inputs go to a scratch directory; copy the interesting ones into the corpus by hand.
set -eu
builddir=${1:-build-fuzz}
seconds=${2:-30}
out=${FUZZ_OUT:-$builddir/fuzz-out}
status=0
for bin in "$builddir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz_//')
	mkdir -p "$out/$name"
	echo "== $name ($seconds s)"
	if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 "$out/$name" \
		"tests/fuzz/corpus/$name" 2>"$out/$name.log"; then
		echo "fuzz: $name FAILED, see $out/$name.log"
		status=1
	fi
	grep -E 'stat::number_of_executed_units|stat::new_units_added' "$out/$name.log" || true
done
exit $status
