#!/bin/sh
# SPDX-License-Identifier: MIT
# ctest's bench/<name>: run one benchmark briefly (a fraction of a second per figure) and fail
# unless it exits 0 and still prints its figure beside the baseline ratio (the word "ratio", or
# the IDE table's IDE/raw column). Usage: quick.sh PCITSM NAME
pcitsm=$1 name=$2
if [ "$name" = dma ] && [ -n "${PCITSM_VALGRIND:-}" ]; then
	# The emulated SVA device's bind holds a pidfd of the bound process (lib/sva/iommu.c).
	echo "SKIP: pcitsm runs under valgrind, whose 3.19 answers pidfd_open with ENOSYS"
	exit 77
fi
out=$("$pcitsm" bench "$name" --seconds 0.05 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then
	echo "bench $name: exit $rc" >&2
	exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq 'ratio|IDE/raw'; then
	echo "bench $name: no figure / baseline ratio in the output" >&2
	exit 1
fi
