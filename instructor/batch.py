"""Grade students' submissions with the instructors' files only.

`grade/grade.py --batch DIR --out OUT --lab N` calls grade_batch(); the
Gradescope autograder (instructor/autograder.py) calls grade_one(). For each
submission:

  1. Trust only the files students edit. A fresh copy of lab N's pristine
     handout gets the lab's student files (labs/manifest's "edit N" lines,
     and answers-labN.txt) from the submission, as regular files of at most
     FILE_CAP bytes: a symlink is not followed. A file is looked for at its
     path, else in a handin-labN.tar.gz (make handin), else as the one file
     of its name anywhere in the submission (a flat upload). Every other
     file that differs from the handout is ignored and listed in the report:
     the Makefile, GDB setup, helpers, tests and build/ are the handout's.
  2. Build with that Makefile, then grade with the instructors' grade/
     (tests, gradelib), in a sandbox (below), within BUILD_CAP and
     SUBMISSION_CAP seconds. A batch builds the pristine handout once, and
     each submission's tree starts from that build/ (never the student's):
     make rebuilds what the student files change. A build that fails
     scores 0, with its first error in the report.
  3. A kernel that prints no line within the batch's hang deadline hangs
     at boot, and the rest of that submission's tests fail at once: a
     hanging submission costs seconds. The deadline is measured on this
     host first, by booting the handout's kernel (its banner comes before
     any lab code) as many times at once as tests run side by side:
     HANG_FACTOR times the slowest first line, and at least HANG_FLOOR s.
  4. Report in Gradescope's format: every test of labs 1..N, even when the
     build failed or time ran out, so max_score is always right.

The sandbox: bubblewrap, run as an unprivileged user (nobody, when we are
root), with its own network (loopback only), process and IPC namespaces,
and a file system of /usr and /etc (read-only), the grader's grade/ and
tools/ (read-only) and the submission's work folder: not the instructors'
tree, not other submissions. Killing it kills everything inside. Where
bubblewrap cannot make namespaces (some containers), the build and tests
still run as nobody, and the report says that the network was not cut off.
"""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(TOP, "grade"), HERE]
import gradelib                                     # noqa: E402
from gradelib import GradeError, Result, FAIL, PASS  # noqa: E402

FILE_CAP = 1 << 20          # bytes of one student file
BUILD_CAP = 300             # seconds for a build from clean
SUBMISSION_CAP = 900        # seconds for one submission, build included
HANG_FACTOR = 10            # the hang deadline: this many times the measured first line,
HANG_FLOOR = 10             # and at least this many seconds
NOBODY = 65534
SKIP = {"build", ".git", "__pycache__", ".gdbinit", ".gdbport", "compile_commands.json"}
SYSTEM = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


## Taking the student files ##################################################

def read_regular(path, inside):
    """path's bytes if it is a regular file within inside, reached through
    no symlink; else (None, why)."""
    if os.path.realpath(path) != os.path.join(os.path.realpath(inside),
                                              os.path.relpath(path, inside)):
        return None, "is a symbolic link (or lies under one): not followed"
    if not os.path.isfile(path):
        return None, "is not a regular file"
    if os.path.getsize(path) > FILE_CAP:
        return None, f"is over {FILE_CAP} bytes"
    with open(path, "rb") as f:
        return f.read(), None


def from_tarball(sub, lab, path):
    """path's bytes from the submission's handin-labN.tar.gz, if it holds
    path as a regular file; None otherwise."""
    tgz = os.path.join(sub, f"handin-lab{lab}.tar.gz")
    data, _ = read_regular(tgz, sub) if os.path.lexists(tgz) else (None, None)
    if data is None:
        return None
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for m in tar.getmembers():
                if os.path.normpath(m.name) == path and m.isfile() and m.size <= FILE_CAP:
                    return tar.extractfile(m).read()
    except (tarfile.TarError, OSError, EOFError):
        pass
    return None


def by_name(sub, path):
    """The one regular file named like path anywhere in the submission."""
    found = []
    for d, dirs, files in os.walk(sub):
        dirs[:] = [x for x in dirs if x not in SKIP]
        found += [os.path.join(d, f) for f in files if f == os.path.basename(path)]
    return found[0] if len(found) == 1 else None


def take_student_files(sub, lab, manifest):
    """{path: bytes} of the lab's student files found in sub, the paths in
    sub they came from, and notes."""
    taken, sources, notes = {}, [], []
    for path in manifest.student_files(lab):
        where = os.path.join(sub, path)
        if not os.path.lexists(where):
            data = from_tarball(sub, lab, path)
            if data is not None:
                taken[path] = data
                continue
            where = by_name(sub, path)
            if where is None:
                notes.append(f"{path}: not in the submission")
                continue
        data, why = read_regular(where, sub)
        if data is None:
            notes.append(f"{os.path.relpath(where, sub)} {why}: not taken")
        else:
            taken[path] = data
            sources.append(os.path.relpath(where, sub))
    return taken, sources, notes


def ignored_changes(sub, handout, taken, limit=20):
    """Paths of files in sub, other than those taken, that differ from the
    handout (or are not in it): the grader ignores them."""
    out = ["build/ (the grader builds from clean)"] if os.path.lexists(
        os.path.join(sub, "build")) else []
    for d, dirs, files in os.walk(sub):
        dirs[:] = sorted(x for x in dirs if x not in SKIP)
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(d, f), sub)
            if rel in taken or f in SKIP or f.startswith("handin-lab"):
                continue
            mine, _ = read_regular(os.path.join(d, f), sub)
            try:
                with open(os.path.join(handout, rel), "rb") as h:
                    same = mine == h.read()
            except OSError:
                same = False
            if not same:
                out.append(rel)
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


## The sandbox ##############################################################

_sandbox = {}


def privilege_drop():
    """setpriv's arguments to run as nobody, when we are root (with /dev/kvm's group)."""
    if os.geteuid() != 0:
        return []
    groups = f"--groups={os.stat('/dev/kvm').st_gid}" if os.path.exists("/dev/kvm") \
        else "--clear-groups"
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", groups, "--"]


def bwrap(binds_ro, binds_rw, cwd):
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
            "--dev", "/dev", "--dev-bind-try", "/dev/kvm", "/dev/kvm",
            "--proc", "/proc", "--tmpfs", "/tmp"]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    for p in binds_ro:
        argv += ["--ro-bind", p, p]
    for p in binds_rw:
        argv += ["--bind", p, p]
    return argv + ["--chdir", cwd, "--"]


def sandbox_kind():
    """'bubblewrap' if bwrap can make its namespaces here, else 'setpriv'."""
    if "kind" not in _sandbox:
        ok = shutil.which("bwrap") is not None and subprocess.run(
            privilege_drop() + bwrap([], [], "/") + ["true"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
        _sandbox["kind"] = "bubblewrap" if ok else "setpriv"
    return _sandbox["kind"]


def run_sandboxed(argv, work, cwd, grader, timeout):
    """Run argv in the sandbox, writable folder work; (status, output,
    timed out). The whole process group is killed at the timeout."""
    if os.geteuid() == 0:
        for d, dirs, files in os.walk(work):
            for p in [d] + [os.path.join(d, x) for x in dirs + files]:
                os.lchown(p, NOBODY, NOBODY)
    prefix = privilege_drop()
    if sandbox_kind() == "bubblewrap":
        prefix += bwrap([os.path.join(grader, "grade"), os.path.join(grader, "tools")],
                        [work], cwd)
    env = {"PATH": SYSTEM, "HOME": "/tmp", "LANG": "C.UTF-8"}
    env.update({k: os.environ[k] for k in ("ACCEL", "GRADE_TIMEOUT_SCALE") if k in os.environ})
    p = gradelib.spawn(prefix + argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=max(timeout, 1))
        return p.returncode, out.decode(errors="replace"), False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return p.returncode, out.decode(errors="replace"), True
    finally:
        gradelib.reap(p)


## Grading one submission ####################################################

def not_graded(tests, why, seconds):
    """A report for a submission whose tests did not run: each scores 0."""
    return gradelib.gradescope_report(
        [Result(t, FAIL, f"not run: {why}", None, 0.0) for t in tests], seconds)


def grade_one(handout, grader, lab, sub, work, jobs, hang_after=None, only_lab=False):
    """Grade the submission in folder sub, as lab lab, with the pristine
    handout (a folder, perhaps built) and the grader's grade/ and tools/
    (under the folder grader), working in the empty folder work.
    hang_after: the hang deadline (see above); only_lab: lab's own tests,
    not the earlier labs'. Gradescope's report, a dict."""
    start = time.monotonic()
    tests = [t for t in grade_module().load_tests(lab) if t.lab == lab or not only_lab]
    manifest = gradelib.Manifest(handout)
    tree = os.path.join(work, "tree")
    shutil.copytree(handout, tree, symlinks=True)
    taken, sources, notes = take_student_files(sub, lab, manifest)
    for path, data in taken.items():
        with open(os.path.join(tree, path), "wb") as f:
            f.write(data)
    ignored = ignored_changes(sub, handout, sources + manifest.student_files(lab))

    status, out, late = run_sandboxed(["make", "-s", "all"], work, tree, grader, BUILD_CAP)
    result = os.path.join(work, "results.json")
    if late:
        report = not_graded(tests, f"the build took over {BUILD_CAP} s", time.monotonic() - start)
    elif status != 0:
        why = "the build failed: " + gradelib.first_error(out)
        report = not_graded(tests, why, time.monotonic() - start)
        notes.append(why + "\n" + gradelib.tail(out, 15))
    else:
        left = SUBMISSION_CAP - (time.monotonic() - start)
        options = (["--hang-after", f"{hang_after:.1f}"] if hang_after else []) + \
            (["--only-lab"] if only_lab else [])
        status, out, late = run_sandboxed(
            ["python3", os.path.join(grader, "grade", "grade.py"), "--tree", tree,
             "--lab", str(lab), "-j", str(jobs), "--json", result, *options],
            work, tree, grader, left)
        try:
            with open(result) as f:
                report = json.load(f)
        except (OSError, ValueError):
            why = f"grading took over {SUBMISSION_CAP} s" if late else \
                "the grader stopped: " + gradelib.tail(out, 5)
            report = not_graded(tests, why, time.monotonic() - start)
    if sandbox_kind() != "bubblewrap":
        notes.append("sandbox: run as an unprivileged user, but bubblewrap could not cut off "
                     "the network here")
    if ignored:
        notes.append("ignored (only the lab's own files are graded): " + ", ".join(ignored))
    report["output"] = gradelib.clip("\n".join(notes + [report.get("output", "")]))
    report["extra_data"] = {"taken": sorted(taken), "ignored": ignored,
                            "notes": [n.splitlines()[0] for n in notes],
                            "sandbox": sandbox_kind()}
    return report


def grade_module():
    """grade/grade.py (beside gradelib), for its test loader."""
    import grade
    return grade


## A batch ################################################################

def write_csv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    os.replace(tmp, path)


def hang_deadline(tree, jobs):
    """The batch's hang deadline: boot tree's kernel jobs times at once and
    time each one's first line (see the top of this file)."""
    t = gradelib.Tree(tree)
    t.prepare()
    ctx = gradelib.Context(t, gradelib.Test(0, 0, "hang_deadline", False, (), None))
    try:
        qemus = [ctx.boot() for _ in range(jobs)]
        slowest = 0.0
        for q in qemus:
            q.expect(r"\S.*\n")
            slowest = max(slowest, time.monotonic() - q.started)
    except gradelib.Fail as e:
        raise GradeError(f"the handout's kernel does not boot here: {e}")
    finally:
        ctx.cleanup()
        t.cleanup()
    return max(HANG_FLOOR, HANG_FACTOR * slowest)


def grade_batch(folder, out, lab, jobs, only_lab=False):
    """Grade every subdirectory of folder as a submission of lab lab; write
    OUT/NAME.json, OUT/summary.csv (after each submission) and
    OUT/failures.csv (which tests fail most). (tests passed, failed).
    only_lab: each submission gets lab's own tests only."""
    if not os.path.isdir(folder):
        raise GradeError(f"--batch {folder}: not a directory")
    subs = sorted(d for d in os.listdir(folder)
                  if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))
    if not subs:
        raise GradeError(f"--batch {folder}: no submission directories in it")
    if os.path.lexists(out) and not os.path.isdir(out):
        raise GradeError(f"--out {out}: exists and is not a directory")
    import handout as handout_py                    # the instructors' tree only
    tests = [t for t in grade_module().load_tests(lab) if t.lab == lab or not only_lab]
    os.makedirs(out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="kestrel-batch-")
    os.chmod(scratch, 0o711)        # nobody may pass through to its own folder
    rows = [["submission", "score", "max_score", "failed", "note"]]
    failures, passed, failed = Counter(), 0, 0
    start = time.monotonic()
    try:
        pristine = os.path.join(scratch, "handout")
        handout_py.make_handout(TOP, lab, pristine, False)
        r = subprocess.run(["make", "-s", "all"], cwd=pristine, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise GradeError("the handout does not build: " + gradelib.first_error(r.stdout + r.stderr))
        hang_after = hang_deadline(pristine, jobs)
        print(f"batch: a kernel silent for {hang_after:.0f} s hangs at boot (measured here)",
              flush=True)
        # The grader runs from a copy that nobody can read wherever the
        # instructors' tree is (a home folder, say), and that holds no solution.
        grader = os.path.join(scratch, "grader")
        for d in ("grade", "tools"):
            shutil.copytree(os.path.join(TOP, d), os.path.join(grader, d),
                            ignore=shutil.ignore_patterns("__pycache__"))
        for d, dirs, files in os.walk(grader):
            for p in [d] + [os.path.join(d, x) for x in dirs + files]:
                os.chmod(p, os.stat(p).st_mode | 0o444 | (0o111 if os.path.isdir(p) else 0))
        for n, name in enumerate(subs):
            work = os.path.join(scratch, f"sub{n}")
            os.mkdir(work)
            t0 = time.monotonic()
            try:
                report = grade_one(pristine, grader, lab, os.path.join(folder, name), work, jobs,
                                   hang_after, only_lab)
            except Exception as e:          # one bad submission never stops the batch
                report = not_graded(tests, f"grader error: {e}", time.monotonic() - t0)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            gradelib.write_json(os.path.join(out, f"{name}.json"), report)
            bad = [t["name"].split(" ", 1)[-1] for t in report["tests"] if t["status"] != "passed"]
            failures.update(bad)
            passed += len(report["tests"]) - len(bad)
            failed += len(bad)
            top = sum(t["max_score"] for t in report["tests"])
            note = "; ".join(report.get("extra_data", {}).get("notes", []))
            rows.append([name, report["score"], top, " ".join(bad), gradelib.clip(note, 300)])
            write_csv(os.path.join(out, "summary.csv"), rows)
            print(f"{name}: {report['score']}/{top} in {time.monotonic() - t0:.0f} s"
                  + (f" (failed: {' '.join(bad)})" if bad else ""), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ranked = [["test", "failed", "of"]] + [[t, k, len(subs)] for t, k in failures.most_common()]
    write_csv(os.path.join(out, "failures.csv"), ranked)
    print("tests that fail most: " + (", ".join(f"{t} {k}/{len(subs)}"
                                               for t, k in failures.most_common()) or "none"))
    print(f"graded {len(subs)} submissions into {out} in {time.monotonic() - start:.0f} s")
    return passed, failed
