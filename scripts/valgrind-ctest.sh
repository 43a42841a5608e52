#!/bin/sh
# make test-valgrind / test-valgrind-ci: the ctest suite of BUILD (configured with
# -DPCITSM_VALGRIND=ON, so that every program a test runs goes through valgrind memcheck), then
# every memcheck log of the run is read: a test script that expects a program to fail would not
# notice memcheck's exit code, the log still says. docs/security.md "Static analysis and valgrind".
# Usage: valgrind-ctest.sh BUILD NAME [ctest arguments]   (JOBS: ctest -j, default nproc)
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=$1 name=$2
shift 2

rm -rf "$build/valgrind"
mkdir -p "$build/valgrind"
chmod 1777 "$build/valgrind" # pcitsmd_old_kernel runs pcitsm as nobody
cd "$build" || exit 2
t0=$(date +%s)
ctest --output-on-failure -j "${JOBS:-$(nproc)}" -O ctest.log "$@"
rc=$?
"$src/scripts/ctest-skipped.sh" ctest.log "$name"

nlogs=$(find valgrind -name '*.log' | wc -l)
bad=$(grep -l -E 'ERROR SUMMARY: [1-9]' valgrind/*.log 2>/dev/null)
for f in $bad; do
	echo "== memcheck errors in $f:" >&2
	cat "$f" >&2
	rc=1
done
echo "== $name: $nlogs processes under memcheck, $(echo $bad | wc -w) with errors," \
	"$(($(date +%s) - t0)) s"
exit $rc
