#!/usr/bin/env python3
"""pcitsm trust boundaries (docs/tsm.md "Three trust domains"): fail, naming file and line, when

  1. a host file (lib/tsm, lib/emu, lib/machine, src/, bench/, include/pcitsm/) includes a header
     of the platform firmware (lib/tsmfw/*.h), or names a function or type that only those
     headers declare (the firmware's internals and its test-only interface; the handles and calls
     of the public command interface include/pcitsm/tio.h are the host's to use);
  2. the TSM (lib/tsm, lib/tsmfw, and its public headers tsm.h, tio.h, platform.h) includes emu.h
     or names anything of lib/emu (pcitsm_emu_*, PCITSM_EMU_*): the platform comes in as ops;
  3. a firmware header includes anything but public headers (pcitsm/*.h) and system headers.

Comments and string literals are not scanned for names. Run by ctest as lint/trust_boundaries;
usage: check-boundaries.py [TOP]
"""

import glob
import os
import re
import sys

TOP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FW_DIR = "lib/tsmfw"
HOST = ["lib/tsm/*.[ch]", "lib/emu/*.[ch]", "lib/machine/*.[ch]", "src/**/*.[ch]",
        "bench/**/*.[ch]", "include/pcitsm/*.h"]
TSM = ["lib/tsm/*.[ch]", FW_DIR + "/*.[ch]", "include/pcitsm/tsm.h", "include/pcitsm/tio.h",
       "include/pcitsm/platform.h"]

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
DECL_FN = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
DECL_TAG = re.compile(r"\b(?:struct|enum|union)\s+([A-Za-z_]\w*)")
TYPEDEF = re.compile(r"\btypedef\b[^;]*?\b([A-Za-z_]\w*)\s*(?:\)\s*\(|;)")
EMU_NAME = re.compile(r"\b(pcitsm_emu_\w*|PCITSM_EMU_\w*)")
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "defined", "__attribute__",
            "format", "printf"}


def files(patterns):
    out = []
    for p in patterns:
        out += glob.glob(os.path.join(TOP, p), recursive=True)
    return sorted(set(out))


def rel(path):
    return os.path.relpath(path, TOP)


def strip(text):
    """The text with comments and string / character literals blanked (line numbers kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    return raw.splitlines(), strip(raw).splitlines()


def declared(paths):
    """Function, tag and typedef names declared in the headers at paths."""
    names = set()
    for p in paths:
        _, code = lines(p)
        text = "\n".join(l for l in code if not l.lstrip().startswith("#"))
        for rx in (DECL_FN, DECL_TAG, TYPEDEF):
            names.update(rx.findall(text))
    return names - KEYWORDS


def main():
    problems = []
    fw_headers = files([FW_DIR + "/*.h"])
    if not fw_headers:
        problems.append(f"{FW_DIR}: no firmware header found (moved? update this check)")
    fw_basenames = {os.path.basename(h) for h in fw_headers}
    public = declared(files(["include/pcitsm/*.h"]))
    fw_only = declared(fw_headers) - public
    fw_name = re.compile(r"\b(" + "|".join(sorted(map(re.escape, fw_only))) + r")\b") \
        if fw_only else None

    # 1. Host files: no firmware header, no firmware-only name.
    for path in files(HOST):
        raw, code = lines(path)
        for n, (r, c) in enumerate(zip(raw, code), 1):
            m = INCLUDE.match(r)
            if m and (m.group(1).startswith("tsmfw/") or "/tsmfw/" in m.group(1) or
                      os.path.basename(m.group(1)) in fw_basenames):
                problems.append(f"{rel(path)}:{n}: host file includes the firmware's header "
                                f"\"{m.group(1)}\"")
            elif fw_name and not m:
                for name in fw_name.findall(c):
                    problems.append(f"{rel(path)}:{n}: host file names the firmware's {name}")

    # 2. The TSM names nothing of the emulated platform.
    for path in files(TSM):
        raw, code = lines(path)
        for n, (r, c) in enumerate(zip(raw, code), 1):
            m = INCLUDE.match(r)
            if m and os.path.basename(m.group(1)) in ("emu.h", "emu_priv.h"):
                problems.append(f"{rel(path)}:{n}: the TSM includes {m.group(1)}")
            elif not m:
                for name in EMU_NAME.findall(c):
                    problems.append(f"{rel(path)}:{n}: the TSM names lib/emu's {name}")

    # 3. Firmware headers include public and system headers only.
    for path in fw_headers:
        raw, _ = lines(path)
        for n, r in enumerate(raw, 1):
            m = INCLUDE.match(r)
            if m and '"' in r and not m.group(1).startswith("pcitsm/"):
                problems.append(f"{rel(path)}:{n}: firmware header includes \"{m.group(1)}\", "
                                "not a public header")

    for p in problems:
        print(p)
    if problems:
        print(f"trust boundaries: {len(problems)} violation(s) (docs/tsm.md)")
        return 1
    print(f"trust boundaries: ok ({len(files(HOST))} host files, {len(files(TSM))} TSM files, "
          f"{len(fw_only)} firmware-only names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
