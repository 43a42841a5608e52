#!/usr/bin/env python3
"""pcitsm module graph: which module includes a header of which other module.

Derived from the tree each time, nothing listed by hand:

  * modules: every directory under lib/ that holds C sources or headers (lib/spdm -> "spdm",
    a nested one such as lib/tsm/fw -> "tsm/fw"), every program under src/ (src/pcitsm ->
    "src/pcitsm"), and bench/;
  * a public header include/pcitsm/<h>.h belongs to the lib module named like it ("spdm.h",
    "spdm_engine.h" -> spdm), else to the lib module whose files include it most;
  * an edge A -> B: a file of A includes a header of B ("pcitsm/<h>.h", a module's private
    header by relative path, or one found through include/ and lib/ as the build finds it).

Modules are grouped by trust domain: host (lib/tsm's core and backend, lib/machine which
assembles the emulated machine as platform boot does, the programs), firmware
(a TSM firmware folder, found by name: lib/tsm/fw, lib/tsmfw, ...), device (lib/emu), and the
shared engines (everything else).

    scripts/modgraph.py            write docs/modules.dot and render docs/modules.png (Graphviz dot)
    scripts/modgraph.py --check    exit 1 if docs/modules.dot differs from the tree (no rendering)
    scripts/modgraph.py --print    print the .dot to stdout

`make graph` runs the first; ctest docs/modules_current runs --check.
"""

import argparse
import collections
import difflib
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOT = "docs/modules.dot"
PNG = "docs/modules.png"
SRC_EXT = (".c", ".h", ".def")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
FIRMWARE = re.compile(r"(^|/)(fw|firmware)$|^tsm_?fw$|fw$")

DOMAINS = [
    # key, label, fill colour, border colour
    ("host", "host (kernel PCI/TSM core, TSM backend, machine assembly, programs)", "#dbe9f6",
     "#2b6ca3"),
    ("firmware", "platform firmware (holds the keys)", "#fde2cf", "#b5520f"),
    ("device", "device side (emulated platform)", "#dff0d8", "#3c763d"),
    ("engine", "shared engines (bytes in, bytes out; transports)", "#eeeeee", "#555555"),
]


def rel(path):
    return os.path.relpath(path, TOP).replace(os.sep, "/")


def source_files(d):
    for root, dirs, names in os.walk(os.path.join(TOP, d)):
        dirs.sort()
        for n in sorted(names):
            if n.endswith(SRC_EXT):
                yield rel(os.path.join(root, n))


def find_modules():
    """{module: [files]} and {file: module} for lib/*, src/*, bench."""
    mods = collections.OrderedDict()
    lib = os.path.join(TOP, "lib")
    for root, dirs, names in sorted(os.walk(lib)):
        dirs.sort()
        own = [n for n in sorted(names) if n.endswith(SRC_EXT)]
        if own and os.path.abspath(root) != os.path.abspath(lib):
            mods[rel(root)[len("lib/"):]] = [rel(os.path.join(root, n)) for n in own]
    src = os.path.join(TOP, "src")
    if os.path.isdir(src):
        for prog in sorted(os.listdir(src)):
            files = list(source_files(os.path.join("src", prog)))
            if files:
                mods["src/" + prog] = files
    bench = list(source_files("bench"))
    if bench:
        mods["bench"] = bench
    owner = {f: m for m, fs in mods.items() for f in fs}
    return mods, owner


def includes(path):
    with open(os.path.join(TOP, path), encoding="utf-8", errors="replace") as f:
        return INCLUDE.findall(f.read())


def resolve(inc, frm):
    """The tree path an #include "inc" in file frm reaches, or None (system or generated)."""
    for base in (os.path.dirname(frm), "include", "lib", "src", ""):
        cand = os.path.normpath(os.path.join(base, inc)).replace(os.sep, "/")
        if os.path.isfile(os.path.join(TOP, cand)):
            return cand
    return None


def header_owners(mods, owner):
    """{include/pcitsm/x.h: module}: by name first, else the lib module that includes it most."""
    libmods = [m for m in mods if not m.startswith("src/") and m != "bench"]
    users = collections.defaultdict(collections.Counter)
    for m, files in mods.items():
        for f in files:
            for inc in includes(f):
                r = resolve(inc, f)
                if r and r.startswith("include/"):
                    users[r][m] += 1
    out = {}
    pub = os.path.join(TOP, "include", "pcitsm")
    for n in sorted(os.listdir(pub)) if os.path.isdir(pub) else []:
        if not n.endswith(".h"):
            continue
        h = "include/pcitsm/" + n
        stem = n[:-2]
        named = [m for m in libmods if m == stem] or \
            sorted((m for m in libmods if stem.startswith(m.split("/")[-1] + "_")),
                   key=len, reverse=True)
        if named:
            out[h] = named[0]
            continue
        ranked = [(c, m) for m, c in users[h].items() if m in libmods]
        if ranked:
            out[h] = max(ranked, key=lambda cm: (cm[0], cm[1]))[1]
    return out


def domain(m):
    if m.startswith("src/") or m == "bench":
        return "host"
    if FIRMWARE.search(m):
        return "firmware"
    if m == "tsm" or m.startswith("tsm/") or m == "machine":
        return "host"
    if m == "emu" or m.startswith("emu/"):
        return "device"
    return "engine"


def graph():
    mods, owner = find_modules()
    howner = header_owners(mods, owner)
    scan = {m: list(fs) for m, fs in mods.items()}
    for h, m in howner.items():  # a public header's includes are its module's
        scan[m].append(h)
    edges = set()
    for m, files in scan.items():
        for f in files:
            for inc in includes(f):
                r = resolve(inc, f)
                if not r:
                    continue
                dst = howner.get(r) or owner.get(r)
                if dst and dst != m:
                    edges.add((m, dst))
    pubs = collections.defaultdict(list)
    for h, m in howner.items():
        pubs[m].append(os.path.basename(h))
    return mods, edges, pubs


def node_id(m):
    return '"' + m + '"'


def render_dot():
    mods, edges, pubs = graph()
    out = ["// Generated by scripts/modgraph.py (make graph) from the includes of lib/, src/ and",
           "// bench/: do not edit. ctest docs/modules_current fails when this file is stale.",
           "digraph pcitsm_modules {",
           '\tgraph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.5,'
           ' compound=true];',
           '\tnode [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
           '\tedge [color="#666666", arrowsize=0.6];']
    for key, label, fill, border in DOMAINS:
        members = [m for m in mods if domain(m) == key]
        if not members:
            continue
        out.append(f"\tsubgraph cluster_{key} {{")
        out.append(f'\t\tlabel="{label}"; style="rounded"; color="{border}";'
                   f' fontcolor="{border}";')
        for m in members:
            name = m if m.startswith("src/") or m == "bench" else "lib/" + m
            hdrs = ", ".join(sorted(pubs.get(m, [])))
            text = name + ("\\n" + hdrs if hdrs else "")
            out.append(f'\t\t{node_id(m)} [label="{text}", fillcolor="{fill}",'
                       f' color="{border}"];')
        out.append("\t}")
    indeg = collections.Counter(b for _, b in edges)
    common = {b for b, n in indeg.items() if n >= 0.75 * (len(mods) - 1)}
    if common:
        out.append("\t// Light: edges into a module nearly every other one includes.")
    for a, b in sorted(edges):
        attr = ""
        if domain(a) == "host" and domain(b) == "firmware":
            attr = ' [color="#d62728", penwidth=2.0, label="host -> firmware"]'
        elif {domain(a), domain(b)} == {"host", "firmware"}:
            attr = ' [color="#b5520f", penwidth=1.5]'
        elif b in common:
            attr = ' [color="#c8c8c8", style=dashed]'
        out.append(f"\t{node_id(a)} -> {node_id(b)}{attr};")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(
        description="Derive the module dependency graph of pcitsm from its includes: write "
                    "docs/modules.dot and render docs/modules.png with Graphviz dot.",
        epilog="Modules: lib/<dir> (nested dirs too), src/<program>, bench; public headers "
               "include/pcitsm/<h>.h belong to the lib module named like them. Clusters: host, "
               "firmware (a lib/tsm/fw or lib/tsmfw folder), device (lib/emu), shared engines.")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true",
                   help="compare docs/modules.dot with the tree; exit 1 and show the diff if stale")
    g.add_argument("--print", action="store_true", help="print the .dot to stdout")
    a = ap.parse_args()
    dot = render_dot()
    if a.print:
        sys.stdout.write(dot)
        return 0
    path = os.path.join(TOP, DOT)
    if a.check:
        try:
            with open(path, encoding="utf-8") as f:
                cur = f.read()
        except FileNotFoundError:
            cur = ""
        if cur == dot:
            print(f"modgraph: {DOT} is current")
            return 0
        sys.stdout.writelines(difflib.unified_diff(cur.splitlines(True), dot.splitlines(True),
                                                   DOT, "tree"))
        print(f"modgraph: {DOT} is stale: run `make graph` and commit docs/modules.*",
              file=sys.stderr)
        return 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(dot)
    print(f"modgraph: wrote {DOT}")
    exe = shutil.which("dot")
    if not exe:
        print("modgraph: Graphviz `dot` not found (scripts/install-deps.sh installs graphviz)",
              file=sys.stderr)
        return 1
    subprocess.run([exe, "-Tpng", "-Gdpi=110", "-o", os.path.join(TOP, PNG), path], check=True)
    print(f"modgraph: wrote {PNG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
