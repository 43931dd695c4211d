#!/usr/bin/env python3
"""make test: prove that the tree, its grader and every handout are honest.

Run by `make test` in the instructors' tree (left out of handouts). It checks,
one line per check, then prints `N passed, N failed` as its last line:

  1. gradelib's own unit tests (no QEMU);
  2. the kernel builds without warnings with clang too (when clang is here);
  3. the solution tree passes every test of every lab (make grade);
  4. for each lab N that has grade/labN.py, the handout for lab N
       - is generated with no marker left and no file of a later lab,
       - builds with -Wall -Werror,
       - passes every test of labs < N and its own unscored sanity checks,
       - fails every scored test of lab N: a scored test that passes on the
         stubs is not testing the student's work.

Child processes get a clean environment for make (no MAKEFLAGS, LAB or SOL
from the instructors' make), but keep ACCEL, so `make test ACCEL=tcg` tests
every tree under TCG.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

GRADE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(GRADE)


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL  {what}", flush=True)
            for line in detail.rstrip().splitlines()[-30:]:
                print(f"      {line}")
        return ok


def child_env():
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "LAB", "SOL",
                "TEST", "KARGS", "DEST", "GRADEFLAGS"):
        env.pop(var, None)
    return env


def run(args, cwd=TOP, timeout=3600):
    r = subprocess.run(args, cwd=cwd, env=child_env(), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace")


def unit_tests(tally):
    suite = unittest.defaultTestLoader.discover(GRADE, pattern="test_*.py")
    result = unittest.TextTestRunner(stream=open(os.devnull, "w"), verbosity=0).run(suite)
    bad = {str(t): why for t, why in result.failures + result.errors}
    n = result.testsRun
    tally.check(n > 0, f"gradelib unit tests found ({n})")
    for test in iter_tests(suite):
        tally.check(str(test) not in bad, f"unit: {test}", bad.get(str(test), ""))


def iter_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


def clang_build(tally):
    if shutil.which("clang") is None:
        print("note  clang is not installed: the clang build was not checked")
        return
    rc, out = run(["make", "-s", "B=build-clang", "CC=clang", "build-clang/kernel",
                   "build-clang/disk.img"])
    tally.check(rc == 0, "the kernel builds with clang -Wall -Werror", out)


def grade(tree, lab, json_path):
    """Grade tree with its own grader; the parsed JSON report, or None."""
    rc, out = run([sys.executable, os.path.join(tree, "grade", "grade.py"),
                   "--tree", tree, "--lab", str(lab), "--json", json_path])
    try:
        with open(json_path) as f:
            return json.load(f), out
    except (OSError, ValueError):
        return None, out


def test_lab(t):
    """(lab number, scored, passed, name, output) from a Gradescope test entry."""
    extra = t.get("extra_data", {})
    lab = extra.get("lab")
    if lab is None:
        lab = int(re.match(r"lab(\d+)", t["name"]).group(1))
    return int(lab), bool(extra.get("scored", t["max_score"] > 0)), \
        t.get("status") == "passed", t["name"], t.get("output", "")


def solution(tally, labs, work):
    report, out = grade(TOP, max(labs), os.path.join(work, "solution.json"))
    if not tally.check(report is not None and report["tests"], "the solution tree is graded", out):
        return
    for t in report["tests"]:
        lab, scored, passed, name, output = test_lab(t)
        tally.check(passed, f"solution passes {name}", output)


def handout(tally, lab, work):
    dest = os.path.join(work, f"lab{lab}")
    rc, out = run([sys.executable, os.path.join(TOP, "labs", "handout.py"), str(lab), dest])
    if not tally.check(rc == 0, f"lab {lab} handout is generated", out):
        return
    later = [p for p in glob.glob(os.path.join(dest, "*", "lab*.*"))
             if int(re.search(r"lab(\d+)", os.path.basename(p)).group(1)) > lab]
    tally.check(not later, f"lab {lab} handout has no file of a later lab", "\n".join(later))
    rc, out = run(["make", "-s"], cwd=dest)
    if not tally.check(rc == 0, f"lab {lab} handout builds with -Wall -Werror", out):
        return
    report, out = grade(dest, lab, os.path.join(work, f"lab{lab}.json"))
    if not tally.check(report is not None and report["tests"], f"lab {lab} handout is graded", out):
        return
    for t in report["tests"]:
        tlab, scored, passed, name, output = test_lab(t)
        if tlab < lab or not scored:
            tally.check(passed, f"lab {lab} handout passes {name}", output)
        else:
            tally.check(not passed, f"lab {lab} handout fails {name} (stubs)",
                        "this scored test passed on the stubs: it does not test the student's work\n"
                        + output)


def main():
    start = time.time()
    tally = Tally()
    labs = sorted(int(re.search(r"lab(\d+)\.py$", p).group(1))
                  for p in glob.glob(os.path.join(GRADE, "lab[0-9]*.py")))
    unit_tests(tally)
    clang_build(tally)
    work = tempfile.mkdtemp(prefix="kestrel-test-")
    try:
        solution(tally, labs, work)
        for lab in labs:
            handout(tally, lab, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"make test: {time.time() - start:.0f} s")
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 0 if tally.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
