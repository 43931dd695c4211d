#!/usr/bin/env python3
"""Gradescope's autograder for one lab.

    python3 instructor/autograder.py LAB ZIP     write the zip (make autograder LAB=n)
    python3 instructor/autograder.py --run LAB   grade a submission, in Gradescope's container

Gradescope unzips the zip into /autograder/source, runs setup.sh there once
(as root, to build its image), and runs run_autograder for each submission,
which it has put in /autograder/submission; the results go to
/autograder/results/results.json. The zip holds:

    setup.sh, run_autograder   Gradescope's two entry points
    handout/                   lab LAB's pristine handout (no solutions)
    grade/                     the instructors' grader: gradelib, grade.py and
                               the tests of labs 1..LAB, hidden ones included
    tools/                     the handout's tools (gradelib needs freeport.py)
    instructor/                this file and batch.py

A submission is graded exactly as batch grading does it (instructor/batch.py):
only the lab's student files are taken from it, onto a copy of handout/.
"""

import os
import shutil
import stat
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(TOP, "grade"), HERE]
import batch                                        # noqa: E402
import gradelib                                     # noqa: E402

SUBMISSION = "/autograder/submission"
RESULTS = "/autograder/results/results.json"

SETUP = """#!/bin/sh
# Gradescope runs this once, as root, to build the autograder's image:
# make, then what the handout's tools/setup.sh installs (QEMU, GDB, gcc,
# the C library headers, Python 3, bubblewrap for the sandbox the
# submissions run in, ...).
set -e
cd "$(dirname "$0")"
chmod -R a+rX . && chmod a+x /autograder run_autograder handout/tools/*
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
  make util-linux >/dev/null
handout/tools/setup.sh
rm -rf handout/build
"""

RUN = """#!/bin/sh
# Gradescope runs this for each submission (in /autograder/submission).
exec python3 /autograder/source/instructor/autograder.py --run {lab}
"""


def write_zip(lab, dest):
    """The autograder of lab, as the zip file dest (written whole or not at all)."""
    import handout
    lab = handout.parse_lab(TOP, lab)
    if not dest.endswith(".zip") or not os.path.isdir(os.path.dirname(os.path.abspath(dest))):
        raise handout.HandoutError(f"{dest}: not a .zip file in an existing folder")
    scratch = tempfile.mkdtemp(prefix="kestrel-autograder-")
    tmp = dest + ".tmp"
    try:
        handout.make_handout(TOP, lab, os.path.join(scratch, "handout"), False)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            def add(path, name):
                z.write(path, name)
            def add_text(name, text):
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFREG | 0o755) << 16
                z.writestr(info, text)
            for d, dirs, files in os.walk(os.path.join(scratch, "handout")):
                for f in files:
                    path = os.path.join(d, f)
                    rel = os.path.relpath(path, scratch)
                    add(path, rel)
                    if rel.startswith("handout/tools/"):
                        add(path, rel[len("handout/"):])
            grade = os.path.join(TOP, "grade")
            for f in ["gradelib.py", "grade.py"] + [f"lab{n}.py" for n in range(1, lab + 1)]:
                if os.path.exists(os.path.join(grade, f)):
                    add(os.path.join(grade, f), f"grade/{f}")
            for f in ("batch.py", "autograder.py"):
                add(os.path.join(HERE, f), f"instructor/{f}")
            add_text("setup.sh", SETUP)
            add_text("run_autograder", RUN.format(lab=lab))
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if os.path.exists(tmp):
            os.unlink(tmp)


def run(lab):
    """Grade /autograder/submission; write /autograder/results/results.json."""
    tests = batch.grade_module().load_tests(lab)
    work = tempfile.mkdtemp(prefix="kestrel-submission-")
    os.chmod(work, 0o711)
    os.mkdir(os.path.join(work, "sub"))
    try:
        report = batch.grade_one(os.path.join(TOP, "handout"), TOP, lab, SUBMISSION,
                                 os.path.join(work, "sub"), os.cpu_count() or 2)
    except Exception as e:          # the student still gets a report
        report = batch.not_graded(tests, f"grader error: {e}", 0.0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    gradelib.write_json(RESULTS, report)
    print(report["output"])
    print(f"score: {report['score']}/{sum(t['max_score'] for t in report['tests'])}")


def main(argv):
    try:
        if len(argv) == 2 and argv[0] == "--run" and argv[1].isdigit():
            run(int(argv[1]))
        elif len(argv) == 2 and not argv[0].startswith("-"):
            write_zip(argv[0], argv[1])
            print(f"autograder: lab {argv[0]} written to {argv[1]} (upload it to Gradescope)")
        else:
            print("usage: autograder.py LAB ZIP | autograder.py --run LAB", file=sys.stderr)
            return 2
    except Exception as e:
        print(f"autograder: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
