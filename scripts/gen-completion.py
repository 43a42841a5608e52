#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write pcitsm's bash completion from what the built CLI says about itself.

The commands and their synopses are `pcitsm help` (src/pcitsm/commands.def and each command's
`.args`), the benchmarks `pcitsm bench` and each one's `pcitsm bench NAME --help`: the completion
is generated from those at build time, so it has no list of its own to fall behind.

A synopsis word is read as: `--opt` a flag; `--opt ARG` an option with a value, completed by the
value's name (DIR directories, FILE files, BDF the functions under the sysfs root, tsmN the TSMs,
`a|b|c` those words, anything else left to type); leading lower-case words (`create`,
`bind|unbind|status`) the command's sub-commands; BDF, TARGET, DIR, NAME operands; ` | ` separates
alternative forms, whose words are merged.

usage: gen-completion.py PCITSM OUT
"""
import re
import subprocess
import sys

PLACEHOLDER = re.compile(r"^(?:[A-Z][A-Z0-9_]*(?::[A-Z0-9_]+)*|tsmN|V|S)$")


def run(exe, *args):
    p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def arg_kind(word, operand=False):
    """The completion of an option value or operand named `word`, as a kind list. An operand
    NAME is only `pcitsm bench NAME`'s."""
    if "|" in word:
        return ["=" + ",".join(word.split("|"))]
    if operand and word == "NAME":
        return ["bench"]
    return {"DIR": ["dir"], "FILE": ["file"], "BDF": ["bdf"], "tsmN": ["tsm"],
            "TARGET": ["bdf", "=tcp:"]}.get(word, ["none"])


class Synopsis:
    """Options (name -> value kinds, [] for a flag) and operand positions (kinds) of a command."""

    def __init__(self):
        self.opts = {}
        self.pos = []

    def add_pos(self, i, kinds):
        while len(self.pos) <= i:
            self.pos.append([])
        for k in kinds:
            if k not in self.pos[i]:
                self.pos[i].append(k)

    def parse(self, text):
        for alt in re.split(r"\s\|\s", text):
            words = alt.replace("[", " ").replace("]", " ").split()
            i, n = 0, 0
            while i < len(words):
                w = words[i]
                nxt = words[i + 1] if i + 1 < len(words) else None
                if w.startswith("-") and "|" not in w:
                    if nxt and not nxt.startswith("-") and (PLACEHOLDER.match(nxt) or "|" in nxt):
                        self.opts[w] = arg_kind(nxt)
                        i += 2
                        continue
                    self.opts.setdefault(w, [])
                elif "|" in w and any(p.startswith("-") for p in w.split("|")):
                    # BDF|--all: an operand or a flag in its place
                    for p in w.split("|"):
                        if p.startswith("-"):
                            self.opts.setdefault(p, [])
                        else:
                            self.add_pos(n, arg_kind(p, True))
                    n += 1
                elif re.match(r"^[a-z][a-z|]*$", w):
                    self.add_pos(n, ["=" + w.replace("|", ",")])
                    n += 1
                elif w.startswith("tcp:"):
                    self.add_pos(n, ["=tcp:"])
                    n += 1
                elif w != "ARGS":
                    self.add_pos(n, arg_kind(w, True))
                    n += 1
                i += 1
        return self


def commands(exe):
    rc, out = run(exe, "help")
    if rc != 0:
        sys.exit(f"gen-completion: {exe} help exited {rc}")
    cmds = {}
    for line in out.splitlines():
        m = re.match(r"^  ([a-z][a-z0-9-]*)\s+(.*)$", line)
        if m:
            cmds[m.group(1)] = Synopsis().parse(m.group(2))
    if not cmds:
        sys.exit("gen-completion: `pcitsm help` lists no command")
    return cmds


def benches(exe):
    """name -> Synopsis of `pcitsm bench NAME --help` (its usage lines)."""
    _, out = run(exe, "bench")
    names = []
    listing = False
    for line in out.splitlines():
        if line.startswith("benchmarks:"):
            listing = True
        elif listing and re.match(r"^  [a-z]", line):
            names.append(line.split()[0])
    result = {}
    for b in names:
        _, text = run(exe, "bench", b, "--help")
        usage = []
        for line in text.splitlines():
            if line.startswith(f"usage: pcitsm bench {b}"):
                usage.append(line[len(f"usage: pcitsm bench {b}"):])
            elif usage and re.match(r"^\s+\[", line):
                usage.append(line)
            elif usage:
                break
        result[b] = Synopsis().parse(" ".join(usage))
    return result


def q(s):
    return "'" + s.replace("'", "'\\''") + "'"


def emit_case(key, syn, lines):
    """One `case` arm: $cmd's options, the kinds of their values, its operand positions."""
    flags = " ".join(sorted(syn.opts))
    lines.append(f"\t{q(key)})")
    lines.append(f"\t\topts={q(flags)}")
    valued = {o: k for o, k in syn.opts.items() if k}
    lines.append(f"\t\targopts={q(' '.join(sorted(valued)))}")
    if valued:
        lines.append("\t\tcase $prev in")
        for o in sorted(valued):
            lines.append(f"\t\t{o}) _pcitsm_complete {q(' '.join(valued[o]))}; return ;;")
        lines.append("\t\tesac")
    lines.append("\t\tpos=(" + " ".join(q(" ".join(k)) for k in syn.pos) + ")")
    lines.append("\t\t;;")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen-completion.py PCITSM OUT")
    exe, out = sys.argv[1], sys.argv[2]
    cmds = commands(exe)
    bench = benches(exe)
    words = ",".join(list(cmds) + ["help", "--help", "--version"])
    lines = []
    for c, syn in cmds.items():
        emit_case(c, syn, lines)
    for b, syn in bench.items():
        emit_case(f"bench {b}", syn, lines)
    text = TEMPLATE.replace("@COMMANDS@", words).replace("@BENCHES@", ",".join(bench))
    text = text.replace("@CASES@", "\n".join(lines))
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)


TEMPLATE = r"""# bash completion for pcitsm(1)
# Generated by scripts/gen-completion.py from `pcitsm help` and `pcitsm bench`: do not edit.

# The sysfs root the command line names: --sysfs DIR, else $PCITSM_SYSFS, else /sys.
_pcitsm_root()
{
	local i root=${PCITSM_SYSFS:-/sys}

	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		[[ ${words[i]} == --sysfs ]] && root=${words[i + 1]}
	done
	printf '%s' "$root"
}

# Fill COMPREPLY from kinds: dir, file, bdf, tsm, bench, none, =word,word.
_pcitsm_complete()
{
	local kind w list=() root
	COMPREPLY=()
	for kind in $1; do
		case $kind in
		dir) COMPREPLY+=($(compgen -d -- "$cur")) ;;
		file) COMPREPLY+=($(compgen -f -- "$cur")) ;;
		bdf | tsm)
			root=$(_pcitsm_root)
			[[ $kind == bdf ]] && root+=/bus/pci/devices || root+=/class/tsm
			for w in "$root"/*; do
				[[ -e $w ]] && list+=("${w##*/}")
			done
			;;
		bench) list+=(${_pcitsm_benches//,/ }) ;;
		=*) w=${kind#=}; list+=(${w//,/ }) ;;
		esac
	done
	((${#list[@]})) && COMPREPLY+=($(compgen -W "${list[*]}" -- "$cur"))
	# "tcp:" is the start of a word, not a word
	[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *: ]] && compopt -o nospace 2>/dev/null
	# with bash-completion, a word with colons (a BDF) is completed whole: trim what bash keeps
	declare -F __ltrim_colon_completions >/dev/null && __ltrim_colon_completions "$cur"
	return 0
}

_pcitsm_benches='@BENCHES@'

_pcitsm()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n : || return
	else
		words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
		cur=${words[cword]} prev=${words[cword - 1]}
	fi
	if ((cword == 1)); then
		_pcitsm_complete '=@COMMANDS@'
		return
	fi
	local cmd=${words[1]} first=2 opts argopts pos=()
	if [[ $cmd == help ]]; then
		((cword == 2)) && _pcitsm_complete '=@COMMANDS@'
		return
	fi
	if [[ $cmd == bench ]] && ((cword > 2)); then
		cmd="bench ${words[2]}" first=3
	fi
	case $cmd in
@CASES@
	*) return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# Which operand is being typed: the words after the command that are neither options nor
	# an option's value.
	local i n=0
	for ((i = first; i < cword; i++)); do
		if [[ ${words[i]} == -* ]]; then
			[[ " $argopts " == *" ${words[i]} "* ]] && ((i++))
		else
			((n++))
		fi
	done
	((n < ${#pos[@]})) && _pcitsm_complete "${pos[n]}"
	return 0
}
complete -F _pcitsm pcitsm
"""

if __name__ == "__main__":
    main()
