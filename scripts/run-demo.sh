#!/bin/sh
# The main job on the embedded emulated platform (called by `make run`).
set -eu
builddir=${1:-build}
exec "$builddir/pcitsm" help
