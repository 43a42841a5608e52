#!/bin/bash
# pcitsmd's mirror of the Linux 6.19 sysfs ABI (Documentation/ABI/testing/sysfs-bus-pci): the tree
# and its symbolic links, contents and modes, the config file (any offset and length, DOE mailbox
# included: `pcitsm auth --sysfs` runs over it), and every attribute's echo/cat semantics with the
# kernel's errno.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
pcitsmd_mount --vfs 0 # the 6.19 tree; TDIs: pcitsmd_tdisp.sh

ep=0000:01:00.0
rp=0000:00:01.0
D="$mnt/bus/pci/devices/$ep"
R="$mnt/bus/pci/devices/$rp"
HB="$mnt/devices/pci0000:00"

# --- The tree.
for f in bus/pci/devices class/tsm/tsm0 devices/pci0000:00 pcitsm/README pcitsm/devices/$ep; do
	[ -e "$mnt/$f" ] || fail "missing $f"
done
expect_eq "devices" "$(ls "$mnt/bus/pci/devices" | tr '\n' ' ')" \
	"0000:00:01.0 0000:00:02.0 0000:01:00.0 0000:02:00.0 "
expect_eq "endpoint link" "$(readlink "$D")" "../../../devices/pci0000:00/$rp/$ep"
expect_eq "root port link" "$(readlink "$R")" "../../../devices/pci0000:00/$rp"
expect_eq "class link" "$(readlink "$mnt/class/tsm/tsm0")" \
	"../../devices/platform/pcitsm-tsm/tsm/tsm0"
[ -f "$mnt/class/tsm/tsm0/uevent" ] || fail "tsm0/uevent missing"
expect_eq "tsm0 subsystem" "$(readlink -f "$mnt/class/tsm/tsm0/subsystem")" "$(readlink -f "$mnt/class/tsm")"
expect_eq "doe_features" "$(ls "$D/doe_features" | tr '\n' ' ')" "0001:01 0001:02 doe_discovery "
expect_eq "endpoint attributes" "$(ls "$D" | tr '\n' ' ')" \
	"authenticated class config device doe_features driver_override irq resource revision subsystem_device subsystem_vendor tsm vendor "
# The devsec TSM's files [proposal] beside the 6.19 ones (docs/pcitsmd.md "Proposal: TDISP").
expect_eq "tsm attributes" "$(ls "$D/tsm" | tr '\n' ' ')" "accept bound connect disconnect dsm lock unlock "
# Root ports are not DSMs: no tsm/, no authenticated, no DOE.
[ ! -e "$R/tsm" ] || fail "root port has tsm/"
[ ! -e "$R/doe_features" ] || fail "root port has doe_features/"

# --- Contents (pci-sysfs.c formats) and modes.
expect_eq "vendor" "$(od -An -c "$D/vendor" | tr -s ' ')" " 0 x 7 0 6 3 \n"
expect_eq "device" "$(cat "$D/device")" "0x0002"
expect_eq "endpoint class" "$(cat "$D/class")" "0x120000"
expect_eq "root port class" "$(cat "$R/class")" "0x060400"
expect_eq "doe feature" "$(cat "$D/doe_features/0001:02")" "0001:02"
expect_eq "doe_discovery" "$(cat "$D/doe_features/doe_discovery")" "0001:00"
expect_eq "connect empty" "$(od -An -c "$D/tsm/connect" | tr -d ' ')" '\n'
expect_eq "authenticated empty" "$(od -An -c "$D/authenticated" | tr -d ' ')" '\n'
expect_eq "dsm empty" "$(od -An -c "$D/tsm/dsm" | tr -d ' ')" '\n'
expect_eq "bound empty" "$(od -An -c "$D/tsm/bound" | tr -d ' ')" '\n'
expect_eq "available_secure_streams" "$(cat "$HB/available_secure_streams")" 256
for f in tsm/connect:644 tsm/disconnect:200 tsm/dsm:444 tsm/bound:444 authenticated:444 \
	 config:644 vendor:444 class:444; do
	expect_eq "mode of ${f%%:*}" "$(stat -L -c %a "$D/${f%%:*}")" "${f##*:}"
done
expect_eq "mode of available_secure_streams" "$(stat -c %a "$HB/available_secure_streams")" 444
expect_eq "config size" "$(stat -L -c %s "$D/config")" 4096

# --- config: reads at any offset and length match one full read; writes reach the registers.
full=$(od -An -tx1 -v "$D/config" | tr -d ' \n')
expect_eq "config length" "${#full}" 8192
expect_eq "vendor/device bytes" "${full:0:8}" "63700200"
part=$(dd if="$D/config" bs=1 skip=3 count=7 status=none | od -An -tx1 -v | tr -d ' \n')
expect_eq "unaligned read" "$part" "${full:6:14}"
python3 - "$D/config" <<'PY' || fail "config write"
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
# Command register (0x04): memory space + bus master are writable; vendor ID (0x00) is read-only.
os.pwrite(fd, bytes([0x06, 0x00]), 4)
assert os.pread(fd, 2, 4) == bytes([0x06, 0x00]), os.pread(fd, 2, 4)
os.pwrite(fd, b"\xff\xff", 0)
assert os.pread(fd, 2, 0) == b"\x63\x70"
assert os.pread(fd, 16, 4090) == os.pread(fd, 6, 4090)  # EOF at the config size
os.close(fd)
PY

# SPDM over the endpoint's DOE mailbox, through the config file: the CLI's ordinary sysfs path.
pcitsm auth "$ep" --sysfs "$mnt" >"$tmp/auth.txt" || { cat "$tmp/auth.txt"; fail "pcitsm auth over the mirror's config file"; }
grep -q '^result: *authenticated' "$tmp/auth.txt" || fail "auth result"
grep -q '^challenge: *verified' "$tmp/auth.txt" || fail "challenge"

# --- echo/cat semantics and errno, as the kernel's store/show.
expect_eq "read disconnect" "$(read_errno "$D/tsm/disconnect")" EACCES
expect_eq "write dsm" "$(write_errno "$D/tsm/dsm" x)" EACCES
expect_eq "write bound" "$(write_errno "$D/tsm/bound" x)" EACCES
expect_eq "write authenticated" "$(write_errno "$D/authenticated" tsm0)" EACCES
expect_eq "write available_secure_streams" "$(write_errno "$HB/available_secure_streams" 1)" EACCES
expect_eq "connect bad format" "$(write_errno "$D/tsm/connect" bogus)" EINVAL
expect_eq "connect unknown tsm" "$(write_errno "$D/tsm/connect" tsm7)" ENXIO
expect_eq "disconnect not connected" "$(write_errno "$D/tsm/disconnect" tsm0)" ENXIO
# A plain shell sees the same errors.
if msg=$( { echo bogus >"$D/tsm/connect"; } 2>&1 ); then fail "echo bogus succeeded"; fi
case "$msg" in *"Invalid argument"*) ;; *) fail "shell: $msg" ;; esac

[ ! -e "$HB/stream0.0.0" ] || fail "a stream link before connect"
echo tsm0 >"$D/tsm/connect" || fail "echo tsm0 > tsm/connect"
expect_eq "connect after" "$(cat "$D/tsm/connect")" tsm0
expect_eq "authenticated after" "$(cat "$D/authenticated")" tsm0
expect_eq "dsm after" "$(cat "$D/tsm/dsm")" "$ep"
expect_eq "bound after" "$(cat "$D/tsm/bound")" ""
expect_eq "streams after connect" "$(cat "$HB/available_secure_streams")" 255
link=$(cd "$HB" && ls -d stream* 2>/dev/null | tr '\n' ' ')
expect_eq "stream link" "$link" "stream0.0.0 "
expect_eq "stream target" "$(readlink "$HB/stream0.0.0")" "$rp/$ep"
expect_eq "stream resolves" "$(readlink -f "$HB/stream0.0.0")" "$(readlink -f "$D")"
if msg=$( { echo tsm0 >"$D/tsm/connect"; } 2>&1 ); then fail "double connect succeeded"; fi
case "$msg" in *"Device or resource busy"*) ;; *) fail "shell: $msg" ;; esac
expect_eq "double connect" "$(write_errno "$D/tsm/connect" tsm0)" EBUSY
expect_eq "disconnect name mismatch" "$(write_errno "$D/tsm/disconnect" tsm1)" EINVAL
expect_eq "disconnect garbage" "$(write_errno "$D/tsm/disconnect" xyz)" EINVAL
# Evidence in the project directory while connected.
for f in certificate_chain certificates.der measurements vca; do
	[ -s "$mnt/pcitsm/devices/$ep/evidence/$f" ] || fail "evidence/$f empty"
done
openssl x509 -inform DER -in "$mnt/pcitsm/devices/$ep/evidence/certificates.der" -noout -subject \
	>/dev/null || fail "certificates.der does not start with a certificate"
# measurements is the signed MEASUREMENTS response (docs/pcitsmd.md): SPDM header, code 0x60.
expect_eq "evidence/measurements is a MEASUREMENTS response" \
	"$(od -An -tx1 -j1 -N1 "$mnt/pcitsm/devices/$ep/evidence/measurements" | tr -d ' ')" 60

echo tsm0 >"$D/tsm/disconnect" || fail "echo tsm0 > tsm/disconnect"
expect_eq "connect after disconnect" "$(cat "$D/tsm/connect")" ""
expect_eq "streams after disconnect" "$(cat "$HB/available_secure_streams")" 256
[ ! -e "$HB/stream0.0.0" ] || fail "stream link left after disconnect"
[ ! -e "$mnt/pcitsm/devices/$ep/evidence" ] || fail "evidence left after disconnect"
expect_eq "second disconnect" "$(write_errno "$D/tsm/disconnect" tsm0)" ENXIO

pcitsmd_unmount

# Daemon mode: pcitsmd returns once mounted, with the pid in --pidfile; SIGINT unmounts, and the
# pidfile goes away.
pcitsmd --pidfile "$tmp/pid" "$mnt" || fail "daemon mode"
pcitsmd_pid=$(cat "$tmp/pid")
expect_eq "daemon tree" "$(cat "$HB/available_secure_streams")" 256
kill -INT "$pcitsmd_pid"
for _ in $(seq 100); do kill -0 "$pcitsmd_pid" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$pcitsmd_pid" 2>/dev/null || fail "daemon still running after SIGINT"
pcitsmd_pid=
! pcitsmd_mounted || fail "still mounted after SIGINT"
[ ! -e "$tmp/pid" ] || fail "pidfile left behind"
echo "pcitsmd_sysfs: all checks passed"
