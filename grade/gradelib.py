"""gradelib: boot the kernel in QEMU, talk to it, and score what it does.

Python 3 standard library only. The per-lab scripts (grade/labN.py) declare
their tests with the @test decorator; grade/grade.py loads them, runs them
(in parallel) and reports. A test is a function of one argument, a Context,
through which it boots the kernel and checks what the kernel printed:

    @test(40, "backtrace")
    def backtrace(t):
        q = t.boot("test=backtrace")          # QEMU, headless, serial on a pipe
        q.expect(r"panic: .*bt_leaf")         # wait for output (with a timeout)
        t.check(ok, "what should be true", expected=..., got=...)

Rules the grader keeps:
  - It never sleeps a fixed time. It waits for output matching a pattern,
    with a timeout; a test that runs out of time is reported as TIMEOUT (not
    as a wrong answer), with what the kernel printed until then.
  - Timeouts are generous and scale with the accelerator: TCG emulates the
    CPU and is slower than KVM. GRADE_TIMEOUT_SCALE=k multiplies them all.
  - Slow is not hung: each test stands on its own timeouts. Only a grade
    given a hang deadline (batch grading measures one on its host) calls a
    kernel that prints no line in time hung at boot, and then fails the
    rest of that tree's tests at once. A QEMU's output is kept up
    to OUTPUT_CAP bytes; a kernel that prints without end fails there.
  - QEMU's own voice is heard: a QEMU that reports an internal error (KVM's
    "emulation failure") ends the test at once, and every report carries
    what QEMU wrote on its stderr.
  - Each test's inputs come from its seed (t.new_seed() draws from it); a
    failing test's report ends with the command that boots its last kernel
    by hand (make qemu MEM=... KARGS="test=... seed=..."), then the one
    that reruns the whole test with that seed: make grade TEST=name SEED=n.
  - Nothing outlives the grader: QEMU and GDB run in process groups of
    their own, die with it (a parent-death signal) and are killed by
    kill_children() when grade.py is told to stop.
  - Each QEMU gets its own copy of the disk image and its own GDB port,
    chosen free by the OS at run time, so tests can run side by side.
  - The QEMU command comes from the tree's own Makefile (`make print-qemu`,
    asked once, before any test, with placeholders the grader fills in), so
    the grader boots exactly what `make qemu` boots, and a rebuild during
    grading cannot change it; GDB runs with the
    tree's .gdbinit.tmpl, port filled in, exactly as `make gdb` does.

Results: each test ends "pass", "FAIL" (a check failed, or QEMU stopped
before printing what was expected) or "TIMEOUT".
"""

import collections
import ctypes
import fcntl
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
import freeport                                     # noqa: E402

TIMEOUT_KVM = 20        # seconds a test waits for one expected output, KVM
TIMEOUT_TCG = 60        # the same under TCG (plain emulation)
GDB_TIMEOUT_KVM = 40    # seconds one GDB session may take, KVM
GDB_TIMEOUT_TCG = 120
TAIL_LINES = 25         # lines of kernel output shown with a failure
OUTPUT_CAP = 256 << 10  # bytes of one QEMU's output kept; the rest is dropped
REPORT_CAP = 8000       # characters of one test's text in a JSON report
MESSAGE_LINES = 12      # lines of QEMU's stderr shown with a report

# What QEMU says when the virtual CPU cannot go on: under KVM it then pauses
# the machine and waits for ever, so a test must not wait for output.
QEMU_STOPPED = re.compile(r"KVM internal error|emulation failure|KVM: entry failed|"
                          r"kvm run failed|^qemu-system-\S+: .*(?:fatal|[Ee]rror)", re.M)

PASS, FAIL, TIMEOUT = "pass", "FAIL", "TIMEOUT"


class Fail(Exception):
    """A test's check failed: the kernel did something other than expected."""


class Timeout(Fail):
    """The kernel did not print what the test waited for in time."""


class GradeError(Exception):
    """The grader itself cannot go on (bad option, build broken): one line."""


## Declaring tests ##########################################################

class Test:
    def __init__(self, lab, points, name, scored, after, func, hidden=False):
        self.lab = lab
        self.points = points
        self.name = name
        self.scored = scored
        self.after = after
        self.func = func
        self.hidden = hidden
        self.doc = (func.__doc__ or "").strip()


TESTS = []      # every declared test, in declaration order


def _lab_of(func):
    """The lab a test belongs to: the N of the grade/labN.py declaring it."""
    module = sys.modules.get(func.__module__)
    path = getattr(module, "__file__", None) or func.__module__
    m = re.search(r"lab(\d+)(\.py)?$", os.path.basename(path))
    if not m:
        raise GradeError(f"test {func.__name__} is not declared in a grade/labN.py file")
    return int(m.group(1))


def test(points, name, scored=True, after=(), hidden=False):
    """Declare a test worth points, called name (unique across labs).

    scored=False marks a sanity check (max score 0), which may pass on the
    handout's stubs. after names tests that must pass first: if one fails,
    this test is reported as failed without running. hidden=True: Gradescope
    shows the test to students only once grades are published.
    """
    after = (after,) if isinstance(after, str) else tuple(after)

    def register(func):
        if any(t.name == name for t in TESTS):
            raise GradeError(f"two tests are named {name}")
        for dep in after:
            if not any(t.name == dep for t in TESTS):
                raise GradeError(f"test {name}: 'after' names {dep}, which is not declared before it")
        TESTS.append(Test(_lab_of(func), points if scored else 0, name, scored, after, func,
                          hidden))
        return func
    return register


## Child processes ############################################################

_children = set()               # every live QEMU and GDB Popen
_children_lock = threading.Lock()
PR_SET_PDEATHSIG = 1            # prctl(2): a signal for the child when its parent dies


try:                            # looked up here: the child, between fork and exec, only calls it
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None               # not Linux: kill_children() is the only guard


def _die_with_parent():
    """In the child, before exec: SIGKILL when the grader dies, however it dies."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv, **kwargs):
    """Popen(argv) in a process group of its own that dies with the grader;
    kill_children() ends it too."""
    p = subprocess.Popen(argv, start_new_session=True,
                         preexec_fn=_die_with_parent if _prctl else None, **kwargs)
    with _children_lock:
        _children.add(p)
    return p


def reap(p):
    """Kill p's process group (if still there) and wait for p."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    p.wait()
    with _children_lock:
        _children.discard(p)


def kill_children():
    """Kill every process group spawn() started and that is still running."""
    with _children_lock:
        live = list(_children)
    for p in live:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass


## Ports and timeouts ########################################################

_ports_given = set()
_ports_lock = threading.Lock()


def free_port():
    """A TCP port that is free on 127.0.0.1 right now (the OS picks it), and
    not one this grader handed out before: between our closing the socket
    and QEMU binding the port, the OS could offer it to a parallel test."""
    with _ports_lock:
        while True:
            port = freeport.free_port()
            if port not in _ports_given:
                _ports_given.add(port)
                return port


def timeout_scale():
    """GRADE_TIMEOUT_SCALE, a positive number, default 1."""
    text = os.environ.get("GRADE_TIMEOUT_SCALE", "1")
    try:
        scale = float(text)
    except ValueError:
        scale = 0
    if not scale > 0:
        raise GradeError(f"GRADE_TIMEOUT_SCALE={text!r} is not a positive number")
    return scale


def first_error(text):
    """The first line of a build's output that reports an error (a
    compiler's "error:", the linker's "undefined reference", make's "***"),
    else its last line; "" if empty."""
    lines = [l for l in text.splitlines() if l.strip()]
    for l in lines:
        if re.search(r"\berror\b|undefined reference|\*\*\*", l, re.I):
            return l.strip()
    return lines[-1].strip() if lines else ""


def expect_alive(q, pattern):
    """q.expect(pattern), but a panic that ends the kernel first fails the
    test at once (a stub's panic, say) instead of waiting out the timeout."""
    m = q.expect(rf"(?:{pattern})|(?P<halted>^panic: halted$)")
    if m.group("halted"):
        panics = re.findall(r"^panic: (?!halted).*$", q.output, re.M)
        raise Fail(f"the kernel panicked before printing /{pattern}/: "
                   + (panics[0] if panics else "panic: halted"))
    return m


EXIT = re.compile(r"^init: exited with status (-?\d+)$", re.M)   # the first process's end


def run_init(t, prog, *args, kargs="", timeout=None, hang=None, **boot):
    """Boot with user program prog (and args) as the first process (lab 4
    on), kargs more options on the kernel's command line, and wait until
    it exits; a panic fails at once. (output up to init's exit line, exit
    status). timeout: seconds to wait, instead of the test's own; hang:
    what a timeout means, for the report. boot: as t.boot() takes them."""
    first = "init=" + ":".join([prog] + [str(a) for a in args])
    q = t.boot(f"{kargs} {first}".strip(), **boot)
    try:
        m = q.expect(rf"{EXIT.pattern}|(?P<halted>^panic: halted$)", timeout=timeout)
    except Timeout as e:
        raise Timeout(f"{e}{': ' + hang if hang else ''}") from None
    if m.group("halted"):
        panics = re.findall(r"^panic: (?!halted).*$", q.output, re.M)
        raise Fail("the kernel panicked: " + (panics[-1] if panics else "panic: halted"))
    return q.output[:m.end()], int(m.group(1))


def excerpt(text, chars=1500):
    """The end of text, about chars long, starting at a line boundary."""
    if len(text) <= chars:
        return text
    cut = text.find("\n", len(text) - chars)
    return "..." + text[cut:] if cut >= 0 else text[-chars:]


def tail(text, n=TAIL_LINES):
    """The last n lines of text, or a note that it is empty."""
    lines = text.rstrip("\n").splitlines()
    if not lines:
        return "(the kernel printed nothing)"
    cut = lines[-n:]
    more = f"... ({len(lines) - n} earlier lines)\n" if len(lines) > n else ""
    return more + "\n".join(cut)


## One QEMU ####################################################################

class Qemu:
    """A running QEMU whose serial console is this object's pipe.

    A reader thread appends everything QEMU prints to self.output ("\\r\\n"
    folded to "\\n"), up to OUTPUT_CAP bytes; expect() waits on it. QEMU's own
    messages (stderr) are kept apart in self.messages. boot_timeout: seconds
    the kernel has to print its first line (None: no such deadline; only
    batch grading sets one). tree: an object whose attribute hang, once a
    string, says why every wait on that tree fails at once.
    """

    def __init__(self, argv, timeout, boot_timeout=None, tree=None):
        self.argv = argv
        self.timeout = timeout
        self.boot_timeout = boot_timeout
        self.tree = tree
        self.output = ""
        self.messages = ""
        self.flooded = False            # output went over OUTPUT_CAP
        self.pos = 0                    # expect() searches from here
        self.cond = threading.Condition()
        self.started = time.monotonic()
        self.proc = spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, "output"),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, "messages"),
                                         daemon=True)]
        for r in self.readers:
            r.start()

    def _read(self, pipe, field):
        while True:
            chunk = os.read(pipe.fileno(), 65536)
            with self.cond:
                if chunk:
                    text = chunk.decode(errors="replace").replace("\r", "")
                    kept = getattr(self, field)
                    room = OUTPUT_CAP - len(kept)
                    if len(text) > room:
                        text = text[:max(room, 0)]
                        self.flooded = self.flooded or field == "output"
                    setattr(self, field, kept + text)
                self.cond.notify_all()
            if not chunk:
                return

    def running(self):
        return self.proc.poll() is None

    def stopped(self):
        """What QEMU said when its virtual CPU stopped for good, or ""."""
        m = QEMU_STOPPED.search(self.messages)
        return self.messages_note(all_lines=True) if m else ""

    def _exited(self):
        """True once QEMU has exited and both pipes are drained."""
        return self.proc.poll() is not None and not any(r.is_alive() for r in self.readers)

    def exit_note(self):
        """Why QEMU is gone. It runs with -no-reboot and tests never quit it,
        so status 0 is a reset of the machine; the kernel's own power-off
        (isa-debug-exit) gives an odd status."""
        if self.proc.returncode == 0:
            return "the machine reset: triple fault (QEMU runs with -no-reboot)"
        return f"QEMU exited (status {self.proc.returncode})"

    def hang_check(self):
        """Fail at once if this tree's kernel is known to hang at boot, or if
        this boot has printed no line within its boot deadline (which marks
        the tree)."""
        hang = getattr(self.tree, "hang", None)
        if hang:
            raise Fail(f"not waited for: {hang}")
        if self.boot_timeout is None or re.search(r"\S.*\n", self.output):
            self.boot_timeout = None    # it has booted: no need to look again
            return
        if time.monotonic() - self.started > self.boot_timeout:
            hang = f"the kernel printed no line in the first {self.boot_timeout:.0f} s: it hangs at boot"
            if self.tree is not None:
                self.tree.hang = hang
            raise Timeout(hang)

    def expect(self, pattern, timeout=None, partial=False):
        """Wait until pattern (a regex, multiline) matches output not yet
        consumed; consume through the match and return it.

        Only complete lines are searched, so that a pattern such as
        r"main\+0x[0-9a-f]+" cannot match half a line that is still arriving
        ("main+0x7" of "main+0x73"). partial=True also searches the line
        being printed, for prompts that end without a newline."""
        regex = re.compile(pattern, re.M)
        limit = timeout if timeout is not None else self.timeout
        deadline = time.monotonic() + limit
        with self.cond:
            while True:
                end = len(self.output) if partial else self.output.rfind("\n") + 1
                m = regex.search(self.output, self.pos, max(end, self.pos))
                if m:
                    self.pos = m.end()
                    return m
                if self.flooded:
                    raise Fail(f"the kernel printed over {OUTPUT_CAP} bytes without "
                               f"printing /{pattern}/")
                if self._exited():
                    raise Fail(f"{self.exit_note()} before the kernel printed /{pattern}/"
                               + self.messages_note())
                if self.stopped():
                    raise Fail(f"QEMU stopped the machine before the kernel printed /{pattern}/"
                               + self.stopped())
                self.hang_check()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout(f"waited {limit:.0f} s for the kernel to print /{pattern}/")
                # Wake at least every half second to notice QEMU's exit.
                self.cond.wait(min(left, 0.5))

    def monitor(self, command):
        """Run command in QEMU's human monitor (only for a QEMU started with
        t.boot(..., monitor=True)); what the monitor answered."""
        if not getattr(self, "monitor_path", None):
            raise GradeError("q.monitor() needs a QEMU started with t.boot(monitor=True)")
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.connect(self.monitor_path)
                break
            except OSError:
                conn.close()
                if not self.running() or time.monotonic() > deadline:
                    raise Fail(f"QEMU's monitor did not answer{self.messages_note()}")
                time.sleep(0.1)     # QEMU has not made the socket yet
        with conn:
            conn.settimeout(max(1.0, deadline - time.monotonic()))

            def until_prompt():
                text = b""
                while not text.rstrip().endswith(b"(qemu)"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    text += chunk
                return text
            until_prompt()                      # the greeting
            conn.sendall(command.encode() + b"\n")
            text = until_prompt()
        return text.decode(errors="replace")

    def send(self, text):
        """Type text on the serial console."""
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def messages_note(self, all_lines=False):
        msgs = [l for l in self.messages.splitlines() if l.strip()
                and (all_lines or "host doesn't support requested feature" not in l)]
        return "; QEMU said: " + " | ".join(msgs[:3]) if msgs else ""

    def stop(self):
        reap(self.proc)
        for r in self.readers:
            r.join(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass


## The tree being graded ##########################################################

Symbol = collections.namedtuple("Symbol", "addr size type name")


def read_consts(path):
    """{NAME: value} of a build/consts file: numbers as ints, strings as
    they are."""
    values = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("#") and line.strip():
                name, value = line.split()
                values[name] = int(value, 16) if value.startswith("0x") else value
    return values


class Tree:
    """A kernel tree (the instructors' or a handout or a submission), built."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        if not os.path.isfile(os.path.join(self.path, "Makefile")):
            raise GradeError(f"{path} is not a kernel tree (no Makefile)")
        self.accel = None
        self.hang_after = None  # batch grading: seconds to the first line, or hung
        self.hang = None        # why this tree's kernel hangs at boot, once seen
        self._consts = None
        self._symbols = {}      # binary -> its symbols
        self.lock = threading.Lock()

    def make(self, *args):
        """Run make in the tree; its output, or GradeError with it."""
        r = subprocess.run(["make", "-s", "--no-print-directory", *args], cwd=self.path,
                           stdin=subprocess.DEVNULL, capture_output=True)
        out = r.stdout.decode(errors="replace")
        if r.returncode != 0:
            err = first_error(out + r.stderr.decode(errors="replace"))
            raise GradeError(f"make {' '.join(args)} failed in {self.path}: "
                             + (err or f"status {r.returncode}"))
        return out

    def prepare(self):
        """Build the kernel and settle the accelerator and QEMU's command,
        once, before any test: tests run in parallel and must not race to
        build, and a rebuild while they run must change nothing under them.
        A lock on build/.grade-lock keeps two graders of one tree from
        building at once."""
        os.makedirs(os.path.join(self.path, "build"), exist_ok=True)
        with open(os.path.join(self.path, "build", ".grade-lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.make("all")
            self.argv = self.make("print-qemu", "KARGS=@KARGS@", "DISK=@DISK@", "WAITGDB=1",
                                  "GDBPORT=@GDBPORT@", "DATADISK=@DATA@").splitlines()
            self.snapshot = tempfile.mkdtemp(prefix="kestrel-grade-")
            self.disk = os.path.join(self.snapshot, "disk.img")
            shutil.copyfile(os.path.join(self.path, "build", "disk.img"), self.disk)
            # From lab 7 a data disk too: each boot gets a fresh copy of
            # mkdata's image, made here with the tree's own tool.
            self.data = None
            if any("@DATA@" in a for a in self.argv):
                self.data = os.path.join(self.snapshot, "data.img")
                self.data_sectors = int(self.make("print-DATA_SECTORS"))
                self.make_data(self.data, int(self.make("print-DATASEED")), self.data_sectors)
        for arg in ("@KARGS@", "@DISK@", "@GDBPORT@", "-accel", "-m", "-smp"):
            if not any(arg in a for a in self.argv):
                raise GradeError(f"make print-qemu gave no {arg}: {' '.join(self.argv)}")
        self.accel = self.argv[self.argv.index("-accel") + 1]

    def make_data(self, path, seed, sectors):
        """A data disk at path, mkfs/mkdata's image of seed (lab 7 on)."""
        r = subprocess.run([os.path.join(self.path, "build", "mkdata"), str(seed), str(sectors),
                            path], capture_output=True)
        if r.returncode != 0:
            raise GradeError(f"mkdata failed: {r.stderr.decode(errors='replace').strip()}")

    def cleanup(self):
        if getattr(self, "snapshot", None):
            shutil.rmtree(self.snapshot, ignore_errors=True)

    def qemu_argv(self, kargs, disk, gdbport=None, mem=None, data=None):
        """QEMU's command from prepare()'s template: the kernel command line
        kargs (none: no fw_cfg file, which QEMU would refuse empty), the
        disk (and data, the data disk, from lab 7), waiting for GDB on
        gdbport if given, mem for -m if given."""
        argv, out = list(self.argv), []
        if mem:
            argv[argv.index("-m") + 1] = mem
        skip = False
        for i, a in enumerate(argv):
            if skip:
                skip = False
                continue
            nxt = argv[i + 1] if i + 1 < len(argv) else ""
            if not gdbport and (a == "-S" or (a == "-gdb" and "@GDBPORT@" in nxt)):
                skip = a == "-gdb"
                continue
            if not kargs and "@KARGS@" in nxt:
                skip = True
                continue
            out.append(a.replace("@KARGS@", kargs).replace("@DISK@", disk)
                       .replace("@GDBPORT@", str(gdbport)).replace("@DATA@", str(data)))
        return out

    def gdbinit(self, port):
        """The tree's .gdbinit.tmpl with the port filled in, as `make gdb` has it."""
        with open(os.path.join(self.path, ".gdbinit.tmpl")) as f:
            return f.read().replace("@GDBPORT@", str(port))

    def tool(self, var):
        """The program the Makefile uses as var (NM, GDB: TOOLPREFIX may change it)."""
        return self.make(f"print-{var}").strip()

    def consts(self):
        """{NAME: value} of the kernel's constants as the compiler worked
        them out for this tree's build (build/consts: see kern/genconsts.c);
        their one home is the kernel's headers, and tests must not copy them."""
        with self.lock:
            if self._consts is None:
                self._consts = read_consts(os.path.join(self.path, "build", "consts"))
        return self._consts

    def symbols(self, binary="build/kernel"):
        """[Symbol(addr, size, type, name)] of every symbol that nm finds
        defined in the tree's binary, by address; size 0 where nm gives
        none. Read once per binary."""
        with self.lock:
            if binary not in self._symbols:
                r = subprocess.run([self.tool("NM"), "-n", "-S", "--defined-only", binary],
                                   cwd=self.path, capture_output=True, check=True)
                # Each line: address, size (when the symbol has one), type, name.
                fields = [line.split() for line in r.stdout.decode().splitlines()]
                self._symbols[binary] = [
                    Symbol(int(f[0], 16), int(f[1], 16) if len(f) == 4 else 0, f[-2], f[-1])
                    for f in fields if len(f) in (3, 4)]
        return self._symbols[binary]


## One test's run ##################################################################

class Context:
    """What a test function receives: boot QEMU, run GDB, check things."""

    def __init__(self, tree, test, seed=None):
        self.tree = tree
        self.test = test
        slow = tree.accel != "kvm"
        scale = timeout_scale()
        self.timeout = (TIMEOUT_TCG if slow else TIMEOUT_KVM) * scale
        self.gdb_timeout = (GDB_TIMEOUT_TCG if slow else GDB_TIMEOUT_KVM) * scale
        self.boot_timeout = getattr(tree, "hang_after", None)
        self.seed = seed if seed is not None else random.randrange(1, 10**9)
        self._draws = random.Random(self.seed)
        self.tmp = tempfile.mkdtemp(prefix=f"kestrel-{test.name}-")
        self.qemus = []
        self.gdbport = None
        self.by_hand = None     # the make command that boots the last kernel as boot() did

    def data_disk(self, seed, sectors=None):
        """A new data disk of the test's own: mkdata's image of seed, with
        sectors sectors (the Makefile's DATA_SECTORS if None). Its path, for
        boot(data=...) (as many boots as wanted: a reboot sees what the
        last one wrote) and for reading afterwards."""
        if self.tree.data is None:
            raise GradeError("this tree has no data disk (lab 7 adds it)")
        path = os.path.join(self.tmp, f"data{len(os.listdir(self.tmp))}.img")
        self.tree.make_data(path, seed, sectors or self.tree.data_sectors)
        return path

    def boot(self, kargs="", gdb=False, mem=None, monitor=False, cpu_flags=None, cpus=None,
             data=None):
        """Start QEMU on a private copy of the disk with kernel command line
        kargs. gdb=True: QEMU waits for GDB (see gdb()). mem: a memory size
        for QEMU's -m, instead of the Makefile's MEM. monitor=True: QEMU's
        human monitor listens on a socket of its own, for q.monitor().
        cpu_flags: CPU features to add to or take from the Makefile's CPU
        model, as QEMU's -cpu takes them ("-smep,-smap"). cpus: how many
        CPUs (QEMU's -smp), instead of the Makefile's CPUS. data: the data
        disk (data_disk()); none: a fresh copy of the tree's (lab 7 on)."""
        disk = os.path.join(self.tmp, f"disk{len(self.qemus)}.img")
        shutil.copyfile(self.tree.disk, disk)
        if data is None and self.tree.data:
            data = os.path.join(self.tmp, f"data-copy{len(self.qemus)}.img")
            shutil.copyfile(self.tree.data, data)
        port = None
        if gdb:
            port = self.gdbport = free_port()
        argv = self.tree.qemu_argv(kargs, disk, port, mem, data)
        if cpus:
            argv[argv.index("-smp") + 1] = str(cpus)
        cpu = None
        if cpu_flags:
            at = argv.index("-cpu") + 1
            argv[at] += "," + cpu_flags
            cpu = argv[at]
        self.by_hand = by_hand(kargs, gdb, mem, self.tree.accel, cpu, cpus)
        path = None
        if monitor:
            path = os.path.join(self.tmp, f"monitor{len(self.qemus)}.sock")
            at = [i for i in range(len(argv) - 1) if argv[i:i + 2] == ["-monitor", "none"]]
            if not at:
                raise GradeError("make print-qemu gave no '-monitor none' to replace")
            argv[at[0] + 1] = f"unix:{path},server=on,wait=off"
        q = Qemu(argv, self.timeout, self.boot_timeout, self.tree)
        q.monitor_path = path
        self.qemus.append(q)
        return q

    def new_seed(self):
        """A seed for what the test asks the kernel to do: drawn from the
        test's own seed, so a rerun with SEED=n asks the same again."""
        return self._draws.randrange(1, 10**9)

    def gdb(self, commands, timeout=None):
        """Run GDB as `make gdb` does, attached to the QEMU that boot(gdb=True)
        started, run commands in batch mode and return what GDB printed."""
        if self.gdbport is None:
            raise GradeError("t.gdb() needs a QEMU started with t.boot(gdb=True)")
        init = os.path.join(self.tmp, "gdbinit")
        with open(init, "w") as f:
            f.write(self.tree.gdbinit(self.gdbport))
        limit = timeout if timeout is not None else self.gdb_timeout
        # GDB retries a refused connection until connect-timeout: QEMU may not
        # be listening yet when GDB starts.
        argv = [self.tree.tool("GDB"), "-q", "-nx", "-batch",
                "-iex", f"set tcp connect-timeout {int(limit)}", "-x", init]
        for c in commands:
            argv += ["-ex", c]
        qemu = self.qemus[-1]
        gdb = spawn(argv, cwd=self.tree.path, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        chunks = []
        reader = threading.Thread(target=lambda: chunks.append(gdb.stdout.read()), daemon=True)
        reader.start()
        deadline = time.monotonic() + limit
        # Wait for GDB, but give up early if QEMU dies under it, if the
        # kernel prints without end, or if another test found that this
        # tree's kernel hangs at boot.
        while (gdb.poll() is None and time.monotonic() < deadline and not qemu.flooded
               and not self.tree.hang and not qemu.stopped()):
            if not qemu.running():
                try:
                    gdb.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    break
            else:
                try:
                    gdb.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        status = gdb.poll()
        reap(gdb)
        reader.join(timeout=5)
        out = b"".join(chunks).decode(errors="replace")
        if status is None and not qemu.running():
            raise Fail(f"{qemu.exit_note()} under GDB{qemu.messages_note()}\nGDB printed:\n{out}")
        if status is None and qemu.flooded:
            raise Fail(f"the kernel printed over {OUTPUT_CAP} bytes while GDB waited"
                       f"\nGDB printed:\n{out}")
        if status is None and qemu.stopped():
            raise Fail(f"QEMU stopped the machine under GDB{qemu.stopped()}\nGDB printed:\n{out}")
        if status is None and self.tree.hang:
            raise Fail(f"not waited for: {self.tree.hang}\nGDB printed:\n{out}")
        if status is None:
            raise Timeout(f"GDB did not finish {'; '.join(commands)} in {limit:.0f} s"
                          f"\nGDB printed:\n{out}")
        return out

    def check(self, ok, message, expected=None, got=None):
        """Fail the test with message unless ok."""
        if ok:
            return
        detail = message
        if expected is not None:
            detail += f"\n  expected: {expected}"
        if got is not None:
            detail += "\n  got:      " + str(got).replace("\n", "\n            ")
        raise Fail(detail)

    def output(self):
        """Everything the kernel printed, all boots of this test."""
        return "".join(q.output for q in self.qemus)

    def messages(self):
        """What QEMU wrote on its stderr, all boots of this test."""
        return "".join(q.messages for q in self.qemus)

    def cleanup(self):
        for q in self.qemus:
            q.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def by_hand(kargs, gdb, mem, accel, cpu, cpus=None):
    """The make command that boots the kernel as Context.boot() did (with
    kargs, under GDB, with mem, on the CPU model cpu), for a report: a
    student runs the failed boot again, and watches it or debugs it."""
    words = ["make", "qemu-gdb" if gdb else "qemu"]
    if mem:
        words.append(f"MEM={mem}")
    if cpus:
        words.append(f"CPUS={cpus}")
    if cpu:
        # The Makefile takes CPU_MODEL as it is only with ACCEL given.
        words += [f"ACCEL={accel}", f"CPU_MODEL={cpu}"]
    if kargs.strip():
        words.append(f'KARGS="{kargs.strip()}"')
    return " ".join(words)


class Result:
    def __init__(self, test, status, message, output, seconds, seed=None, messages="",
                 boot=None):
        self.test = test
        self.status = status
        self.message = message      # why it failed; "" when it passed
        self.output = output        # what the kernel printed
        self.seconds = seconds
        self.seed = seed            # the test's seed (None: it did not run)
        self.messages = messages    # what QEMU wrote on its stderr
        self.boot = boot            # the make command that boots its last kernel by hand

    def rerun(self):
        """The command that runs this test again with the same seed."""
        return f"make grade TEST={self.test.name} SEED={self.seed}"

    @property
    def score(self):
        return self.test.points if self.status == PASS else 0

    def report(self, verbose=False):
        """The text shown for this result below its one-line summary."""
        if self.status == PASS and not verbose:
            return ""
        parts = []
        if self.message:
            parts.append(self.message)
        if verbose:
            parts.append("the kernel printed:\n" + (self.output.rstrip() or "(nothing)"))
        elif self.output is not None:
            parts.append("the kernel's last lines:\n" + tail(self.output))
        if self.messages.strip():
            parts.append("QEMU said (stderr):\n" + tail(self.messages, MESSAGE_LINES))
        if self.status != PASS and self.boot:
            parts.append("by hand: " + self.boot)
        if self.status != PASS and self.seed is not None:
            parts.append("rerun: " + self.rerun())
        return "\n".join(parts)


def run_test(tree, test, seed=None):
    """Run one test; its Result. Never raises for the test's own failures."""
    start = time.monotonic()
    t = Context(tree, test, seed)
    status, message = PASS, ""
    try:
        test.func(t)
    except Timeout as e:
        status, message = TIMEOUT, str(e)
    except Fail as e:
        status, message = FAIL, str(e)
    except GradeError:
        raise
    except Exception:
        status, message = FAIL, "the test itself raised an error:\n" + traceback.format_exc()
    finally:
        t.cleanup()
    return Result(test, status, message, t.output(), time.monotonic() - start, t.seed,
                  t.messages(), t.by_hand)


def run_tests(tree, tests, jobs, on_result, seed=None):
    """Run tests, jobs at a time, respecting 'after'; on_result(result) as
    each finishes (in the calling thread, in declaration order). Returns
    the results in declaration order. seed: every test's seed (default: a
    new one for each)."""
    results = {}
    done = {t.name: threading.Event() for t in tests}
    lock = threading.Lock()
    errors = []
    queue = list(tests)

    def worker():
        while True:
            with lock:
                if not queue or errors:
                    return
                test = queue.pop(0)
            # Dependencies come earlier in the queue, so each has been taken
            # by a worker already: waiting cannot deadlock.
            for dep in test.after:
                if dep in done:
                    done[dep].wait()
            failed = [d for d in test.after if d in results and results[d].status != PASS]
            try:
                if failed:
                    r = Result(test, FAIL, f"not run: it needs {', '.join(failed)}, which failed",
                               None, 0.0)
                else:
                    r = run_test(tree, test, seed)
            except BaseException as e:
                with lock:
                    errors.append(e)
                r = Result(test, FAIL, f"grader error: {e}", None, 0.0)
            results[test.name] = r
            done[test.name].set()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, jobs))]
    for th in threads:
        th.start()
    ordered = []
    for test in tests:
        done[test.name].wait()
        if errors:
            break
        on_result(results[test.name])
        ordered.append(results[test.name])
    for th in threads:
        th.join()
    if errors:
        raise errors[0] if isinstance(errors[0], GradeError) else GradeError(str(errors[0]))
    return ordered


## Reports ##########################################################################

def clip(text, cap=REPORT_CAP):
    """text cut to cap characters: its head and its tail, with a note between."""
    if len(text) <= cap:
        return text
    half = cap // 2
    return f"{text[:half]}\n... ({len(text) - 2 * half} characters left out) ...\n{text[-half:]}"


def gradescope_report(results, seconds):
    """Results as Gradescope's autograder reads them (results.json). Each
    test's text is clipped to REPORT_CAP characters, which bounds the file."""
    tests = []
    for i, r in enumerate(results, 1):
        text = f"{r.status}: {r.test.name}"
        detail = r.report()
        if detail:
            text += "\n" + detail
        tests.append({
            "number": str(i),
            "name": f"lab{r.test.lab} {r.test.name}",
            "score": r.score,
            "max_score": r.test.points,
            "status": "passed" if r.status == PASS else "failed",
            "output": clip(text),
            "visibility": "after_published" if r.test.hidden else "visible",
            "extra_data": {"lab": r.test.lab, "scored": r.test.scored, "result": r.status,
                           "seconds": round(r.seconds, 2), "seed": r.seed},
        })
    return {
        "score": sum(r.score for r in results),
        "execution_time": round(seconds, 1),
        "output": f"{sum(r.status == PASS for r in results)} passed, "
                  f"{sum(r.status != PASS for r in results)} failed",
        "tests": tests,
    }


def write_json(path, report):
    """Write report to path atomically: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=".grade-", suffix=".json",
                               dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


## Seeds ########################################################################
# What a test asks the kernel to do varies from a seed the grader picks; the
# self-tests draw from it with kern/test/selftest.c's seed_next(), mirrored here.

MASK64 = (1 << 64) - 1


def lcg(x):
    """kern/test/selftest.c's seed_next() step: x * A + C, modulo 2^64."""
    return (x * 6364136223846793005 + 1442695040888963407) & MASK64


def seed_draws(seed):
    """The numbers seed_next() returns, one after another, from seed."""
    x = seed
    while True:
        x = lcg(x)
        yield x >> 33



## Lab ownership (labs/manifest) ##################################################

class Manifest:
    """labs/manifest: the lab each file arrives with, and the files each
    lab's students edit. See the comment at the top of that file."""

    def __init__(self, top):
        self.new = {}           # path -> the lab it arrives with
        self.edit = {}          # lab -> [paths its students edit]
        self.lines = []         # (lab or None, line), for the handout generator
        path = os.path.join(top, "labs", "manifest")
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise GradeError(f"cannot read {path}: {e.strerror}")
        for n, line in enumerate(text.splitlines(keepends=True), 1):
            words = line.split()
            if not words or words[0].startswith("#"):
                self.lines.append((None, line))
                continue
            if len(words) < 3 or words[0] not in ("new", "edit") or not words[1].isdigit():
                raise GradeError(f"labs/manifest:{n}: expected 'new N PATH...' or 'edit N PATH...'")
            lab = int(words[1])
            self.lines.append((lab, line))
            for p in words[2:]:
                if words[0] == "new":
                    self.new[p] = lab
                else:
                    self.edit.setdefault(lab, []).append(p)

    def lab_of(self, path):
        """The lab that path arrives with (1 unless the manifest says). A
        manifest path ending in / names a folder: every file under it."""
        hits = [p for p in self.new if path == p or (p.endswith("/") and path.startswith(p))]
        return self.new[max(hits, key=len)] if hits else 1    # the closest: a file in a folder

    def student_files(self, lab):
        """The files a student of lab edits, answers file included."""
        return self.edit.get(lab, []) + [f"answers-lab{lab}.txt"]
