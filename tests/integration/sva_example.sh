#!/bin/bash
# The SVA example driver (examples/sva_copy.c) against pcitsmd's emulated SVA devices: malloc'ed
# buffers copied, compared, filled and checksummed by the device through plain pointers, each
# result checked by the program; two processes at once on two devices get different PASIDs; a bind
# that cannot succeed fails with EINVAL as uio_pci_sva's open() does, and says why; the daemon
# stops cleanly with the devices in use. docs/sva.md shows this output.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
if [ -n "${PCITSM_VALGRIND:-}" ]; then
	# The daemon's SVA bind holds a pidfd of the bound process (lib/sva/iommu.c).
	echo "SKIP: pcitsmd runs under valgrind, whose 3.19 answers pidfd_open with ENOSYS"
	exit 77
fi

# --sva-devices is 1..8
rc=0; pcitsmd --foreground --sva-socket "$tmp/x.sock" --sva-devices 9 "$tmp" 2>"$tmp/o.txt" || rc=$?
[ "$rc" -eq 2 ] && grep -q "sva-devices" "$tmp/o.txt" || fail "--sva-devices 9 exited $rc"

pcitsmd_mount --sva-socket "$tmp/sva.sock" --sva-devices 2
[ -S "$tmp/sva.sock" ] || fail "no SVA socket"

sva_copy --socket "$tmp/sva.sock" --device 0 --size 4194304 >"$tmp/a.txt" 2>&1 ||
	{ cat "$tmp/a.txt"; fail "sva_copy"; }
cat "$tmp/a.txt"
grep -q "^bound: PASID [1-9][0-9]*$" "$tmp/a.txt" || fail "no PASID line"
grep -q "^copy    4194304 bytes: success, destination matches$" "$tmp/a.txt" || fail "copy"
grep -q "^compare 4194304 bytes: different at offset 2097152$" "$tmp/a.txt" || fail "compare"
grep -q "^fill    4194304 bytes: success, pattern checked$" "$tmp/a.txt" || fail "fill"
grep -Eq "^crc32c  4194304 bytes: success, (0x[0-9a-f]{8}) \(CPU: \1\)$" "$tmp/a.txt" || fail "crc32c"
grep -q "^all results checked$" "$tmp/a.txt" || fail "summary"

# Two processes at once, one device each: each its own PASID.
sva_copy --socket "$tmp/sva.sock" --device 0 >"$tmp/p0.txt" 2>&1 & p0=$!
sva_copy --socket "$tmp/sva.sock" --device 1 >"$tmp/p1.txt" 2>&1 & p1=$!
wait $p0 || { cat "$tmp/p0.txt"; fail "process on device 0"; }
wait $p1 || { cat "$tmp/p1.txt"; fail "process on device 1"; }
grep -q "all results checked" "$tmp/p0.txt" && grep -q "all results checked" "$tmp/p1.txt" ||
	fail "concurrent results"

# No such device: EINVAL, as the driver gives every bind failure, with the cause.
rc=0; sva_copy --socket "$tmp/sva.sock" --device 5 >"$tmp/e.txt" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "bind of a missing device exited $rc"
grep -q "errno 22" "$tmp/e.txt" && grep -q "no such object" "$tmp/e.txt" ||
	{ cat "$tmp/e.txt"; fail "bind error message"; }

pcitsmd_unmount
[ ! -e "$tmp/sva.sock" ] || fail "socket left behind"
echo "sva_example: ok"
