"""gradelib's own tests: what can be checked without QEMU.

Run by `make test` (instructor/maketest.py), or alone:
    python3 -m unittest discover -s instructor -p 'test_*.py'

A stand-in for QEMU is a small Python program that prints what a kernel
would, so pattern matching, TIMEOUT and exit handling are checked for real,
with real pipes and processes.
"""

import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

GRADE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "grade")
sys.path.insert(0, GRADE_DIR)
import gradelib                                     # noqa: E402
from gradelib import Fail, Timeout, Qemu, Result, Test, PASS, FAIL, TIMEOUT   # noqa: E402

GRADE_PY = os.path.join(GRADE_DIR, "grade.py")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import batch                                        # noqa: E402


def fake_qemu(script, timeout=5):
    """A Qemu whose 'kernel' is the Python program script."""
    return Qemu([sys.executable, "-u", "-c", script], timeout)


class ExpectTest(unittest.TestCase):
    def test_matches_and_consumes(self):
        q = fake_qemu("print('one 1\\r'); print('two 2'); print('one 3')")
        try:
            self.assertEqual(q.expect(r"one (\d)").group(1), "1")
            # The first match is consumed: the next search starts after it.
            self.assertEqual(q.expect(r"one (\d)").group(1), "3")
            self.assertNotIn("\r", q.output)
        finally:
            q.stop()

    def test_waits_for_the_whole_line(self):
        # "main+0x7" must not match while "main+0x73" is still arriving.
        q = fake_qemu("import sys, time\n"
                      "sys.stdout.write('#4 main+0x7'); sys.stdout.flush()\n"
                      "time.sleep(0.3); print('3')\n")
        try:
            m = q.expect(r"main\+0x[0-9a-f]+")
            self.assertEqual(m.group(0), "main+0x73")
        finally:
            q.stop()

    def test_partial_line_prompt(self):
        q = fake_qemu("import sys, time\nsys.stdout.write('$ '); sys.stdout.flush()\n"
                      "time.sleep(5)\n")
        try:
            q.expect(r"^\$ ", partial=True)
        finally:
            q.stop()

    def test_timeout_is_its_own_result(self):
        q = fake_qemu("import time\nprint('booting'); time.sleep(10)", timeout=0.5)
        try:
            with self.assertRaises(Timeout) as cm:
                q.expect(r"never printed")
            self.assertIn("never printed", str(cm.exception))
            self.assertIn("booting", q.output)
        finally:
            q.stop()

    def test_exit_before_match_fails_at_once(self):
        q = fake_qemu("import sys\nprint('hello'); sys.stderr.write('qemu: bad option\\n'); "
                      "sys.exit(1)", timeout=30)
        try:
            with self.assertRaises(Fail) as cm:
                q.expect(r"never printed")
            self.assertNotIsInstance(cm.exception, Timeout)
            self.assertIn("bad option", str(cm.exception))
        finally:
            q.stop()

    def test_reset_is_a_triple_fault(self):
        q = fake_qemu("print('booting')", timeout=30)
        try:
            with self.assertRaises(Fail) as cm:
                q.expect(r"never printed")
            self.assertIn("triple fault", str(cm.exception))
        finally:
            q.stop()

    def test_hang_at_boot_fails_the_tree_at_once(self):
        class Tree:
            hang = None
        tree = Tree()
        q = Qemu([sys.executable, "-c", "import time; time.sleep(30)"], 30, 0.5, tree)
        other = Qemu([sys.executable, "-c", "import time; time.sleep(30)"], 30, None, tree)
        try:
            with self.assertRaises(Timeout) as cm:
                q.expect(r"never printed")
            self.assertIn("hangs at boot", str(cm.exception))
            with self.assertRaises(Fail) as cm:     # another test: at once
                other.expect(r"never printed")
            self.assertIn("not waited for", str(cm.exception))
        finally:
            q.stop()
            other.stop()

    def test_qemu_internal_error_ends_the_wait_at_once(self):
        # Under KVM, QEMU reports an emulation failure and then pauses the
        # machine for ever: the test must not wait out its timeout.
        q = fake_qemu("import sys, time\nprint('booting')\n"
                      "sys.stderr.write('KVM internal error. Suberror: 1\\nemulation failure\\n')\n"
                      "sys.stderr.flush(); time.sleep(30)", timeout=20)
        try:
            with self.assertRaises(Fail) as cm:
                q.expect(r"never printed")
            self.assertIn("emulation failure", str(cm.exception))
            self.assertLess(time.monotonic() - q.started, 10)
        finally:
            q.stop()

    def test_nothing_outlives_kill_children(self):
        q = fake_qemu("import os, time\nos.fork(); print('up', flush=True); time.sleep(30)")
        try:
            q.expect("up")
            gradelib.kill_children()
            q.proc.wait(timeout=5)
            deadline = time.monotonic() + 5     # the forked child, reaped by init
            with self.assertRaises(ProcessLookupError):
                while time.monotonic() < deadline:
                    os.killpg(q.proc.pid, 0)
                    time.sleep(0.05)
        finally:
            q.stop()

    def test_endless_output_is_capped(self):
        q = fake_qemu("while True: print('x' * 100)", timeout=30)
        try:
            with self.assertRaises(Fail) as cm:
                q.expect(r"never printed")
            self.assertIn("printed over", str(cm.exception))
            self.assertLessEqual(len(q.output), gradelib.OUTPUT_CAP)
        finally:
            q.stop()

    def test_send(self):
        q = fake_qemu("line = input(); print('got [%s]' % line)")
        try:
            q.send("typed\n")
            self.assertEqual(q.expect(r"got \[(.*)\]").group(1), "typed")
        finally:
            q.stop()


class PortTest(unittest.TestCase):
    def test_free_port_is_bindable(self):
        port = gradelib.free_port()
        self.assertTrue(1024 <= port <= 65535)
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))

    def test_ports_differ(self):
        # Parallel tests must never be handed the same port.
        self.assertEqual(len({gradelib.free_port() for _ in range(50)}), 50)


def fake_test(name, points=10, scored=True, after=(), lab=1, func=None):
    return Test(lab, points if scored else 0, name, scored, tuple(after), func or (lambda t: None))


class ReportTest(unittest.TestCase):
    def results(self):
        return [Result(fake_test("boot", scored=False), PASS, "", "kestrel\n", 0.2),
                Result(fake_test("printf", 30), PASS, "", "printf: done\n", 0.3),
                Result(fake_test("backtrace", 40), FAIL, "wrong name", "panic\n", 0.4),
                Result(fake_test("gdb", 30), TIMEOUT, "waited 20 s", "", 20.0)]

    def test_gradescope_shape(self):
        report = gradelib.gradescope_report(self.results(), 21.0)
        json.dumps(report)                      # serializable
        self.assertEqual(report["score"], 30)
        self.assertEqual(len(report["tests"]), 4)
        for t in report["tests"]:
            for key, kind in (("name", str), ("score", int), ("max_score", int),
                              ("output", str), ("status", str)):
                self.assertIsInstance(t[key], kind, key)
            self.assertIn(t["status"], ("passed", "failed"))
            self.assertLessEqual(t["score"], t["max_score"])
        boot, printf, bt, gdb = report["tests"]
        self.assertEqual((boot["max_score"], boot["status"]), (0, "passed"))
        self.assertEqual((printf["score"], printf["max_score"]), (30, 30))
        self.assertEqual((bt["score"], bt["status"]), (0, "failed"))
        self.assertIn("wrong name", bt["output"])
        self.assertIn("TIMEOUT", gdb["output"])
        self.assertEqual(gdb["extra_data"]["result"], TIMEOUT)
        self.assertIn("(the kernel printed nothing)", gdb["output"])

    def test_caps_and_visibility(self):
        huge = Result(fake_test("flood", 30), FAIL, "x" * 10**6, "y\n" * 10**6, 1.0)
        hidden = Result(Test(1, 10, "secret", True, (), None, hidden=True), PASS, "", "", 0.1)
        report = gradelib.gradescope_report([huge, hidden], 2.0)
        self.assertLess(len(json.dumps(report)), 3 * gradelib.REPORT_CAP)
        self.assertIn("characters left out", report["tests"][0]["output"])
        self.assertEqual([t["visibility"] for t in report["tests"]],
                         ["visible", "after_published"])

    def test_first_error(self):
        out = "  CC kern/a.c\nkern/a.c:3:1: error: oops\nmake: *** [x] Error 1\n"
        self.assertEqual(gradelib.first_error(out), "kern/a.c:3:1: error: oops")

    def test_excerpt_starts_at_a_line(self):
        text = "".join(f"line {i}: x38498\n" for i in range(100))
        cut = gradelib.excerpt(text, 50)
        self.assertTrue(cut.startswith("...\nline "), cut)
        self.assertEqual(gradelib.excerpt("short", 50), "short")

    def test_failure_names_its_rerun(self):
        t = fake_test("printf")
        r = Result(t, FAIL, "wrong", "out\n", 1.0, seed=4242, messages="qemu: oops\n")
        text = r.report()
        self.assertTrue(text.endswith("rerun: make grade TEST=printf SEED=4242"), text)
        self.assertIn("qemu: oops", text)
        self.assertNotIn("rerun", Result(t, PASS, "", "", 1.0, seed=1).report(True))

    def test_failure_names_its_boot(self):
        boot = gradelib.by_hand("test=kalloc_uaf seed=7 memdebug ", False, "32M", "tcg", None)
        self.assertEqual(boot, 'make qemu MEM=32M KARGS="test=kalloc_uaf seed=7 memdebug"')
        self.assertEqual(gradelib.by_hand("", True, None, "kvm", "qemu64,-smep"),
                         "make qemu-gdb ACCEL=kvm CPU_MODEL=qemu64,-smep")
        r = Result(fake_test("kalloc_uaf"), FAIL, "wrong", "out\n", 1.0, seed=5, boot=boot)
        lines = r.report().splitlines()
        self.assertEqual(lines[-2:], ["by hand: " + boot, "rerun: make grade TEST=kalloc_uaf SEED=5"])

    def test_tail(self):
        text = "".join(f"line {i}\n" for i in range(100))
        t = gradelib.tail(text, 5)
        self.assertTrue(t.endswith("line 99"))
        self.assertIn("95 earlier lines", t)
        self.assertEqual(gradelib.tail(""), "(the kernel printed nothing)")


class RunTestsTest(unittest.TestCase):
    def test_failed_dependency_skips_and_order_is_kept(self):
        def bad(t):
            t.check(False, "it is wrong", expected="a", got="b")

        class FakeTree:
            accel = "kvm"

        tests = [fake_test("first", func=bad), fake_test("second", after=["first"]),
                 fake_test("third")]
        seen = []
        results = gradelib.run_tests(FakeTree(), tests, 2, lambda r: seen.append(r.test.name))
        self.assertEqual(seen, ["first", "second", "third"])
        self.assertEqual([r.status for r in results], [FAIL, FAIL, PASS])
        self.assertIn("expected: a", results[0].message)
        self.assertIn("needs first", results[1].message)

    def test_exception_in_test_is_a_failure(self):
        class FakeTree:
            accel = "tcg"

        def broken(t):
            raise KeyError("oops")
        results = gradelib.run_tests(FakeTree(), [fake_test("x", func=broken)], 1, lambda r: 0)
        self.assertEqual(results[0].status, FAIL)
        self.assertIn("KeyError", results[0].message)

    def test_timeouts_scale_with_accelerator(self):
        class Kvm:
            accel = "kvm"

        class Tcg:
            accel = "tcg"
        a = gradelib.Context(Kvm(), fake_test("a"))
        b = gradelib.Context(Tcg(), fake_test("b"))
        try:
            self.assertGreater(b.timeout, a.timeout)
        finally:
            a.cleanup()
            b.cleanup()

    def test_a_seed_gives_the_same_draws(self):
        class Tcg:
            accel = "tcg"
        a = gradelib.Context(Tcg(), fake_test("a"), seed=77)
        b = gradelib.Context(Tcg(), fake_test("a"), seed=77)
        try:
            self.assertEqual([a.new_seed() for _ in range(5)], [b.new_seed() for _ in range(5)])
            self.assertEqual(a.seed, 77)
        finally:
            a.cleanup()
            b.cleanup()

    def test_qemu_argv_from_the_template(self):
        tree = gradelib.Tree.__new__(gradelib.Tree)
        tree.argv = ["qemu", "-m", "128M", "-drive", "file=@DISK@,format=raw", "-fw_cfg",
                     "name=opt/x,string=@KARGS@", "-accel", "tcg", "-S", "-gdb",
                     "tcp:127.0.0.1:@GDBPORT@"]
        self.assertEqual(tree.qemu_argv("", "/d.img"),
                         ["qemu", "-m", "128M", "-drive", "file=/d.img,format=raw",
                          "-accel", "tcg"])
        self.assertEqual(tree.qemu_argv("test=x", "/d", 1234, "2G"),
                         ["qemu", "-m", "2G", "-drive", "file=/d,format=raw", "-fw_cfg",
                          "name=opt/x,string=test=x", "-accel", "tcg", "-S", "-gdb",
                          "tcp:127.0.0.1:1234"])

    def test_bad_timeout_scale(self):
        old = os.environ.get("GRADE_TIMEOUT_SCALE")
        os.environ["GRADE_TIMEOUT_SCALE"] = "-3"
        try:
            with self.assertRaises(gradelib.GradeError):
                gradelib.timeout_scale()
        finally:
            if old is None:
                del os.environ["GRADE_TIMEOUT_SCALE"]
            else:
                os.environ["GRADE_TIMEOUT_SCALE"] = old


class StudentFilesTest(unittest.TestCase):
    """Batch grading takes only the lab's files, as regular files."""

    class Manifest:
        def student_files(self, lab):
            return ["kern/printf.c", "kern/backtrace.c", "answers-lab1.txt"]

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.sub = os.path.join(self.dir.name, "sub")
        os.makedirs(os.path.join(self.sub, "kern"))

    def tearDown(self):
        self.dir.cleanup()

    def write(self, path, text):
        with open(os.path.join(self.sub, path), "w") as f:
            f.write(text)

    def test_symlinks_are_not_followed(self):
        secret = os.path.join(self.dir.name, "solution.c")
        with open(secret, "w") as f:
            f.write("solved")
        os.symlink(secret, os.path.join(self.sub, "kern", "printf.c"))
        self.write("kern/backtrace.c", "mine")
        taken, sources, notes = batch.take_student_files(self.sub, 1, self.Manifest())
        self.assertEqual(taken, {"kern/backtrace.c": b"mine"})
        self.assertTrue(any("symbolic link" in n for n in notes))

    def test_tarball_and_flat_upload(self):
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w:gz") as tar:
            info = tarfile.TarInfo("kern/printf.c")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"tar"))
        tgz = os.path.join(self.sub, "handin-lab1.tar.gz")
        with open(tgz, "wb") as f:
            f.write(data.getvalue())
        os.rmdir(os.path.join(self.sub, "kern"))
        self.write("backtrace.c", "flat")
        taken, sources, notes = batch.take_student_files(self.sub, 1, self.Manifest())
        self.assertEqual(taken, {"kern/printf.c": b"tar", "kern/backtrace.c": b"flat"})
        self.assertEqual(notes, ["answers-lab1.txt: not in the submission"])

    def test_other_changes_are_listed(self):
        handout = os.path.join(self.dir.name, "handout")
        os.makedirs(handout)
        for d in (handout, self.sub):
            with open(os.path.join(d, "Makefile"), "w") as f:
                f.write("all:\n")
        self.write("kern/printf.c", "mine")
        self.write(".gdbinit.tmpl", "fake")
        os.mkdir(os.path.join(self.sub, "build"))
        ignored = batch.ignored_changes(self.sub, handout, ["kern/printf.c"])
        self.assertEqual(ignored, ["build/ (the grader builds from clean)", ".gdbinit.tmpl"])


class ManifestTest(unittest.TestCase):
    def test_folders_and_files(self):
        with tempfile.TemporaryDirectory() as top:
            os.mkdir(os.path.join(top, "labs"))
            with open(os.path.join(top, "labs", "manifest"), "w") as f:
                f.write("# comment\nnew 4 kern/proc.c user/\nedit 4 kern/proc.c\n")
            m = gradelib.Manifest(top)
            self.assertEqual(m.lab_of("kern/proc.c"), 4)
            self.assertEqual(m.lab_of("user/kernel/types.h"), 4)
            self.assertEqual(m.lab_of("userland.c"), 1)     # a folder, not a prefix
            self.assertEqual(m.lab_of("kern/main.c"), 1)
            self.assertEqual(m.student_files(4), ["kern/proc.c", "answers-lab4.txt"])

    def test_bad_line(self):
        with tempfile.TemporaryDirectory() as top:
            os.mkdir(os.path.join(top, "labs"))
            with open(os.path.join(top, "labs", "manifest"), "w") as f:
                f.write("new four kern/proc.c\n")
            with self.assertRaises(gradelib.GradeError):
                gradelib.Manifest(top)


class ConstsTest(unittest.TestCase):
    def test_numbers_and_strings(self):
        with tempfile.NamedTemporaryFile("w", suffix=".consts") as f:
            f.write("# generated, do not edit\nKERNBASE 0xffffffff80000000\nHZ 0x64\n"
                    "CMDLINE_FWCFG_NAME opt/kestrel/cmdline\n")
            f.flush()
            self.assertEqual(gradelib.read_consts(f.name),
                             {"KERNBASE": 0xffffffff80000000, "HZ": 100,
                              "CMDLINE_FWCFG_NAME": "opt/kestrel/cmdline"})


class CommandLineTest(unittest.TestCase):
    """grade.py's answers to bad arguments: one line, non-zero exit."""

    def run_grade(self, *args):
        r = subprocess.run([sys.executable, GRADE_PY, *args], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        return r.returncode, r.stderr.strip().splitlines()

    def test_bad_lab(self):
        rc, err = self.run_grade("--lab", "9")
        self.assertEqual(rc, 2)
        self.assertIn("not a lab number", err[-1])

    def test_not_a_tree(self):
        with tempfile.TemporaryDirectory() as d:
            rc, err = self.run_grade("--tree", d, "--lab", "1")
        self.assertEqual(rc, 2)
        self.assertEqual(len(err), 1)
        self.assertIn("not a kernel tree", err[0])

    def test_batch_needs_out(self):
        rc, err = self.run_grade("--batch", "x")
        self.assertEqual(rc, 2)
        self.assertIn("--batch and --out go together", err[-1])

    def test_batch_needs_the_instructors_tree(self):
        with tempfile.TemporaryDirectory() as d:
            top = os.path.dirname(GRADE_DIR)
            for f in ("grade/grade.py", "grade/gradelib.py", "tools/freeport.py"):
                os.makedirs(os.path.join(d, os.path.dirname(f)), exist_ok=True)
                with open(os.path.join(top, f)) as src, open(os.path.join(d, f), "w") as dst:
                    dst.write(src.read())
            r = subprocess.run([sys.executable, os.path.join(d, "grade", "grade.py"), "--batch",
                                d, "--out", os.path.join(d, "out"), "--lab", "1"],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1)
            self.assertIn("instructors' tree", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "out")))

    def test_unknown_test_name(self):
        sys.path.insert(0, os.path.dirname(GRADE_PY))
        import grade
        tests = [fake_test("boot"), fake_test("printf", after=["boot"])]
        with self.assertRaises(gradelib.GradeError) as cm:
            grade.select(tests, "nosuch")
        self.assertIn("no test named 'nosuch'", str(cm.exception))
        self.assertEqual([t.name for t in grade.select(tests, "printf")], ["boot", "printf"])


if __name__ == "__main__":
    unittest.main()
