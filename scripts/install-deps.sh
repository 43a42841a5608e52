#!/bin/sh
# Install the Debian packages pcitsm needs (DESIGN.md "Dependencies"), only those missing.
# Idempotent: a second run installs nothing and prints one line.
# --deb: also what `make deb` and `make deb-test` need (debhelper, lintian; docs/install.md).
set -eu

# bash-completion: the install test (tests/install) loads pcitsm's completion as bash does.
PKGS="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev llvm
libssl-dev openssl libipsec-mb-dev libfuse3-dev fuse3 libpcap-dev libjson-c-dev libcmocka-dev libcbor-dev
pciutils graphviz gnuplot-nox
python3
tshark
cppcheck clang-tidy valgrind
bash-completion"
if [ "${1:-}" = --deb ]; then
	PKGS="$PKGS debhelper lintian"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark (integration/spdm_tcp decodes its captures with it) asks whether non-root users may
# capture; answer no before apt-get, so the install never waits for a question.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
