#!/bin/bash
# The CLI's help: `pcitsm help`, `pcitsm help CMD` and `pcitsm CMD --help` print the synopsis and
# exit 0; an unknown command and no command exit 2. Every command has its man page and is named in
# pcitsm(1).
set -euo pipefail
fail() { echo "cli_help: $*" >&2; exit 1; }

out=$(pcitsm help) || fail "pcitsm help exited $?"
cmds=$(printf '%s\n' "$out" | awk '/^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || fail "pcitsm help lists no commands"
for c in $cmds; do
	for form in "help $c" "$c --help" "$c -h"; do
		# shellcheck disable=SC2086
		o=$(pcitsm $form) || fail "pcitsm $form exited $?"
		case "$o" in "usage: pcitsm $c "*) ;; *) fail "pcitsm $form: no synopsis: $o" ;; esac
	done
	[ -f "$PCITSM_SRC/docs/man/pcitsm-$c.1" ] || fail "no man page docs/man/pcitsm-$c.1"
	grep -q "pcitsm\\\\-$c (1)" "$PCITSM_SRC/docs/man/pcitsm.1" || fail "pcitsm(1) does not name $c"
done
rc=0; pcitsm nosuch 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "unknown command exited $rc, want 2"
rc=0; pcitsm help nosuch 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "help for an unknown command exited $rc, want 2"
rc=0; pcitsm 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "no command exited $rc, want 2"
echo "cli_help: $(echo $cmds | wc -w) commands, each with help and a man page"
