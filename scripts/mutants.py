#!/usr/bin/env python3
"""pcitsm mutation check: every security check has a test that fails without it.

Reads the mutation table, every tests/mutants/*.txt, blocks separated by blank lines, '#' lines
are comments:

    id: short-unique-id                  unique over all the files
    file: lib/idekm/rsp.c                path from the top of the tree
    find: if (h.port_index != s->port_index)
    replace: if (0)
    tests: unit/test_idekm_rsp unit/test_idekm
    ci: yes                              optional: in the subset `make mutants-ci` runs

`find` is a fragment of one line that occurs exactly once in the file (its leading whitespace is
ignored); the mutant is the file with that fragment replaced by `replace`. `tests` are ctest names
as `ctest -N` prints them; at least one of them must fail with the mutant.

The table is validated first (fragment found exactly once, unique ids, known keys, tests that
exist); a bad entry stops the run, named. The working tree is never edited: the tracked and
untracked-but-not-ignored files are copied into build-mutants/src, configured into
build-mutants/build (warnings not errors: a mutant is judged by the tests), and the unmutated suite must pass there before any mutant runs. Then each
mutant in turn: patch one file of the copy, rebuild, run the named tests (--full: the whole
suite), restore the file. A mutant is caught when its tests fail or it does not build (said
which); otherwise it SURVIVED. Exit status 1 names every survivor; 2 is a bad table or a broken
baseline.

    scripts/mutants.py                    every entry, named tests      (make mutants)
    scripts/mutants.py --subset ci        entries marked ci: yes        (make mutants-ci)
    scripts/mutants.py --only a,b         some entries (or MUTANTS=a,b in the environment)
    scripts/mutants.py --full             the whole ctest suite per mutant (slow)
    scripts/mutants.py --check            validate the table only
    scripts/mutants.py --report FILE      also write the result table (Markdown) to FILE
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = ("id", "file", "find", "replace", "tests", "ci")
REQUIRED = ("id", "file", "find", "replace", "tests")
TEST_NAME = re.compile(r"^[A-Za-z0-9_./-]+$")


class TableError(Exception):
    pass


def parse_table(path):
    """The entries of one table file, each a dict with its origin in '_where'."""
    entries, cur = [], None
    rel = os.path.relpath(path, TOP)
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.lstrip().startswith("#"):
                continue
            if not line.strip():
                cur = None
                continue
            key, sep, val = line.partition(":")
            key = key.strip()
            if not sep or key not in KEYS:
                raise TableError(f"{rel}:{n}: expected 'key: value' with key one of {KEYS}")
            if cur is None:
                cur = {"_where": f"{rel}:{n}"}
                entries.append(cur)
            if key in cur:
                raise TableError(f"{rel}:{n}: '{key}' twice in one entry")
            cur[key] = val.strip()
    for e in entries:
        for k in REQUIRED:
            if not e.get(k):
                raise TableError(f"{e['_where']}: entry {e.get('id', '?')} has no '{k}'")
        e["tests"] = e["tests"].split()
        if e.get("ci", "no") not in ("yes", "no"):
            raise TableError(f"{e['_where']}: {e['id']}: ci must be yes or no")
    return entries


def load_tables(src):
    tables = sorted(os.path.join(src, "tests", "mutants", n)
                    for n in os.listdir(os.path.join(src, "tests", "mutants"))
                    if n.endswith(".txt"))
    entries = [e for t in tables for e in parse_table(t)]
    if not entries:
        raise TableError("tests/mutants/*.txt holds no entry")
    return entries


def validate(entries, src, known_tests):
    seen = {}
    for e in entries:
        where, eid = e["_where"], e["id"]
        if eid in seen:
            raise TableError(f"{where}: id {eid} already used at {seen[eid]}")
        seen[eid] = where
        path = os.path.join(src, e["file"])
        if not os.path.isfile(path):
            raise TableError(f"{where}: {eid}: no file {e['file']}")
        with open(path, encoding="utf-8") as f:
            count = f.read().count(e["find"])
        if count != 1:
            raise TableError(f"{where}: {eid}: 'find' occurs {count} times in {e['file']}, "
                             "must be exactly once")
        if e["find"] == e["replace"]:
            raise TableError(f"{where}: {eid}: 'replace' equals 'find'")
        for t in e["tests"]:
            if not TEST_NAME.match(t) or t not in known_tests:
                raise TableError(f"{where}: {eid}: no test named {t} in ctest -N")


def git_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=TOP, check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p and os.path.isfile(os.path.join(TOP, p))]


def sync_copy(src):
    """Make src a copy of the working tree, touching only files that differ (ninja reuses the
    rest) and removing files that are gone."""
    files = set(git_files())
    for rel in files:
        a, b = os.path.join(TOP, rel), os.path.join(src, rel)
        if os.path.isfile(b):
            with open(a, "rb") as fa, open(b, "rb") as fb:
                if fa.read() == fb.read():
                    continue
        os.makedirs(os.path.dirname(b), exist_ok=True)
        shutil.copy2(a, b)
    for root, _, names in os.walk(src):
        for n in names:
            rel = os.path.relpath(os.path.join(root, n), src)
            if rel not in files:
                os.remove(os.path.join(root, n))


def run(cmd, cwd, log=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if log:
        with open(log, "w") as f:
            f.write(p.stdout)
    return p.returncode, p.stdout


def ctest_names(build):
    rc, out = run(["ctest", "-N"], build)
    if rc:
        raise TableError("ctest -N failed in " + build)
    return set(re.findall(r"Test\s+#\d+: (\S+)", out))


def targets_for(tests):
    """The build targets the tests need: a unit or fuzz-corpus test needs its own executable,
    anything else (integration scripts use the CLI and the daemon) the whole tree."""
    targets = []
    for t in tests:
        kind, _, name = t.partition("/")
        if kind == "unit":
            targets.append(name)
        elif kind == "fuzz-corpus":
            targets.append("fuzz_" + name)
        else:
            return None
    return targets


def build(build_dir, targets, jobs, log):
    cmd = ["cmake", "--build", build_dir, "-j", str(jobs)]
    if targets:
        cmd += ["--target"] + targets
    return run(cmd, TOP, log)[0] == 0


def run_tests(build_dir, tests, jobs, log):
    """(passed, names of the tests that failed). tests None: the whole suite."""
    cmd = ["ctest", "--timeout", "120", "-j", str(jobs), "--output-on-failure"]
    if tests is not None:
        cmd += ["-R", "^(" + "|".join(t.replace(".", r"\.") for t in tests) + ")$"]
    rc, out = run(cmd, build_dir, log)
    failed = re.findall(r"^\s*\d+ - (\S+) \(", out, re.M)
    return rc == 0, failed


def main():
    ap = argparse.ArgumentParser(description="pcitsm mutation check (see the header comment)")
    ap.add_argument("--only", help="comma-separated ids to run (default: $MUTANTS or all)")
    ap.add_argument("--subset", choices=["ci"], help="ci: only the entries marked 'ci: yes'")
    ap.add_argument("--full", action="store_true", help="run the whole suite per mutant")
    ap.add_argument("--check", action="store_true", help="validate the table and stop")
    ap.add_argument("--report", help="write the result table (Markdown) to this file")
    ap.add_argument("--dir", default=os.path.join(TOP, "build-mutants"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    work = os.path.abspath(args.dir)
    src, bdir = os.path.join(work, "src"), os.path.join(work, "build")
    os.makedirs(src, exist_ok=True)
    sync_copy(src)
    # Warnings are not errors here: a mutant that leaves a variable unused is judged by the
    # tests, not by the compiler.
    rc, out = run(["cmake", "-S", src, "-B", bdir, "-G", "Ninja",
                   "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DPCITSM_WERROR=OFF",
                   # A mutant that makes a test spin (a wait loop without its timeout) is caught
                   # by the test's TIMEOUT property, which overrides ctest --timeout: keep it
                   # short here (the unmutated release suite's slowest unit test takes seconds).
                   "-DPCITSM_TEST_TIMEOUT=60", "-DPCITSM_INTEG_TIMEOUT=120"], TOP)
    if rc:
        print(out)
        print("mutants: configure failed")
        return 2
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    try:
        entries = load_tables(TOP)
        validate(entries, TOP, ctest_names(bdir))
    except TableError as e:
        print(f"mutants: bad table entry: {e}")
        return 2

    only = args.only or os.environ.get("MUTANTS")
    if only:
        want = [i for i in only.split(",") if i]
        ids = {e["id"] for e in entries}
        unknown = [i for i in want if i not in ids]
        if unknown:
            print("mutants: no entry with id " + ", ".join(unknown))
            return 2
        entries = [e for e in entries if e["id"] in want]
    if args.subset == "ci":
        entries = [e for e in entries if e.get("ci") == "yes"]
    print(f"mutants: {len(entries)} entries, tables valid")
    if args.check:
        return 0

    # The unmutated tree must build and pass the tests the mutants will be judged by, or a
    # failure would be counted as a catch.
    union = None if args.full else sorted({t for e in entries for t in e["tests"]})
    targets = None if union is None else targets_for(union)
    t0 = time.monotonic()
    if not build(bdir, targets, args.jobs, os.path.join(logs, "baseline-build.log")):
        print(f"mutants: the unmutated tree does not build, see {logs}/baseline-build.log")
        return 2
    ok, failed = run_tests(bdir, union, args.jobs, os.path.join(logs, "baseline-test.log"))
    if not ok:
        print("mutants: the unmutated tree fails " + (" ".join(failed) or "its tests")
              + f", see {logs}/baseline-test.log")
        return 2
    print(f"mutants: baseline passes ({time.monotonic() - t0:.0f} s)")

    results, survivors = [], []
    for e in entries:
        path = os.path.join(src, e["file"])
        with open(path, encoding="utf-8") as f:
            original = f.read()
        t1 = time.monotonic()
        log = os.path.join(logs, e["id"])
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(e["find"], e["replace"], 1))
            targets = None if args.full else targets_for(e["tests"])
            if not build(bdir, targets, args.jobs, log + ".build.log"):
                verdict, by = "caught", "build failed"
            else:
                ok, failed = run_tests(bdir, None if args.full else e["tests"], args.jobs,
                                       log + ".test.log")
                verdict = "SURVIVED" if ok else "caught"
                by = "" if ok else " ".join(failed) or "tests failed"
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
        secs = time.monotonic() - t1
        print(f"{verdict:8}  {e['id']:28}  {e['file']:28}  {by or '-'}  ({secs:.0f} s)",
              flush=True)
        results.append((e, verdict, by, secs))
        if verdict == "SURVIVED":
            survivors.append(e["id"])

    total = time.monotonic() - t0
    print(f"mutants: {len(results)} run, {len(results) - len(survivors)} caught, "
          f"{len(survivors)} survived, {total:.0f} s")
    if args.report:
        with open(args.report, "w") as f:
            f.write("| id | file | caught by | time |\n|---|---|---|---|\n")
            for e, verdict, by, secs in results:
                f.write(f"| {e['id']} | {e['file']} | {by if verdict == 'caught' else 'SURVIVED'}"
                        f" | {secs:.0f} s |\n")
    if survivors:
        print("mutants: SURVIVED: " + " ".join(survivors))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
