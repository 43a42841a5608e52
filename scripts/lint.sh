#!/bin/sh
# make lint: cppcheck and clang-tidy over lib/ src/ bench/ examples/ with the compile commands of
# a configured build (docs/security.md "Static analysis and valgrind"). Any finding fails.
# Usage: lint.sh BUILD_DIR [cppcheck|clang-tidy]...   (both when none is named)
# JOBS (default: nproc) sets the parallelism of both tools.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
tools=${*:-cppcheck clang-tidy}
jobs=${JOBS:-$(nproc)}
out="$build/lint"

if [ ! -f "$build/compile_commands.json" ]; then
	echo "lint: $build/compile_commands.json missing: configure the build first" >&2
	exit 2
fi
mkdir -p "$out"

# One entry per source file of the four trees: the test programs compile src/pcitsmd/ again,
# and the tests themselves are not linted.
python3 - "$src" "$build/compile_commands.json" "$out/compile_commands.json" <<'EOF'
import json, os, sys
src, db, dst = sys.argv[1:]
seen, keep = set(), []
for e in json.load(open(db)):
    rel = os.path.relpath(os.path.join(e["directory"], e["file"]), src)
    if rel.split(os.sep)[0] in ("lib", "src", "bench", "examples") and rel not in seen:
        seen.add(rel)
        keep.append(e)
json.dump(keep, open(dst, "w"), indent=1)
print(f"lint: {len(keep)} source files")
EOF

rc=0
for tool in $tools; do
	t0=$(date +%s)
	case $tool in
	cppcheck)
		# --inline-suppr is not given: every suppression is in the one file, with its reason.
		cppcheck --project="$out/compile_commands.json" -j "$jobs" --quiet --std=c11 \
			--enable=warning,performance,portability --error-exitcode=1 \
			--library="$src/tests/lint/cppcheck-json-c.cfg" \
			--suppressions-list="$src/tests/lint/cppcheck-suppressions.txt" \
			--template='{file}:{line}: {severity}: {message} [{id}]' || rc=1
		;;
	clang-tidy)
		# The checks are in .clang-tidy (found beside the sources); every warning is an error.
		# gcc's flags that clang lacks are ignored rather than reported.
		run-clang-tidy -quiet -j "$jobs" -p "$out" \
			-extra-arg=-Wno-unknown-warning-option >"$out/clang-tidy.log" 2>&1 ||
			rc=1
		# clang-tidy colours its output even into a file: plain text, one line per finding.
		sed 's/\x1b\[[0-9;]*m//g' "$out/clang-tidy.log" | grep -E '(warning|error):' |
			sort -u || true
		;;
	*)
		echo "lint: unknown tool $tool" >&2
		exit 2
		;;
	esac
	echo "lint: $tool $(($(date +%s) - t0)) s"
done
[ $rc -eq 0 ] && echo "lint: clean" || echo "lint: FAILED (findings above)" >&2
exit $rc
