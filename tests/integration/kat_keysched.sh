#!/bin/bash
# The committed SPDM key-schedule known answers (tests/kat/spdm_keysched_kat.h, compared by
# tests/unit/test_session_keys.c) are exactly what tests/kat/spdm_keysched.py computes now from the
# specification with Python's hashlib and hmac: a change to either side shows up here.
set -euo pipefail
src=${PCITSM_SRC:?PCITSM_SRC is not set}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
python3 "$src/tests/kat/spdm_keysched.py" > "$tmp"
if ! diff -u "$src/tests/kat/spdm_keysched_kat.h" "$tmp"; then
	echo "kat_keysched: tests/kat/spdm_keysched_kat.h differs from the script's output" >&2
	exit 1
fi
echo "kat_keysched: $(grep -c '\.name = ' "$tmp") key schedules match"
