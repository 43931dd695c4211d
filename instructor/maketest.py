#!/usr/bin/env python3
"""make test: prove that the tree, its grader and every handout are honest.

Run by `make test` in the instructors' tree (left out of handouts). It checks,
one line per check, then prints `N passed, N failed` as its last line:

  1. gradelib's own unit tests (no QEMU);
  2. the kernel builds without warnings with clang too, with a TOOLPREFIX
     toolchain, and again when LAB and SOL change;
     the tools answer bad arguments in one line, with a non-zero exit;
  3. the solution tree passes every test of every lab (make grade);
  4. for each lab N that has grade/labN.py, the handout for lab N
       - is generated with no marker left and no file of a later lab,
       - builds with -Wall -Werror,
       - passes every test of labs < N and its own unscored sanity checks,
       - fails every scored test of lab N: a scored test that passes on the
         stubs is not testing the student's work;
  5. for each lab with cheats (instructor/cheats.py), its adversarial
     submissions, graded in one batch as an instructor would, on the lab's
     own tests (step 4 proves the earlier labs' tests pass on the handout,
     and the lab 1 batch grades every lab it has): each gets the score it
     deserves test by test, nothing is written outside them, and the batch
     ends in bounded time;
  6. the grader on a bad host, with a stand-in QEMU (instructor/fakeqemu.py)
     that plays a nested KVM: the probe keeps TCG when KVM stops the machine
     or is slower, and KVM when it is faster; a grade and make qemu under
     the stopping KVM end at once with QEMU's message; a seed's rerun asks
     the kernel the same; a killed make grade leaves no QEMU behind.

Independent parts run side by side, two at a time (CI has two cores); each
part's time is printed as a note. The instructors' README gives the budget.

Child processes get a clean environment for make (no MAKEFLAGS, LAB or SOL
from the instructors' make), but keep ACCEL, so `make test ACCEL=tcg` tests
every tree under TCG.
"""

import csv
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
GRADE = os.path.join(TOP, "grade")
FUZZ_RUNS = 3           # the fuzzer's runs beyond make grade's, each with a new seed


class Tally:
    """The checks of one part: counted, and their lines kept until the part
    ends (parts run side by side; their lines must not mix)."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lines = []

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            self.lines.append(f"ok    {what}")
        else:
            self.failed += 1
            self.lines.append(f"FAIL  {what}")
            self.lines += [f"      {line}" for line in detail.rstrip().splitlines()[-30:]]
        return ok

    def note(self, text):
        self.lines.append(f"note  {text}")


def child_env():
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "LAB", "SOL",
                "TEST", "KARGS", "DEST", "GRADEFLAGS"):
        env.pop(var, None)
    return env


def run(args, cwd=TOP, timeout=3600, env=None):
    r = subprocess.run(args, cwd=cwd, env={**child_env(), **(env or {})}, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace")


def unit_tests(tally):
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = list(iter_tests(suite))     # before run(), which empties the suite
    with open(os.devnull, "w") as devnull:
        result = unittest.TextTestRunner(stream=devnull, verbosity=0).run(suite)
    bad = {str(t): why for t, why in result.failures + result.errors}
    tally.check(tests and result.testsRun == len(tests),
                f"gradelib unit tests found and run ({result.testsRun})")
    for test in tests:
        tally.check(str(test) not in bad, f"unit: {test.id().split('.', 1)[-1]}",
                    bad.get(str(test), ""))


def iter_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


def build_checks(tally, work):
    """The build: clang, a TOOLPREFIX cross toolchain, and objects that
    follow LAB and SOL. Each in a build folder of its own (B=...), made afresh."""
    for b in ("build-clang", "build-xtool", "build-config"):
        shutil.rmtree(os.path.join(TOP, b), ignore_errors=True)
    rc, out = run(["make", "-s", "B=build-clang", "CC=clang", "build-clang/kernel",
                   "build-clang/disk.img"])
    tally.check(rc == 0, "the kernel builds with clang -Wall -Werror", out)
    # A cross toolchain as Homebrew installs it, here symlinks to the host's tools.
    xbin = os.path.join(work, "xbin")
    os.mkdir(xbin)
    for tool in ("gcc", "ld", "objcopy", "nm", "objdump", "gdb"):
        os.symlink(shutil.which(tool), os.path.join(xbin, "x86_64-elf-" + tool))
    env = dict(child_env(), PATH=xbin + os.pathsep + os.environ["PATH"])
    r = subprocess.run(["make", "V=1", "B=build-xtool", "build-xtool/kernel", "build-xtool/disk.img"],
                       cwd=TOP, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    tools = re.findall(r"^(\S+?(?:gcc|ld|objcopy|nm)) ", r.stdout, re.M)
    tally.check(r.returncode == 0 and tools and all(t.startswith("x86_64-elf-") for t in tools),
                "with x86_64-elf-gcc on PATH the build uses the x86_64-elf- toolchain",
                r.stdout + r.stderr)
    rebuilt = []
    for config in ([], ["LAB=1", "SOL=0"], []):
        rc, out = run(["make", "B=build-config", *config, "build-config/kernel"])
        rebuilt.append(rc == 0 and "CC      kern/backtrace.c" in out)
    tally.check(all(rebuilt), "make, then make LAB=1 SOL=0, then make: each rebuilds the kernel",
                f"rebuilt: {rebuilt}")


HANDOUT_TABOO = re.compile(r"instructor/|make test|roadmap|handout\.py|maketest|cheats", re.I)


def handout_truth(tally, lab, dest):
    """A handout speaks only of what it holds: no instructors' tools, no roadmap."""
    found = []
    for folder, _, files in os.walk(dest):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, errors="replace") as f:
                for n, line in enumerate(f, 1):
                    if HANDOUT_TABOO.search(line):
                        found.append(f"{os.path.relpath(path, dest)}:{n}: {line.strip()}")
    tally.check(not found, f"lab {lab} handout speaks only of what it holds", "\n".join(found))


def one_line_error(rc, out):
    """A tool's answer to bad input: non-zero exit and one line naming it."""
    lines = [l for l in out.splitlines() if l.strip() and not l.startswith("make: ***")]
    return rc != 0 and len(lines) == 1


def bad_input(tally, work):
    """The tools answer bad arguments with one line and a non-zero exit."""
    for var in ("ACCEL=foo", "CPUS=0", "CPUS=x", "MEM=lots", "LAB=9"):
        rc, out = run(["make", "-s", "print-qemu", var])
        tally.check(one_line_error(rc, out) and var.split("=")[0] in out,
                    f"make {var} is refused in one line", out)
    handout_py = os.path.join(HERE, "handout.py")
    rc, out = run([sys.executable, handout_py, "9", os.path.join(work, "bad")])
    tally.check(one_line_error(rc, out) and not os.path.exists(os.path.join(work, "bad")),
                "make handout LAB=9 is refused in one line and writes nothing", out)
    full = os.path.join(work, "full")
    os.makedirs(full)
    with open(os.path.join(full, "keep"), "w") as f:
        f.write("mine\n")
    rc, out = run([sys.executable, handout_py, "1", full])
    tally.check(one_line_error(rc, out) and os.listdir(full) == ["keep"],
                "the handout generator refuses a non-empty directory and leaves it alone", out)
    mkdisk = os.path.join(TOP, "build", "mkdisk")
    img = os.path.join(work, "disk.img")
    rc, out = run([mkdisk, os.path.join(TOP, "build", "bootblock"), "/nonexistent", img])
    tally.check(one_line_error(rc, out) and not os.path.exists(img)
                and not os.path.exists(img + ".tmp"),
                "mkdisk refuses a missing kernel in one line and leaves no image", out)
    data = os.path.join(work, "data.img")
    for args, what in ((["0", "8", data], "a seed of 0"), (["1", "8x", data], "a bad size"),
                       (["1", "8", "/nonexistent/data.img"], "a path it cannot write")):
        rc, out = run([os.path.join(TOP, "build", "mkdata")] + args)
        tally.check(one_line_error(rc, out) and not os.path.exists(data)
                    and not os.path.exists(data + ".tmp"),
                    f"mkdata refuses {what} in one line and leaves no image", out)
    rc, out = run([sys.executable, os.path.join(GRADE, "grade.py"), "--test", "nosuch"])
    tally.check(one_line_error(rc, out) and "nosuch" in out,
                "make grade TEST=nosuch is refused in one line", out)


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
    # The fuzzer with more seeds than the grade's one (each run picks its own).
    for i in range(FUZZ_RUNS):
        rc, out = run([sys.executable, os.path.join(GRADE, "grade.py"), "--test", "fuzz"])
        seed = re.search(r"SEED=(\d+)", out) or re.search(r"^fuzz: seed (\d+)", out, re.M)
        tally.check(rc == 0, f"the fuzzer, run {i + 2}" + (f" (seed {seed[1]})" if seed else ""), out)


OTHER_CPUS = (1, 4)     # labs 1-4 must pass with these too (the Makefile's CPUS is 2)


def other_cpus(tally, work):
    """The solution's tests of labs 1-4 with one CPU and with four: SMP
    (lab 5) must not have broken the one-CPU kernel, nor the earlier labs
    the other CPUs."""
    for n in OTHER_CPUS:
        json_path = os.path.join(work, f"cpus{n}.json")
        run([sys.executable, os.path.join(GRADE, "grade.py"), "--lab", "4", "--json", json_path],
            env={"CPUS": str(n)})
        try:
            with open(json_path) as f:
                report = json.load(f)
        except (OSError, ValueError):
            report = None
        if not tally.check(report is not None and report["tests"], f"CPUS={n}: labs 1-4 graded"):
            continue
        for t in report["tests"]:
            tally.check(t.get("status") == "passed", f"CPUS={n}: solution passes {t['name']}",
                        t.get("output", ""))


def handout(tally, lab, work):
    dest = os.path.join(work, f"lab{lab}")
    rc, out = run([sys.executable, os.path.join(HERE, "handout.py"), str(lab), dest])
    if not tally.check(rc == 0, f"lab {lab} handout is generated", out):
        return
    later = [p for p in glob.glob(os.path.join(dest, "*", "lab*.*"))
             if int(re.search(r"lab(\d+)", os.path.basename(p)).group(1)) > lab]
    tally.check(not later, f"lab {lab} handout has no file of a later lab", "\n".join(later))
    handout_truth(tally, lab, dest)
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


HANG_SLACK = 45     # seconds a hanging cheat may cost beyond twice an honest one
                   # (gradelib gives a silent kernel 30 s under TCG before it calls it hung)


def adversarial(tally, lab, work):
    """Grade lab's cheats in one batch; check each report and the time."""
    sys.path.insert(0, HERE)
    import cheats
    base = os.path.join(work, f"cheats{lab}")
    os.mkdir(base)
    kit, subs = cheats.make_submissions(TOP, lab, base)
    if not subs:
        return
    outside = sorted(os.walk(kit.outside))
    out = os.path.join(base, "out")
    start = time.monotonic()
    rc, text = run([sys.executable, os.path.join(GRADE, "grade.py"), "--batch",
                    os.path.join(base, "subs"), "--out", out, "--lab", str(lab), "--only-lab"])
    seconds = time.monotonic() - start
    tally.check(rc in (0, 1) and re.search(r"^\d+ passed, \d+ failed$", text.strip().splitlines()[-1]),
                f"lab {lab}: the batch of {len(subs)} adversarial submissions ran", text)
    tally.note(f"lab {lab}: the batch of {len(subs)} took {seconds:.0f} s")
    reports = {}
    for cheat in subs:
        try:
            with open(os.path.join(out, f"{cheat.name}.json")) as f:
                reports[cheat.name] = json.load(f)
            wrong = cheats.judge(kit, cheat, reports[cheat.name])
        except (OSError, ValueError) as e:
            wrong = [f"no report: {e}"]
        tally.check(not wrong, f"lab {lab} cheat {cheat.name} scores what it deserves",
                    "\n".join(wrong))
    # Bounded time, without a clock that a busy machine could fail: no
    # submission, hanging or not, may cost much more than an honest one.
    times = {n: r["execution_time"] for n, r in reports.items()}
    bound = 2 * times.get("honest", 0) + HANG_SLACK * float(os.environ.get("GRADE_TIMEOUT_SCALE", "1"))
    slow = {n: t for n, t in times.items() if t > bound}
    tally.check("honest" in times and not slow,
                f"lab {lab}: no submission costs over {bound:.0f} s (twice the honest one's "
                f"{times.get('honest', 0):.0f} s, and {HANG_SLACK} s)",
                "\n".join(f"{n}: {t:.0f} s" for n, t in slow.items()))
    try:
        with open(os.path.join(out, "summary.csv")) as f:
            rows = list(csv.DictReader(f))
    except OSError:
        rows = []
    tops = {r["max_score"] for r in rows}
    tally.check(len(rows) == len(subs) and len(tops) == 1 and tops != {"0"},
                f"lab {lab}: summary.csv has every submission, with the lab's max_score",
                "\n".join(str(r) for r in rows))
    tally.check(sorted(os.walk(kit.outside)) == outside,
                f"lab {lab}: the batch wrote nothing outside the submissions",
                "\n".join(str(w) for w in sorted(os.walk(kit.outside))))


FAKE_QEMU = os.path.join(HERE, "fakeqemu.py")


def fake_make(mode, *args, timeout=300):
    """make in the instructors' tree with build-fake/ and the stand-in QEMU
    playing a KVM host of kind mode; (status, output)."""
    env = dict(child_env(), FAKE_KVM=mode)
    r = subprocess.run(["make", "-s", "B=build-fake", f"QEMU={FAKE_QEMU}", *args], cwd=TOP,
                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace")


def marked_processes(mark, word):
    """pids of the processes whose environment holds mark and whose command
    line holds word."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if mark.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if word.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def wait_for(what, seconds):
    """Poll what() until it is true or seconds pass; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = what()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def kill_grade(tally, how):
    """Start make grade, kill it (how: "SIGTERM to make's process group", as
    timeout(1) does, or "SIGKILL to grade.py") once a QEMU runs, and find
    no QEMU of it left."""
    value = f"{os.getpid()}-{how.split()[0]}"
    mark = f"KESTREL_KILL_TEST={value}"
    env = dict(child_env(), KESTREL_KILL_TEST=value)
    make = subprocess.Popen(["make", "-s", "grade"], cwd=TOP, env=env, start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        up = wait_for(lambda: marked_processes(mark, "qemu-system"), 120)
        if how.startswith("SIGTERM"):
            os.killpg(make.pid, signal.SIGTERM)
        else:
            for pid in marked_processes(mark, "grade.py"):
                os.kill(pid, signal.SIGKILL)
        make.wait(timeout=60)
        left = not wait_for(lambda: not marked_processes(mark, "qemu-system"), 10)
        tally.check(up and not left, f"make grade killed by {how} leaves no QEMU running",
                    f"QEMU seen running: {bool(up)}; left: {marked_processes(mark, 'qemu-system')}")
    finally:
        for pid in marked_processes(mark, ""):
            os.kill(pid, signal.SIGKILL)
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()


def bad_host(tally, work):
    """The grader on hosts where KVM exists but must not be trusted."""
    fake = os.path.join(TOP, "build-fake")
    shutil.rmtree(fake, ignore_errors=True)
    shutil.copytree(os.path.join(TOP, "build"), fake, symlinks=True)
    for mode, want, why in (("fail", "tcg", "emulation failure"), ("slow", "tcg", "took"),
                            ("fast", "kvm", "")):
        if os.path.exists(os.path.join(fake, "accel")):
            os.unlink(os.path.join(fake, "accel"))
        rc, out = fake_make(mode, "build-fake/accel")
        try:
            with open(os.path.join(fake, "accel")) as f:
                line = f.read().strip()
        except OSError:
            line = ""
        tally.check(rc == 0 and line.split()[:1] == [want] and why in out
                    and re.search(r"tcg=\S+ kvm=\S+", line)
                    and not re.search(r"\+(\w+).*-\1\b", line),
                    f"the probe keeps {want.upper()} on a host whose KVM is {mode}"
                    + (f" (and says why: {why})" if why else ""), f"{out}\nbuild/accel: {line}")
    rc, out = fake_make("fail", "ACCEL=kvm", "grade", "TEST=hello")
    tally.check(rc != 0 and "QEMU stopped the machine" in out and "emulation failure" in out
                and re.search(r"rerun: make grade TEST=hello SEED=\d+", out),
                "a test under a KVM that stops the machine fails at once, with QEMU's message "
                "and the rerun command", out)
    rc, out = fake_make("fail", "ACCEL=kvm", "qemu", "INIT=hello", timeout=120)
    tally.check(rc != 0 and "QEMU stopped the machine" in out and "emulation failure" in out,
                "make qemu under a KVM that stops the machine ends at once, with QEMU's message",
                out)
    shutil.rmtree(fake, ignore_errors=True)
    # A seed's rerun asks the kernel the same (the kernel prints its command line).
    lines = []
    for seed in (777, 777, 778):
        rc, out = run([sys.executable, os.path.join(GRADE, "grade.py"), "--test",
                       "pagefault_notpresent", "--seed", str(seed), "-v"])
        lines.append(re.findall(r"^\s*cmdline: .*$", out, re.M))
    tally.check(lines[0] and lines[0] == lines[1] and lines[0] != lines[2],
                "a test rerun with SEED=n boots the kernel with the same command lines, "
                "another seed with others", "\n".join(map(str, lines)))
    for how in ("SIGTERM to make's process group", "SIGKILL to grade.py"):
        kill_grade(tally, how)


def run_parts(parts, workers=2):
    """Run parts (name, function of a Tally) side by side; print each one's
    lines when it ends, then its time. The total (passed, failed)."""
    import concurrent.futures

    def one(part):
        name, func = part
        tally, start = Tally(), time.monotonic()
        try:
            func(tally)
        except Exception as e:          # one broken part never hides the others
            import traceback
            tally.check(False, f"{name} ran to its end", traceback.format_exc())
        tally.note(f"part '{name}' took {time.monotonic() - start:.0f} s")
        return tally

    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for future in concurrent.futures.as_completed([pool.submit(one, p) for p in parts]):
            tally = future.result()
            print("\n".join(tally.lines), flush=True)
            passed += tally.passed
            failed += tally.failed
    return passed, failed


def main():
    start = time.time()
    labs = sorted(int(re.search(r"lab(\d+)\.py$", p).group(1))
                  for p in glob.glob(os.path.join(GRADE, "lab[0-9]*.py")))
    work = tempfile.mkdtemp(prefix="kestrel-test-")
    os.chmod(work, 0o755)
    # Longest first, so that two workers end together.
    parts = [(f"lab {lab} adversarial batch", lambda t, lab=lab: adversarial(t, lab, work))
             for lab in reversed(labs)]
    parts += [("solution", lambda t: solution(t, labs, work)),
              ("labs 1-4 on 1 and 4 CPUs", lambda t: other_cpus(t, work)),
              ("a bad host", lambda t: bad_host(t, work))]
    parts += [(f"lab {lab} handout", lambda t, lab=lab: handout(t, lab, work)) for lab in labs]
    parts += [("unit tests, builds, bad input",
               lambda t: (unit_tests(t), build_checks(t, work), bad_input(t, work)))]
    try:
        passed, failed = run_parts(parts)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"make test: {time.time() - start:.0f} s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
