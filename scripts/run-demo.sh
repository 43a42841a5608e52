#!/bin/bash
# The main job on the embedded emulated platform (called by `make run`): inventory, SPDM
# authentication of every endpoint through its DOE mailbox, evidence with a pcap capture, the
# same device served over TCP in the DMTF spdm-emu protocol, and the PCI/TSM flow on pcitsmd's
# sysfs mirror (connect every device, status, traffic, rekey, TDISP lock/report/policy/accept, DMA
# in RUN, and a tampered configuration ending in ERROR with the same DMA refused, disconnect).
# Each step prints its time.
set -euo pipefail
builddir=${1:-build}
pcitsm="$builddir/pcitsm"
out="$builddir/run"
# A mirror left mounted by an interrupted run (even with its daemon dead): unmount it before
# removing the outputs.
abs_out=$(mkdir -p "$out" && cd "$out" && pwd -P)
if grep -q " $abs_out/sys fuse" /proc/self/mounts; then
	fusermount3 -u "$out/sys" 2>/dev/null || umount -l "$out/sys"
fi
rm -rf "$out"
mkdir -p "$out"

step_start=0
step() {
	printf '\n\033[1m== %s\033[0m\n' "$*"
	step_start=$(date +%s%N)
}
done_step() {
	local ns=$(( $(date +%s%N) - step_start ))
	printf -- '-- %d.%03d ms\n' $((ns / 1000000)) $(((ns / 1000) % 1000))
}

step "pcitsm list --platform emu: the emulated host bridge, root ports and TEE-IO endpoints"
"$pcitsm" list --platform emu
done_step

for ep in 0000:01:00.0 0000:02:00.0; do
	step "pcitsm auth $ep --platform emu: SPDM over the endpoint's DOE mailbox (config space)"
	"$pcitsm" auth "$ep" --platform emu
	done_step
done

step "pcitsm evidence 0000:01:00.0 --platform emu --pcap: chain, measurements, VCA transcript"
"$pcitsm" evidence 0000:01:00.0 --platform emu --out "$out/evidence" --pcap "$out/auth.pcap"
ls -l "$out/evidence" "$out/auth.pcap"
done_step

step "pcitsm emulate + pcitsm auth tcp:: the same device in the spdm-emu TCP protocol"
"$pcitsm" emulate --listen 127.0.0.1:0 --trust-out "$out/root.pem" >"$out/emulate.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	grep -q '^listening on' "$out/emulate.log" 2>/dev/null && break
	sleep 0.05
done
addr=$(sed -n 's/^listening on //p' "$out/emulate.log")
"$pcitsm" auth "tcp:$addr" --trust "$out/root.pem" --shutdown
wait $server || true
trap - EXIT
cat "$out/emulate.log"
done_step

# The kernel's PCI/TSM ABI on the emulated platform: one pcitsmd mirror shared by every step
# (PCITSM_SYSFS), as an administrator would use /sys on a 6.19 host.
if [ -c /dev/fuse ] && (exec 3<>/dev/fuse) 2>/dev/null; then
	mnt="$out/sys"
	mkdir -p "$mnt"
	rm -f "$out/ready"
	mkfifo "$out/ready"
	step "pcitsmd: the emulated platform's sysfs mirror (Linux 6.19 PCI/TSM ABI) on $mnt"
	"$builddir/pcitsmd" --foreground --ready-fd 3 --sva-socket "$out/sva.sock" "$mnt" \
		3>"$out/ready" >"$out/pcitsmd.log" 2>&1 &
	daemon=$!
	trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
	read -r -t 60 ready <"$out/ready" || true
	[ "${ready:-}" = READY ] || { cat "$out/pcitsmd.log"; echo "pcitsmd did not start"; exit 1; }
	export PCITSM_SYSFS="$mnt"
	ls "$mnt/bus/pci/devices" "$mnt/class/tsm"
	done_step

	step "pcitsm connect --all: echo tsm0 > tsm/connect for every endpoint (SPDM, session, IDE_KM)"
	"$pcitsm" connect --all
	done_step

	step "pcitsm status: kernel attributes, stream Secure at both ends, session and algorithms"
	"$pcitsm" status
	cat "$mnt/devices/pci0000:00/available_secure_streams"
	ls -l "$mnt/devices/pci0000:00/" | grep stream
	done_step

	for ep in 0000:01:00.0 0000:02:00.0; do
		step "pcitsm traffic $ep: memory writes and read-backs across the IDE-protected link"
		"$pcitsm" traffic "$ep" --ops 2000 --size 256
		done_step

		step "pcitsm rekey $ep: the other key set at both ends, then traffic again"
		"$pcitsm" rekey "$ep"
		"$pcitsm" traffic "$ep" --ops 2000 --size 256
		done_step
	done

	# TDISP (PCIe 6.x §11) over the proposed tsm/lock, tsm/accept, tsm/unlock files.
	ep=0000:01:00.0
	if [ -e "$mnt/bus/pci/devices/$ep/tsm/lock" ]; then
		step "pcitsm lock $ep: TDISP LOCK_INTERFACE (CONFIG_LOCKED), report read by the TSM"
		"$pcitsm" lock "$ep"
		done_step

		step "pcitsm report $ep: the interface report decoded, checked against the Linux rules"
		"$pcitsm" report "$ep"
		done_step

		step "pcitsm policy make $ep, then accept against it: the TDI started (RUN)"
		"$pcitsm" policy make "$ep" -o "$out/policy.json"
		"$pcitsm" accept "$ep" --policy "$out/policy.json"
		"$pcitsm" status "$ep" | grep -E "tsm/lock|tsm/accept|TDI state"
		done_step

		step "DMA in RUN: pcitsm traffic $ep --tee, the TDI's T=1 writes into private memory"
		"$pcitsm" traffic "$ep" --tee --ops 64 --size 256
		done_step

		step "a tampered policy: accept refused, naming the entry (the TDI stays as it is)"
		python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); m=p["mmio"][0]; m["size"]=hex(int(m["size"],16)*2); json.dump(p,open(sys.argv[2],"w"))' \
			"$out/policy.json" "$out/policy-tampered.json"
		"$pcitsm" unlock "$ep"
		"$pcitsm" lock "$ep"
		if "$pcitsm" accept "$ep" --policy "$out/policy-tampered.json"; then
			echo "accept with a tampered policy passed"; exit 1
		fi
		"$pcitsm" unlock "$ep"
		done_step

		step "tampered configuration: a Command register change in RUN, the TDI in ERROR, DMA refused"
		"$pcitsm" lock "$ep"
		"$pcitsm" accept "$ep"
		python3 -c 'import os,sys; fd=os.open(sys.argv[1],os.O_RDWR); v=bytearray(os.pread(fd,2,4)); v[0]^=4; os.pwrite(fd,bytes(v),4)' \
			"$mnt/bus/pci/devices/$ep/config"
		"$pcitsm" status "$ep" | grep "TDI state"
		if "$pcitsm" traffic "$ep" --tee --ops 64 --size 256; then
			echo "DMA in ERROR passed"; exit 1
		fi
		if "$pcitsm" report "$ep"; then echo "report in ERROR passed"; exit 1; fi
		if "$pcitsm" accept "$ep"; then echo "accept in ERROR passed"; exit 1; fi
		"$pcitsm" unlock "$ep"
		done_step
	else
		printf '\n(skipped the TDISP steps: this pcitsmd has no tsm/lock)\n'
	fi

	# Last: zero-copy DMA by a TDI. pcitsmd's SVA device 0 is endpoint 0000:01:00.0 (function 0 of
	# the first port): locked and accepted, it copies a malloc'ed buffer with T=1 requests over the
	# Secure stream (docs/sva.md "T=1").
	ep=0000:01:00.0
	if [ -e "$mnt/bus/pci/devices/$ep/tsm/lock" ] && [ -S "$out/sva.sock" ]; then
		step "sva_tee: T=1 DMA over the Secure stream by $ep's TDI in RUN (lock, accept, copy)"
		"$pcitsm" lock "$ep"
		"$pcitsm" accept "$ep"
		"$builddir/sva_tee" --socket "$out/sva.sock" --device 0 --size 4194304 \
			--status "$mnt/pcitsm/devices/$ep/status"
		"$pcitsm" unlock "$ep"
		done_step
	fi

	step "pcitsm disconnect --all: streams and sessions torn down"
	"$pcitsm" disconnect --all
	"$pcitsm" status
	cat "$mnt/devices/pci0000:00/available_secure_streams"
	done_step

	step "stop pcitsmd (SIGTERM: clean unmount)"
	kill "$daemon"
	wait "$daemon"
	trap - EXIT
	unset PCITSM_SYSFS
	done_step
else
	printf '\n(skipped the PCI/TSM steps: /dev/fuse is not usable here, and pcitsmd needs FUSE)\n'
fi

printf '\nAll steps done. Outputs in %s\n' "$out"
