#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The installed libpcitsm.so exports the public API and nothing else (docs/install.md).

  exports.py NM LIB ARCHIVE SRC

LIB is the installed shared library, ARCHIVE the static one of the same build (its globals are
every function the library's files share), SRC the source tree. Checked:
- every exported symbol is named in include/pcitsm/*.h and starts with pcitsm_;
- no function declared only in a private header (lib/**/*.h) is exported, and there are such
  functions among the archive's globals (else the check would prove nothing);
- every global of the archive named in a public header is exported (the version script was
  applied to the whole API, not to a part).
Prints the counts; exits 1 naming what is wrong.
"""
import glob
import os
import re
import subprocess
import sys

LEXEMES = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def text(path):
    with open(path, encoding="utf-8") as f:
        return LEXEMES.sub(" ", f.read())


def nm(tool, args):
    out = subprocess.run([tool, "-P"] + args, check=True, capture_output=True, text=True).stdout
    return {f[0] for f in (line.split() for line in out.splitlines())
            if len(f) >= 2 and len(f[1]) == 1 and f[1] in "TDRBGSVWi"}


def main():
    tool, lib, archive, src = sys.argv[1:5]
    public = set()
    for h in glob.glob(os.path.join(src, "include/pcitsm/*.h")):
        public.update(re.findall(r"\b[A-Za-z_]\w*\b", text(h)))
    private_decl = set()
    for h in glob.glob(os.path.join(src, "lib/**/*.h"), recursive=True):
        private_decl.update(re.findall(r"\b([A-Za-z_]\w*)\s*\(", text(h)))
    private_decl -= public

    exported = nm(tool, ["-D", "--defined-only", lib])
    shared = nm(tool, ["-g", "--defined-only", archive])
    private = shared & private_decl
    bad = sorted(exported - public)
    bad += sorted(s for s in exported if not s.startswith("pcitsm_") and s not in bad)
    leaked = sorted(exported & private_decl)
    missing = sorted((shared & public) - exported)
    print(f"exports: {len(exported)} exported; {len(private)} private globals of the archive "
          f"(declared in lib/**/*.h only), {len(leaked)} of them exported; "
          f"{len(shared - exported)} globals kept local")
    ok = True
    if not exported:
        print("exports: the library exports nothing", file=sys.stderr)
        ok = False
    if not private:
        print("exports: no private function found among the archive's globals: the check is "
              "vacuous", file=sys.stderr)
        ok = False
    for what, names in (("exported but not in include/pcitsm/*.h or not pcitsm_", bad),
                        ("private (lib/**/*.h) but exported", leaked),
                        ("public but not exported", missing)):
        if names:
            print(f"exports: {what}: {' '.join(names[:20])}"
                  f"{' ...' if len(names) > 20 else ''} ({len(names)})", file=sys.stderr)
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
