#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian packages (debian/, scripts/build-deb.sh): built from a copy of the tree, their
# control fields, then unpacked with dpkg -x into a scratch root (no chroot, nothing installed on
# the machine) and checked there as tests/install/install.sh checks `make install`
# (tests/install/lib/root.bash); lintian's errors fail, its other tags are printed. Minutes of
# build: label deb, run by `make deb-test` only. Environment (CMakeLists.txt): PCITSM_SRC,
# PCITSM_VERSION, PCITSM_SOVERSION, NM.
set -euo pipefail
. "$PCITSM_SRC/tests/integration/lib/pcitsmd.bash"
. "$PCITSM_SRC/tests/install/lib/root.bash"
src=$PCITSM_SRC ver=$PCITSM_VERSION so=$PCITSM_SOVERSION example_flags=
root="$tmp/root" prefix=/usr CC=${CC:-cc}

for tool in dpkg-buildpackage dh dpkg-deb; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is missing (apt-get install dpkg-dev debhelper): no package to check"
		exit 77
	fi
done

# The package's own tests ran in `make test`: not again here (nocheck).
DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" "$src/scripts/build-deb.sh" "$tmp/deb" \
	>"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log"; fail "the package build failed"; }
archive="$tmp/deb/pcitsm-$ver/debian/build/libpcitsm.a"
for p in pcitsm libpcitsm$so libpcitsm-dev; do
	deb="$tmp/deb/${p}_${ver}_amd64.deb"
	[ -f "$deb" ] || fail "no $p package"
	dpkg -x "$deb" "$root"
done
field() { dpkg-deb -f "$tmp/deb/${1}_${ver}_amd64.deb" "$2"; }
dep=$(field pcitsm Depends)
for d in "libpcitsm$so (>= $ver)" fuse3 libfuse3-3; do
	[[ ", $dep," == *", $d"[\ ,]* ]] || fail "pcitsm does not depend on $d: $dep"
done
[[ "$(field libpcitsm$so Depends)" == *libipsec-mb1* ]] || fail "libpcitsm$so: no libipsec-mb1"
[[ "$(field libpcitsm-dev Depends)" == *"libpcitsm$so (= $ver)"* ]] ||
	fail "libpcitsm-dev does not depend on libpcitsm$so (= $ver)"
expect_eq "libpcitsm$so Multi-Arch" "$(field libpcitsm$so Multi-Arch)" same
# The service is there, neither enabled nor started by the installation (dh_installsystemd
# --no-enable --no-start): the postinst only re-enables a unit the administrator had enabled.
postinst="$tmp/deb/pcitsm-$ver/debian/pcitsm/DEBIAN/postinst"
! grep -q 'deb-systemd-invoke' "$postinst" || fail "the postinst starts pcitsmd.service"
! grep -q "deb-systemd-helper enable" "$postinst" ||
	grep -q "deb-systemd-helper debian-installed 'pcitsmd.service'" "$postinst" ||
	fail "the postinst enables pcitsmd.service on a fresh installation"

if command -v lintian >/dev/null; then
	lintian -I --pedantic "$tmp/deb/pcitsm_${ver}_amd64.changes" >"$tmp/lintian.txt" 2>&1 || true
	sed 's/^/lintian: /' "$tmp/lintian.txt"
	! grep -q "^E: " "$tmp/lintian.txt" || fail "lintian errors"
else
	echo "deb: lintian is not installed: its checks were not run"
fi

check_root
echo "deb: ok: 3 packages, $(find "$root" -type f | wc -l) files, checked unpacked;" \
	"$(grep -c ': connected to tsm0' "$tmp/connect.txt") devices connected by the packaged pcitsm"
