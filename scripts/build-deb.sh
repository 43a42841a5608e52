#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the Debian packages (debian/) from a copy of the tree, so that the tree itself gets no
# debian/build, debian/tmp or .deb files: `make deb`. docs/install.md.
# Usage: build-deb.sh OUTDIR [dpkg-buildpackage options]
#   OUTDIR/pcitsm-VERSION/  the copy (the files git tracks or would track; uncommitted changes too)
#   OUTDIR/*.deb            pcitsm, libpcitsm0, libpcitsm-dev (and their -dbgsym), .buildinfo,
#                           .changes
set -eu
[ $# -ge 1 ] || { echo "usage: build-deb.sh OUTDIR [dpkg-buildpackage options]" >&2; exit 2; }
out=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)

for tool in dpkg-buildpackage dh; do
	if ! command -v "$tool" >/dev/null; then
		echo "build-deb: $tool is missing: apt-get install dpkg-dev debhelper" >&2
		exit 1
	fi
done
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
mkdir -p "$out"
out=$(cd "$out" && pwd)
copy="$out/pcitsm-$version"
rm -rf "$copy"
mkdir -p "$copy"
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.buildinfo "$out"/*.changes

# The source: what git has (tracked and new files, not the ignored build trees); from a tree that
# is not a git checkout, everything but the build directories.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _ |
		tar --null -T - -cf -) | tar -C "$copy" -xf -
else
	(cd "$top" && tar --exclude='./build' --exclude='./build-*' --exclude='./.git' -cf - .) |
		tar -C "$copy" -xf -
fi

echo "build-deb: building pcitsm $version in $copy"
(cd "$copy" && dpkg-buildpackage -us -uc -b "$@")
ls "$out"/*.deb
