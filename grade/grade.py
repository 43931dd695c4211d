#!/usr/bin/env python3
"""Grade a kernel tree: `make grade` runs this.

    grade.py [--lab N] [--test NAME] [--seed N] [-v] [-j JOBS] [--json FILE] [--tree DIR]
#if INSTRUCTOR
    grade.py --batch DIR --out DIR [--lab N] [-j JOBS] [--only-lab]
#endif

Grades lab N and every earlier lab (N defaults to the tree's own lab, from
`make print-lab`), with the tests of grade/lab1.py .. grade/labN.py that sit
beside this file. One line per test, then the failures' details, and last
the line "N passed, N failed". The exit status is 0 if every test passed,
1 if any failed, 2 if grading could not run (bad option, no build).

  --test NAME   only this test (and the tests it needs)
  --seed N      the seed every test draws its inputs from (default: a new
                one per test); a failed test's report gives its seed
  -v            show everything the kernel printed, for every test
  -j JOBS       tests run side by side (default: the number of CPUs)
  --json FILE   also write the results in Gradescope's results.json format
  --tree DIR    grade the kernel tree in DIR (default: the tree holding this file)
#if INSTRUCTOR
  --batch DIR   grade every subdirectory of DIR as one submission, taking
                only the lab's files from it (instructor/batch.py: the
                instructors' tree); write OUT/NAME.json, OUT/summary.csv
  --hang-after S  a kernel that prints no line in S seconds hangs at boot:
                the tree's remaining tests fail at once (batch grading)
  --only-lab    lab N's own tests, not the earlier labs' (make test's
                adversarial batches: the handout check covers those)
#endif

Environment: ACCEL=kvm|tcg as for make; GRADE_TIMEOUT_SCALE=k multiplies
every timeout (for a very slow machine).
"""

import argparse
import glob
import importlib.util
import os
import re
import shutil
import signal
import sys
import time

GRADE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, GRADE)
import gradelib                                   # noqa: E402
from gradelib import GradeError, PASS              # noqa: E402


def lab_scripts():
    """{lab number: path} of the grade/labN.py files beside this one."""
    found = {}
    for path in glob.glob(os.path.join(GRADE, "lab*.py")):
        m = re.fullmatch(r"lab(\d+)\.py", os.path.basename(path))
        if m:
            found[int(m.group(1))] = path
    return found


def load_tests(lab):
    """Load every grade/labN.py; the declared tests of labs <= lab. (The
    instructors' tree is lab 8 while later labs' scripts are still to come.)"""
    scripts = lab_scripts()
    if not scripts:
        raise GradeError(f"no grade/labN.py scripts in {GRADE}")
    if min(scripts) > lab:
        raise GradeError(f"--lab {lab}: no grade/labN.py for labs up to {lab} "
                         f"(labs here: {', '.join(map(str, sorted(scripts)))})")
    if not gradelib.TESTS:
        for n in sorted(scripts):
            spec = importlib.util.spec_from_file_location(f"lab{n}", scripts[n])
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
    return [t for t in gradelib.TESTS if t.lab <= lab]


def select(tests, name):
    """The test called name and, before it, the tests it needs."""
    by_name = {t.name: t for t in tests}
    if name not in by_name:
        raise GradeError(f"no test named '{name}'; tests: {', '.join(by_name)}")
    wanted, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n not in wanted:
            wanted.add(n)
            todo.extend(by_name[n].after)
    return [t for t in tests if t.name in wanted]


def tree_lab(tree):
    out = tree.make("print-lab").strip()
    if not out.isdigit():
        raise GradeError(f"make print-lab in {tree.path} printed {out!r}, not a lab number")
    return int(out)


def summary_line(r):
    pts = f"{r.score}/{r.test.points}" if r.test.scored else "sanity"
    return f"{r.status:7s} lab{r.test.lab} {r.test.name:<24s} {pts:>7s}  ({r.seconds:.1f} s)"


def grade_tree(tree_dir, lab, name, verbose, jobs, json_path, quiet=False, seed=None,
               hang_after=None, only_lab=False):
    """Grade one tree; the list of Results. Prints as it goes unless quiet."""
    start = time.monotonic()
    tree = gradelib.Tree(tree_dir)
    tree.hang_after = hang_after
    if lab is None:
        lab = tree_lab(tree)
    tests = [t for t in load_tests(lab) if t.lab == lab or not only_lab]
    if name:
        tests = select(tests, name)
    tree.prepare()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    say(f"grading lab {lab} ({len(tests)} tests, {tree.accel}) in {tree.path}")

    def show(r):
        say(summary_line(r))
        if verbose or r.status != PASS:
            detail = r.report(verbose)
            if detail:
                say("    " + detail.replace("\n", "\n    "))

    try:
        results = gradelib.run_tests(tree, tests, jobs, show, seed)
    finally:
        tree.cleanup()
    seconds = time.monotonic() - start
    if json_path:
        gradelib.write_json(json_path, gradelib.gradescope_report(results, seconds))
    return results


def tally(results):
    passed = sum(r.status == PASS for r in results)
    return passed, len(results) - passed


#if INSTRUCTOR
def batch(folder, out, lab, jobs, only_lab):
    """Grade a folder of submissions: instructor/batch.py does it."""
    if lab is None:
        raise GradeError("--batch needs --lab N (which lab the submissions are)")
    path = os.path.join(os.path.dirname(GRADE), "instructor", "batch.py")
    if not os.path.isfile(path):
        raise GradeError("batch grading needs the instructors' tree (no instructor/batch.py here)")
    spec = importlib.util.spec_from_file_location("batch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.grade_batch(folder, out, lab, jobs, only_lab)


#endif
def parse_args(argv):
    p = argparse.ArgumentParser(prog="grade.py", description="Grade a kestrel kernel tree.")
    p.add_argument("--lab", type=int)
    p.add_argument("--test", metavar="NAME")
    p.add_argument("--seed", type=int)
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--tree", default=os.path.dirname(GRADE))
#if INSTRUCTOR
    p.add_argument("--batch", metavar="DIR")
    p.add_argument("--out", metavar="DIR")
    p.add_argument("--hang-after", type=float)
    p.add_argument("--only-lab", action="store_true")
#endif
    args = p.parse_args(argv)
    if args.lab is not None and not 1 <= args.lab <= 8:
        p.error(f"--lab {args.lab} is not a lab number from 1 to 8")
    if args.jobs < 1:
        p.error(f"-j {args.jobs}: need at least one job")
    if args.seed is not None and args.seed < 0:
        p.error(f"--seed {args.seed}: a seed is a number >= 0")
#if INSTRUCTOR
    if bool(args.batch) != bool(args.out):
        p.error("--batch and --out go together")
    if args.batch and (args.test or args.json):
        p.error("--batch grades whole submissions: no --test or --json with it")
#endif
    return args


def grade_as_told(args):
    """Grade what the options say; (tests passed, tests failed)."""
#if INSTRUCTOR
    if args.batch:
        return batch(args.batch, args.out, args.lab, args.jobs, args.only_lab)
#endif
    hang_after, only_lab = None, False
#if INSTRUCTOR
    hang_after, only_lab = args.hang_after, args.only_lab
#endif
    results = grade_tree(args.tree, args.lab, args.test, args.verbose, args.jobs, args.json,
                         seed=args.seed, hang_after=hang_after, only_lab=only_lab)
    print(f"score: {sum(r.score for r in results)}/{sum(r.test.points for r in results)}")
    return tally(results)


def stop(signum, frame):
    """SIGTERM, SIGHUP: end like ^C, killing every QEMU and GDB first."""
    raise KeyboardInterrupt


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        if shutil.which("qemu-system-x86_64") is None:
            raise GradeError("qemu-system-x86_64 is not installed (run tools/setup.sh)")
        passed, failed = grade_as_told(args)
    except GradeError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        gradelib.kill_children()
        print("grade: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:             # grade.py | head
        sys.stderr.close()
        return 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
