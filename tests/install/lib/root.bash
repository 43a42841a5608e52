# SPDX-License-Identifier: MIT
# Shared by tests/install/install.sh (`cmake --install` into a scratch root) and deb.sh (the
# Debian packages unpacked into one): check_root checks an installed pcitsm in $root below
# $prefix, the way a user meets it (docs/install.md). Source after tests/integration/lib/
# pcitsmd.bash ($tmp, fail, pcitsmd_mount); set src, ver, so, root, prefix, archive (the build's
# libpcitsm.a), CC, NM and example_flags first. Exits 77 after the FUSE-free part when /dev/fuse
# is unusable.

run="$tmp/run" # the service's /run, moved into the scratch directory
svc_pid=

# The service's mount is not the helper's: take it down too when a check fails.
svc_cleanup() {
	if [ -n "$svc_pid" ] && kill -TERM "$svc_pid" 2>/dev/null; then
		sleep 1
	fi
	if grep -qs " $run/pcitsm/sys fuse" /proc/self/mounts; then
		umount -l "$run/pcitsm/sys" || true
	fi
	pcitsmd_cleanup
}
trap svc_cleanup EXIT

# What goes where: programs, library and its links, headers, man pages, completion, unit, example.
check_layout() {
	bin="$root$prefix/bin"
	libso=$(find "$root" -name "libpcitsm.so.$ver" -type f)
	[ -n "$libso" ] || fail "no libpcitsm.so.$ver installed"
	libdir=$(dirname "$libso")
	[ "$(readlink "$libdir/libpcitsm.so.$so")" = "libpcitsm.so.$ver" ] ||
		fail "libpcitsm.so.$so is not a link to libpcitsm.so.$ver"
	[ "$(readlink "$libdir/libpcitsm.so")" = "libpcitsm.so.$so" ] ||
		fail "libpcitsm.so is not a link to libpcitsm.so.$so"
	[ ! -e "$libdir/libpcitsm.a" ] || fail "the static archive is installed"
	for f in "$bin/pcitsm" "$bin/pcitsmd"; do
		[ -x "$f" ] || fail "no $f"
	done
	# headers: exactly include/pcitsm/*.h, none of lib/'s internal ones
	local want got
	want=$(cd "$src/include/pcitsm" && ls -- *.h)
	got=$(cd "$root$prefix/include/pcitsm" && ls)
	[ "$got" = "$want" ] ||
		fail "installed headers are not include/pcitsm/*.h: $(diff <(echo "$want") <(echo "$got"))"
	# man pages: every docs/man page in its section (gzip'd in a package), with this version
	local page name sect m
	for page in "$src"/docs/man/*.[18]; do
		name=${page##*/} sect=${page##*.}
		m="$root$prefix/share/man/man$sect/$name"
		[ -f "$m" ] || m="$m.gz"
		[ -f "$m" ] || fail "man page $name not installed in man$sect"
		zcat -f "$m" | head -1 | grep "\"pcitsm $ver\"" >/dev/null ||
			fail "$name: header is not version $ver: $(zcat -f "$m" | head -1)"
	done
	example=$(find "$root$prefix/share/doc" -path '*/examples/sva_copy.c')
	[ -n "$example" ] || fail "examples/sva_copy.c not installed"
	cmp -s "$example" "$src/examples/sva_copy.c" || fail "$example differs from the source's"
	# Its option parsing, shared with sva_tee.c, beside it (the example includes it by "").
	cmp -s "${example%/*}/sva_opts.h" "$src/examples/sva_opts.h" ||
		fail "examples/sva_opts.h not installed beside sva_copy.c"
	comp="$root$prefix/share/bash-completion/completions/pcitsm"
	[ -f "$comp" ] || fail "no bash completion"
	unit=$(find "$root" -name pcitsmd.service)
	[ -n "$unit" ] || fail "no pcitsmd.service"
	apply_unit=$(find "$root" -name pcitsm-apply.service)
	[ -n "$apply_unit" ] || fail "no pcitsm-apply.service"
	grep -qx "ExecStart=$prefix/bin/pcitsm apply /etc/pcitsm/links.json" "$apply_unit" ||
		fail "pcitsm-apply.service does not run $prefix/bin/pcitsm apply"
}

# The shared library: soname, exports (tests/install/exports.py), the programs linked to it.
check_library() {
	readelf -d "$libso" | grep "(SONAME) *Library soname: \[libpcitsm.so.$so\]" >/dev/null ||
		fail "soname is not libpcitsm.so.$so: $(readelf -d "$libso" | grep SONAME)"
	python3 "$src/tests/install/exports.py" "$NM" "$libso" "$archive" "$src" || fail "exports"
	local f
	for f in "$bin/pcitsm" "$bin/pcitsmd"; do
		readelf -d "$f" | grep "NEEDED.*\[libpcitsm.so.$so\]" >/dev/null ||
			fail "${f##*/} does not use the shared library"
		! readelf -d "$f" | grep -E "R(UN)?PATH" | grep "$(dirname "$archive")" >/dev/null ||
			fail "${f##*/} keeps the build tree's RUNPATH"
	done
}

# The example, built as a user builds against the library: pkg-config and the root's files only.
check_example() {
	local flags
	flags=$(PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_PATH="$libdir/pkgconfig" \
		pkg-config --cflags --libs pcitsm) || fail "pkg-config --cflags --libs pcitsm"
	[ "$(PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_PATH="$libdir/pkgconfig" \
		pkg-config --modversion pcitsm)" = "$ver" ] || fail "pkg-config --modversion pcitsm"
	case " $flags " in *" -I$root$prefix/include "*) ;; *) fail "no -I into the root: $flags" ;; esac
	case " $flags " in *" -L$libdir "*) ;; *) fail "no -L into the root: $flags" ;; esac
	case " $flags " in *"$src/"*) fail "pkg-config points into the source tree: $flags" ;; esac
	# shellcheck disable=SC2086
	"$CC" -std=c11 -Wall -Werror $example_flags -o "$tmp/sva_copy" "$example" $flags ||
		fail "the example does not build against the installed library"
	export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	ldd "$tmp/sva_copy" | grep "libpcitsm.so.$so => $libdir/" >/dev/null ||
		fail "the example does not load the installed library: $(ldd "$tmp/sva_copy" | grep pcitsm)"
}

check_programs() {
	[ "$("$bin/pcitsm" --version)" = "pcitsm $ver" ] ||
		fail "pcitsm --version: $("$bin/pcitsm" --version)"
	[ "$("$bin/pcitsmd" --version)" = "pcitsmd $ver" ] || fail "pcitsmd --version"
	"$bin/pcitsm" list --platform emu >"$tmp/list.txt" || fail "pcitsm list --platform emu"
	grep -q "^0000:01:00.0 " "$tmp/list.txt" || fail "pcitsm list: no endpoint 0000:01:00.0"
}

# The installed completion, loaded as bash-completion loads it: commands, options, values, BDFs.
check_completion() {
	local cmds out first c benches
	cmds=$("$bin/pcitsm" help | awk '/^  [a-z]/ { print $1 }')
	mkdir -p "$tmp/csys/bus/pci/devices/0000:01:00.0" "$tmp/csys/bus/pci/devices/0000:02:00.0"
	# shellcheck disable=SC2016
	out=$(bash -c '
		bc=/usr/share/bash-completion/bash_completion
		[ -r $bc ] && . $bc
		. "$1"; shift
		c() {
			COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMP_LINE="$*" COMPREPLY=()
			COMP_POINT=${#COMP_LINE}
			_pcitsm
			echo "${COMPREPLY[*]}"
		}
		c pcitsm ""; c pcitsm con; c pcitsm connect --s; c pcitsm list --platform ""
		c pcitsm identity ""; c pcitsm bench ""; c pcitsm status --sysfs "$1" ""
		c pcitsm bench ide --backend ""' _ "$comp" "$tmp/csys") || fail "bash completion errors"
	first=$(sed -n 1p <<<"$out")
	for c in $cmds; do
		[[ " $first " == *" $c "* ]] || fail "completion lacks command $c"
	done
	expect_eq "complete 'con'" "$(sed -n 2p <<<"$out")" "connect"
	expect_eq "complete 'connect --s'" "$(sed -n 3p <<<"$out")" "--stream-id --sysfs"
	expect_eq "complete 'list --platform'" "$(sed -n 4p <<<"$out")" "emu sysfs"
	expect_eq "complete 'identity'" "$(sed -n 5p <<<"$out")" "create show"
	benches=$({ "$bin/pcitsm" bench 2>&1 || true; } |
		awk '/^benchmarks:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | tr '\n' ' ')
	expect_eq "complete 'bench'" "$(sed -n 6p <<<"$out") " "$benches"
	expect_eq "complete a BDF" "$(sed -n 7p <<<"$out")" "0000:01:00.0 0000:02:00.0"
	expect_eq "complete 'bench ide --backend'" "$(sed -n 8p <<<"$out")" "auto ipsec-mb openssl"
}

# (Pipes end in `grep ... >/dev/null`, never `grep -q`: under pipefail a grep that stops at the
# first match can kill the writer with SIGPIPE and fail the pipeline.)

# With FUSE: the example against the installed pcitsmd's SVA devices; list on its mirror; the
# installed pcitsm's connect --all on the pcitsmd beside it; the unit's command line.
check_fuse() {
	PATH="$bin:$PATH" pcitsmd_mount --sva-socket "$tmp/sva.sock" --sva-devices 1
	"$tmp/sva_copy" --socket "$tmp/sva.sock" --device 0 --size 65536 >"$tmp/sva.txt" 2>&1 ||
		{ cat "$tmp/sva.txt"; fail "the example against the installed pcitsmd"; }
	grep -q "^all results checked$" "$tmp/sva.txt" || fail "the example's results"
	"$bin/pcitsm" list --sysfs "$mnt" | grep "^0000:01:00.0 " >/dev/null ||
		fail "pcitsm list --sysfs on the installed pcitsmd"
	pcitsmd_unmount

	# No --sysfs, no TSM in /sys: the embedded platform is the pcitsmd beside the installed
	# pcitsm (not one on PATH).
	PATH=/usr/bin:/bin "$bin/pcitsm" connect --all >"$tmp/connect.txt" 2>&1 ||
		{ cat "$tmp/connect.txt"; fail "pcitsm connect --all"; }
	[ "$(grep -c ': connected to tsm0' "$tmp/connect.txt")" -ge 2 ] ||
		{ cat "$tmp/connect.txt"; fail "connect --all connected fewer than 2 devices"; }
	grep -q "Secure, endpoint .* Secure" "$tmp/connect.txt" || fail "connect --all: not Secure"
	check_unit
}

# The unit's ExecStart, run as systemd runs a Type=forking service: it returns once the mirror is
# mounted, with the daemon's pid in PIDFile; SIGTERM unmounts.
check_unit() {
	local exec_start pidfile cmdline pid
	grep -q '^Type=forking$' "$unit" || fail "unit: not Type=forking"
	exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
	[ "${exec_start%% *}" = "$prefix/bin/pcitsmd" ] ||
		fail "unit runs ${exec_start%% *}, not $prefix/bin/pcitsmd"
	pidfile=$(sed -n 's/^PIDFile=//p' "$unit")
	mkdir -p "$run/pcitsm/sys"
	cmdline=${exec_start//\/run\//$run/}
	cmdline=${cmdline/\$PCITSMD_OPTS/}
	cmdline=${cmdline/$prefix\/bin/$bin}
	# shellcheck disable=SC2086
	timeout 60 $cmdline || fail "the unit's command line failed: $cmdline"
	pid=$(cat "$run${pidfile#/run}") || fail "no pidfile $pidfile"
	svc_pid=$pid
	ls "$run/pcitsm/sys/bus/pci/devices" | grep "^0000:01:00.0$" >/dev/null ||
		fail "service: the mirror was not mounted when the start returned"
	kill -TERM "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null || fail "service: pcitsmd still runs 10 s after SIGTERM"
	! grep -qs " $run/pcitsm/sys fuse" /proc/self/mounts || fail "service: mounted after SIGTERM"
	svc_pid=
	if command -v systemd-analyze >/dev/null; then
		# as the system would load it (the binary is not at ExecStart's path), with the
		# Documentation= man pages found among those installed
		sed "s|^ExecStart=[^ ]*|ExecStart=/bin/true|" "$unit" >"$tmp/pcitsmd.service"
		MANPATH="$root$prefix/share/man" systemd-analyze verify "$tmp/pcitsmd.service" \
			>"$tmp/verify.txt" 2>&1 || { cat "$tmp/verify.txt"; fail "systemd-analyze verify"; }
	fi
}

check_root() {
	check_layout
	check_library
	check_example
	check_programs
	check_completion
	if [ ! -c /dev/fuse ] || ! (exec 3<>/dev/fuse) 2>/dev/null; then
		echo "SKIP: /dev/fuse is not usable here: the installed pcitsmd, connect --all and the" \
			"unit's command line were not run (the checks before them passed)"
		exit 77
	fi
	check_fuse
}
