#!/bin/bash
# SPDX-License-Identifier: MIT
# `make install` into a scratch root (DESTDIR), from this build tree (no second build), checked
# there by tests/install/lib/root.bash: what goes where (docs/install.md), the shared library's
# soname and exports, the example built against the installed library through pkg-config alone
# and run against the installed pcitsmd, the installed pcitsm (list, connect --all through the
# pcitsmd beside it), the bash completion, the systemd unit's command line run as systemd runs
# it; and the Debian changelog's version. Environment (CMakeLists.txt): PCITSM_SRC, PCITSM_BUILD,
# PCITSM_VERSION, PCITSM_SOVERSION, CC, NM, PCITSM_EXAMPLE_FLAGS.
set -euo pipefail
. "$PCITSM_SRC/tests/integration/lib/pcitsmd.bash"
. "$PCITSM_SRC/tests/install/lib/root.bash"
src=$PCITSM_SRC ver=$PCITSM_VERSION so=$PCITSM_SOVERSION example_flags=$PCITSM_EXAMPLE_FLAGS
root="$tmp/root" archive="$PCITSM_BUILD/libpcitsm.a"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$PCITSM_BUILD/CMakeCache.txt")

# The Debian changelog's version is the project's (debian/, `make deb`).
if command -v dpkg-parsechangelog >/dev/null; then
	deb=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
	expect_eq "debian/changelog's version" "${deb%-*}" "$ver"
fi

DESTDIR="$root" cmake --install "$PCITSM_BUILD" >"$tmp/install.log" ||
	{ cat "$tmp/install.log"; fail "cmake --install"; }
check_root
echo "install: ok: $(find "$root" -type f | wc -l) files under $prefix;" \
	"$(grep -c ': connected to tsm0' "$tmp/connect.txt") devices connected by the installed pcitsm"
