#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the libFuzzer targets of a fuzz build (docs/security.md "The fuzz campaign").

Each target runs for --seconds from its seed corpus (tests/fuzz/corpus/<target>, read only) and
grows a scratch corpus in OUT/<target>; its figures go to a results file (tab-separated, one line a
target, the newest run of a target replacing the older) and, with --doc, into the table between
the fuzz-campaign markers of docs/security.md. A finding is a file libFuzzer left behind (crash-,
leak-, timeout-, oom-, slow-unit-) or an exit with no such file; the script exits 1 if any target
had one, and the finding stays in OUT/<target>.artifacts/ to reproduce (`build-fuzz/fuzz_<target>
FILE`).

  fuzz.py [--build DIR] [--seconds N] [--jobs N] [--targets a,b] [--results TSV] [--doc FILE]
  fuzz.py --doc FILE --results TSV --doc-only     # rewrite the table from a results file

On a terminal one progress line shows the targets running and done; elsewhere a line per target.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import threading
import time

FIELDS = ["target", "seconds", "executions", "exec_per_s", "edges_start", "edges_end",
          "features", "seed_inputs", "corpus_end", "new_units", "peak_rss_mb", "findings",
          "commit", "date"]
BEGIN = "<!-- fuzz-campaign:begin (scripts/fuzz.py --doc writes this table) -->"
END = "<!-- fuzz-campaign:end -->"
STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
ARTIFACT = ("crash-", "leak-", "timeout-", "oom-", "slow-unit-")


def stat(log, name):
    m = re.search(r"^stat::%s:\s+(\d+)" % name, log, re.M)
    return int(m.group(1)) if m else 0


def parse_log(log):
    """The figures of one libFuzzer run from its log."""
    start = end = feat = corp = 0
    for line in log.splitlines():
        m = STATUS.match(line)
        if not m:
            continue
        cov, ft, n = int(m.group(3)), int(m.group(4)), int(m.group(5))
        if m.group(2) == "INITED" and not start:
            start = cov
        end, feat, corp = max(end, cov), max(feat, ft), n
    return {
        "executions": stat(log, "number_of_executed_units"),
        "exec_per_s": stat(log, "average_exec_per_sec"),
        "new_units": stat(log, "new_units_added"),
        "peak_rss_mb": stat(log, "peak_rss_mb"),
        "edges_start": start, "edges_end": end, "features": feat, "corpus_end": corp,
    }


def commit_id():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_target(args, name, commit):
    binary = os.path.join(args.build, "fuzz_" + name)
    seed = os.path.join("tests", "fuzz", "corpus", name)
    scratch = os.path.join(args.out, name)
    artifacts = scratch + ".artifacts"
    os.makedirs(scratch, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    cmd = [binary, "-max_total_time=%d" % args.seconds, "-print_final_stats=1",
           "-timeout=%d" % args.timeout, "-artifact_prefix=" + artifacts + "/", scratch]
    if os.path.isdir(seed):
        cmd.append(seed)
    logpath = scratch + ".log"
    with open(logpath, "w") as logf:
        rc = subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT).returncode
    with open(logpath, errors="replace") as logf:
        row = parse_log(logf.read())
    found = [f for f in os.listdir(artifacts) if f.startswith(ARTIFACT)]
    row.update(target=name, seconds=args.seconds, commit=commit,
               seed_inputs=len(os.listdir(seed)) if os.path.isdir(seed) else 0,
               findings=len(found) if found or rc == 0 else 1,
               date=datetime.date.today().isoformat())
    return row


def read_results(path):
    rows = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                vals = line.rstrip("\n").split("\t")
                rows[vals[0]] = dict(zip(FIELDS, vals))
    return rows


def write_results(path, rows):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write("#" + "\t".join(FIELDS) + "\n")
        for name in sorted(rows):
            f.write("\t".join(str(rows[name].get(k, "")) for k in FIELDS) + "\n")
    os.replace(path + ".tmp", path)


def table(rows):
    out = ["| target | s | executions | exec/s | edges (start → end) | features | corpus "
           "(seed → end) | findings | commit | date |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name in sorted(rows):
        r = rows[name]
        out.append("| `%s` | %s | %s | %s | %s → %s | %s | %s → %s | %s | %s | %s |" % (
            name, r["seconds"], "{:,}".format(int(r["executions"])),
            "{:,}".format(int(r["exec_per_s"])), r["edges_start"], r["edges_end"],
            r["features"], r["seed_inputs"], r["corpus_end"], r["findings"], r["commit"],
            r["date"]))
    return "\n".join(out)


def update_doc(path, rows):
    with open(path) as f:
        text = f.read()
    a, b = text.find(BEGIN), text.find(END)
    if a < 0 or b < a:
        sys.exit("fuzz.py: %s has no fuzz-campaign markers" % path)
    text = text[:a + len(BEGIN)] + "\n" + table(rows) + "\n" + text[b:]
    with open(path, "w") as f:
        f.write(text)


class Progress:
    """One line on a terminal: targets done, running, elapsed; nothing elsewhere."""

    def __init__(self, total):
        self.tty = sys.stderr.isatty()
        self.total, self.done, self.running = total, 0, []
        self.t0 = time.monotonic()
        self.lock = threading.Lock()

    def show(self):
        if not self.tty:
            return
        s = int(time.monotonic() - self.t0)
        line = "fuzz: %d/%d done, %d:%02d, running %s" % (
            self.done, self.total, s // 60, s % 60, " ".join(self.running))
        sys.stderr.write("\r\033[K" + line[:160])
        sys.stderr.flush()

    def line(self, text):
        if self.tty:
            sys.stderr.write("\r\033[K")
        print(text, flush=True)
        self.show()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-fuzz")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=10, help="seconds an input may take")
    ap.add_argument("--targets", default="", help="comma-separated; default every fuzz_* built")
    ap.add_argument("--out", default="")
    ap.add_argument("--results", default="")
    ap.add_argument("--doc", default="")
    ap.add_argument("--doc-only", action="store_true")
    args = ap.parse_args()
    args.out = args.out or os.path.join(args.build, "fuzz-out")
    args.results = args.results or os.path.join(args.build, "fuzz-results.tsv")

    rows = read_results(args.results)
    if args.doc_only:
        update_doc(args.doc, rows)
        return 0
    built = sorted(f[5:] for f in os.listdir(args.build)
                   if f.startswith("fuzz_") and os.access(os.path.join(args.build, f), os.X_OK))
    names = [t for t in args.targets.split(",") if t] or built
    missing = [t for t in names if t not in built]
    if missing:
        sys.exit("fuzz.py: not built in %s: %s" % (args.build, ", ".join(missing)))

    commit, prog, todo, failed = commit_id(), Progress(len(names)), list(names), []

    def worker():
        while True:
            with prog.lock:
                if not todo:
                    return
                name = todo.pop(0)
                prog.running.append(name)
                prog.show()
            row = run_target(args, name, commit)
            with prog.lock:
                prog.running.remove(name)
                prog.done += 1
                rows[name] = row
                write_results(args.results, rows)
                if int(row["findings"]):
                    failed.append(name)
                prog.line("%-24s %12s runs %8s/s  edges %5s -> %5s  corpus %4s -> %5s  "
                          "findings %s%s" % (
                              name, "{:,}".format(row["executions"]),
                              "{:,}".format(row["exec_per_s"]), row["edges_start"],
                              row["edges_end"], row["seed_inputs"], row["corpus_end"],
                              row["findings"],
                              "  (see %s.artifacts)" % os.path.join(args.out, name)
                              if int(row["findings"]) else ""))

    threads = [threading.Thread(target=worker) for _ in range(max(1, args.jobs))]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        with prog.lock:
            prog.show()
    if prog.tty:
        sys.stderr.write("\r\033[K")
    if args.doc:
        update_doc(args.doc, rows)
    if failed:
        print("fuzz: findings in " + ", ".join(failed))
        return 1
    print("fuzz: %d targets, %d s each, no findings" % (len(names), args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
