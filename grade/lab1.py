# Lab 1 tests: boot, printf's number formatting, symbol lookup, the
# symbolized backtrace and its defences, and GDB in 64-bit kernel code and
# in the boot sector.
#
# Each test boots the real kernel in QEMU (a self-test chosen with the
# kernel command line, see kern/test/selftest.c) and checks what it printed.
# What a test does varies with a seed the grader picks (printed with any
# failure, so that `make qemu KARGS="test=NAME seed=N"` shows the same
# run). Every frame of a backtrace is checked against the kernel binary
# itself: its name and offset against nm, its return address against
# objdump (it must follow a call instruction in that function, calling
# the frame below it), and against GDB's view of the same stack; so only
# a working frame walk and symbol lookup can pass.

import os
import random
import re
import subprocess
import threading

from gradelib import test, Fail, lcg, seed_draws

FRAME = re.compile(r"^  #(\d+) 0x([0-9a-f]{16}) (?:(\S+)\+0x([0-9a-f]+)|(\?))$")
STOP = re.compile(r"^  stopped at frame pointer 0x([0-9a-f]{16}): (.*)$")


## What the tree's kernel is made of (nm, objdump, build/consts) #############

class Binary:
    """Facts about a tree's build/kernel, read once per tree."""

    def __init__(self, tree):
        kernel = os.path.join(tree.path, "build", "kernel")
        # The Makefile's tools (TOOLPREFIX may make them cross tools).
        objdump, syms, consts = tree.tool("OBJDUMP"), tree.symbols(), tree.consts()
        self.symbols = {s.name: s.addr for s in syms}  # name -> address, every symbol nm lists
        # (address, name) of the image's code symbols, by address
        self.code = [(s.addr, s.name) for s in syms
                     if s.type in "tTwW" and s.addr >= consts["KERNBASE"]]
        # Return sites: the address after each call instruction ->
        # (function making the call, called function or None if indirect).
        self.returns = {}
        func = None
        for line in tool(objdump, "-d", "--insn-width=16", kernel).splitlines():
            m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
            if m:
                func = m.group(1)
                continue
            m = re.match(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(\S+)\s*(.*)$", line)
            if m and m.group(3) in ("call", "callq"):
                end = int(m.group(1), 16) + len(m.group(2).split())
                target = re.match(r"^[0-9a-f]+ <([^>+]+)>$", m.group(4))
                self.returns[end] = (func, target.group(1) if target else None)
        # The end of the code: etext, which the linker defines only when
        # the kernel uses it (the stub of ksym_lookup doesn't), is the end
        # of .text.
        text = re.search(r"^\s*\d+ \.text\s+([0-9a-f]+)\s+([0-9a-f]+)\s",
                         tool(objdump, "-h", kernel), re.M)
        self.etext = int(text.group(1), 16) + int(text.group(2), 16)
        self.depth = consts["BACKTRACE_DEPTH"]


_binaries = {}
_binaries_lock = threading.Lock()


def binary(t):
    with _binaries_lock:
        if t.tree.path not in _binaries:
            _binaries[t.tree.path] = Binary(t.tree)
        return _binaries[t.tree.path]


def tool(prog, *args):
    """What a binutils program printed."""
    return subprocess.run([prog, *args], capture_output=True, check=True).stdout.decode()


## Reading and checking backtraces ###########################################

def backtraces(output):
    """Every backtrace in output: a list of (frames, stop), frames a list of
    (depth, address, name, offset), name "?" when the kernel named none;
    stop the (address, reason) of a "stopped at" line, or None."""
    found = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line != "backtrace:":
            continue
        frames, stop = [], None
        for line in lines[i + 1:]:
            m = FRAME.match(line)
            if m and stop is None:
                d, a, name, off, unknown = m.groups()
                frames.append((int(d), int(a, 16), unknown or name, int(off or "0", 16)))
                continue
            m = STOP.match(line)
            if m and stop is None:
                stop = (int(m.group(1), 16), m.group(2))
                continue
            break
        found.append((frames, stop))
    return found


def after(output, marker):
    """The first backtrace after the first line that starts with marker."""
    start = output.find("\n" + marker)
    found = backtraces(output[start:]) if start >= 0 else []
    if not found:
        raise Fail(f"the kernel printed no 'backtrace:' line after '{marker}'")
    return found[0]


def names(frames):
    return ", ".join(f[2] for f in frames) or "(no frames)"


def frame_problems(t, frames, expected, callee):
    """What is wrong with frames, which should be those of the functions
    expected (innermost first), the innermost one having called callee."""
    b = binary(t)
    problems = []
    if [f[2] for f in frames] != expected:
        problems.append(f"the frames should be {', '.join(expected)}\n"
                        f"           they are    {names(frames)}")
    if [f[0] for f in frames] != list(range(len(frames))):
        problems.append("the frames should be numbered #0, #1, ... in order: "
                        + " ".join(f"#{f[0]}" for f in frames))
    for depth, (_, addr, name, offset) in enumerate(frames[:len(expected)]):
        if name != expected[depth]:
            break
        start = b.symbols.get(name)
        site = b.returns.get(addr)
        if start is None or start + offset != addr:
            problems.append(f"frame #{depth}: {addr:#x} is not {name}+{offset:#x} "
                            f"({name} is at {start:#x})" if start else
                            f"frame #{depth}: no function {name} in the kernel")
        elif site is None or site[0] != name:
            problems.append(f"frame #{depth}: {addr:#x} is not a return address in {name} "
                            f"(no call instruction in {name} ends there)")
        elif site[1] is not None and site[1] != callee:
            problems.append(f"frame #{depth}: {addr:#x} returns from a call to {site[1]}, "
                            f"but this frame called {callee}")
        callee = name
    return problems


def backtrace_problems(t, bt, expected, callee, stop):
    """What is wrong with one backtrace (frames, stop), which should show
    the functions expected and then: if stop is None, end (the chain ends
    at 0, with no "stopped" line); if an address, stop at it; if a (lo, hi)
    range, stop at a frame pointer in it."""
    frames, got = bt
    problems = frame_problems(t, frames, expected, callee)
    where = f"; it stopped at {got[0]:#018x}" if got else "; it printed no 'stopped at' line"
    if stop is None and got:
        problems.append(f"the chain is sound, but the backtrace stopped at {got[0]:#x}: {got[1]}")
    elif isinstance(stop, int) and (got is None or got[0] != stop):
        problems.append("after the frames, the backtrace should print "
                        f"'  stopped at frame pointer {stop:#018x}: ...'" + where)
    elif isinstance(stop, tuple) and (got is None or not stop[0] <= got[0] < stop[1]):
        problems.append("after the frames, the backtrace should print '  stopped at frame "
                        f"pointer 0x...: ...' with the next frame pointer, on the stack "
                        f"({stop[0]:#x}..{stop[1]:#x})" + where)
    return problems


def check_backtrace(t, bt, expected, callee, stop, what):
    problems = backtrace_problems(t, bt, expected, callee, stop)
    t.check(not problems, f"{what}:\n  " + "\n  ".join(problems))


## The tests ####################################################################

@test(0, "boot", scored=False)
def boot(t):
    q = t.boot()
    q.expect(r"e820: \[mem 0x")
    q.expect(r"running in 64-bit long mode")


@test(0, "cmdline", scored=False)
def cmdline(t):
    q = t.boot("nosuchoption=1")
    q.expect(r"cmdline: unknown option 'nosuchoption'")
    q.expect(r"running in 64-bit long mode")


def printf_expected(seed):
    x = lcg(seed)
    signed64 = x - (1 << 64) if x >> 63 else x
    low = x & 0xffffffff
    signed32 = low - (1 << 32) if low >> 31 else low
    return [
        "d [42] [-42] [0] [2147483647] [-2147483648]",
        "u [4294967295] [18446744073709551615] [0]",
        "x [ffffffff] [deadbeefcafe] [0] [1234abcd]",
        "ld [-9223372036854775808] [9223372036854775807] [-1]",
        "width [   7] [-007] [0000002a] [  -7] [12345]",
        "s [kestrel] [(null)] [    ok] c [K] pct [%]",
        "p [0xffffffff80100000] [0x0000000000000000]",
        f"seed [{x}] [{x:x}] [{signed64}] [{signed32}] [{low:x}]",
    ]


@test(20, "printf")
def printf(t):
    seed = t.new_seed()
    q = t.boot(f"test=printf seed={seed}")
    q.expect(r"printf: done")
    got = re.findall(r"^printf: (.*?)$", q.output, re.M)
    wrong = []
    for want in printf_expected(seed):
        if want not in got:
            label = want.split(" [")[0]
            line = next((g for g in got if g.split(" [")[0] == label), "(no such line)")
            wrong.append(f"expected: printf: {want}\n    got:      printf: {line}")
    t.check(not wrong, f"printf (seed={seed}) printed {len(wrong)} wrong line(s):\n    "
            + "\n    ".join(wrong))


def ksym_addresses(t, seed):
    """(address, expected answer) for the ksym_lookup test: an answer is a
    set of (name, offset) that are right, or None for NULL."""
    rng = random.Random(seed)
    b = binary(t)
    funcs = sorted((s.addr, s.size, s.name) for s in t.tree.symbols()
                   if s.type in "tTwW" and s.size > 0 and s.addr >> 63)
    starts = {}
    for a, _, n in funcs:
        starts.setdefault(a, set()).add(n)
    picks = rng.sample(funcs, 6)
    addrs = [picks[0][0], picks[1][0] + picks[1][1] - 1]        # a start, a last byte
    addrs += [a + rng.randrange(s) for a, s, _ in picks[2:]]    # anywhere inside
    answers = [{(n, addr - a) for a, s, _ in funcs if a <= addr < a + s for n in starts[a]}
               for addr in addrs]
    first, etext = b.code[0][0], b.etext
    nulls = [first - rng.randrange(1, 0x1000), etext, etext + rng.randrange(1, 0x1000),
             rng.randrange(1 << 47)]
    cases = list(zip(addrs, answers)) + [(a, None) for a in nulls]
    rng.shuffle(cases)
    return cases


@test(15, "ksym_lookup")
def ksym_lookup(t):
    seed = t.new_seed()
    cases = ksym_addresses(t, seed)
    q = t.boot("test=ksym_lookup addrs=" + ":".join(f"{a:x}" for a, _ in cases))
    q.expect(r"ksym_lookup: done")
    # One line per address, in the order given: "ksym_lookup: ADDR -> ANSWER".
    got = re.findall(r"^ksym_lookup: (\S+) -> (.*)$", q.output, re.M)
    wrong = []
    for i, (addr, answer) in enumerate(cases):
        shown, line = got[i] if i < len(got) else ("", "(not printed)")
        m = re.match(r"^(\S+)\+0x([0-9a-f]+)$", line)
        if answer is None:
            ok, want = line == "NULL", "NULL (not in the kernel's code)"
        else:
            ok = m is not None and (m.group(1), int(m.group(2), 16)) in answer
            want = " or ".join(sorted(f"{n}+{o:#x}" for n, o in answer))
        if shown != f"{addr:#018x}":
            line += f" (the address printed as {shown or 'nothing'}: does printf's %p work?)"
        if not ok:
            wrong.append(f"ksym_lookup({addr:#018x}) should be {want}; it is {line}")
    t.check(not wrong, f"ksym_lookup (seed={seed}) returned {len(wrong)} wrong answer(s) "
            f"of {len(cases)}:\n    " + "\n    ".join(wrong))


def backtrace_chain(seed):
    """The functions kern/test/selftest.c's bt_test calls for seed, outermost first."""
    draws = seed_draws(seed)
    levels = 2 + next(draws) % 7
    return [f"bt_{'abcdef'[next(draws) % 6]}" for _ in range(levels)]


def backtrace_expected(seed):
    """The frames of the backtrace test's panic, innermost first."""
    return backtrace_chain(seed)[::-1] + ["bt_test", "selftest_run", "main", "entry64_high"]


@test(20, "backtrace")
def backtrace(t):
    seed = t.new_seed()
    q = t.boot(f"test=backtrace seed={seed}")
    q.expect(r"panic: selftest: backtrace from")
    q.expect(r"^panic: halted")
    chain = " -> ".join(["main", "selftest_run", "bt_test"] + backtrace_chain(seed) + ["panic"])
    t.check(f"\nbt_test: {chain}\n" in q.output,
            f"the kernel's bt_test should run the chain {chain} for seed={seed} "
            "(has kern/test/selftest.c changed?)")
    check_backtrace(t, after(q.output, "panic: selftest: backtrace"),
                    backtrace_expected(seed), "panic", None,
                    f"the backtrace of test=backtrace seed={seed}")


def gdb_frames(out):
    """(name, pc) of each frame of GDB's bt, innermost first. Frame #0 has
    no pc in bt's text (None); an inlined function's caller shares its pc."""
    frames = []
    for n, pc, name in re.findall(r"^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) \(", out, re.M):
        if pc or n == "0" or not frames:
            frames.append((name, int(pc, 16) if pc else None))
        else:
            frames[-1] = (name, frames[-1][1])      # the caller an inline frame is part of
    return frames


@test(15, "gdb_backtrace")
def gdb_backtrace(t):
    seed = t.new_seed()
    q = t.boot(f"test=backtrace seed={seed}", gdb=True)
    # A hardware breakpoint: at reset, paging is off and panic's address is
    # not mapped yet (see the lab text on break and hbreak).
    out = t.gdb(["hbreak panic", "continue", "info registers rip", "bt", "detach"])
    t.check(re.search(r"[Bb]reakpoint 1, (0x[0-9a-f]+ in )?panic ", out) is not None,
            "GDB should stop at the breakpoint in panic", got=out)
    t.check(re.search(r"rip\s+0xffffffff8[0-9a-f]{7}\s", out) is not None,
            "GDB should stop in 64-bit kernel code (rip at a KERNBASE address)", got=out)
    gdb = gdb_frames(out)[1:]           # GDB's frames above panic's
    expected = backtrace_expected(seed)
    t.check([n for n, _ in gdb] == expected[:len(gdb)] and len(gdb) >= len(expected) - 1,
            f"GDB's bt (seed={seed}) should show panic's callers "
            f"{', '.join(expected[:-1])}", got=out)
    q.expect(r"panic: selftest: backtrace from")
    q.expect(r"^panic: halted")
    frames, _ = after(q.output, "panic: selftest: backtrace")
    mine = [(f[2], f[1]) for f in frames[:len(gdb)]]
    t.check(mine == gdb,
            f"the kernel's backtrace should agree with GDB's bt, name and return address "
            f"of every frame (seed={seed})",
            expected=", ".join(f"{n} {a:#x}" for n, a in gdb),
            got=", ".join(f"{n} {a:#x}" for n, a in mine) or "(no frames)")


def announced(t, output, test_name):
    """(value, what) of each 'TEST: saved rbp <- VALUE (WHAT)' line."""
    found = re.findall(rf"^{test_name}: saved rbp <- (\S*) \((.*)\)$", output, re.M)
    for value, _ in found:
        t.check(re.fullmatch(r"0x[0-9a-f]{16}", value),
                f"{test_name} printed a saved rbp as '{value}': %p in printf does not work yet")
    return [(int(v, 16), what) for v, what in found]


def check_cases(t, output, test_name, cases, what):
    """Each announced case is followed by one backtrace: check them all.
    cases: (expected frames, callee of the innermost) for each case."""
    found = announced(t, output, test_name)
    t.check(len(found) == len(cases),
            f"{test_name} should announce {len(cases)} cases ('{test_name}: saved rbp <- ...')",
            got=len(found))
    parts = re.split(rf"^{test_name}: saved rbp <- .*$", output, flags=re.M)[1:]
    problems = []
    for (value, kind), part, (expected, callee) in zip(found, parts, cases):
        bts = backtraces(part)
        wrong = backtrace_problems(t, bts[0], expected, callee, value) if bts else \
            ["no 'backtrace:' line"]
        problems += [f"saved rbp {value:#018x} ({kind}): {w}" for w in wrong]
    t.check(not problems, f"{what}:\n  " + "\n  ".join(problems))


@test(10, "bt_corrupt")
def bt_corrupt(t):
    seed = t.new_seed()
    q = t.boot(f"test=bt_corrupt seed={seed}")
    q.expect(r"panic: selftest: bt_corrupt")
    q.expect(r"^panic: halted")
    direct = (["bt_corrupt_test"], "bt_corrupt_frame")
    cases = [direct] * 4 + [(["bt_corrupt_frame", "bt_corrupt_test"], "panic")]
    check_cases(t, q.output, "bt_corrupt", cases,
                f"a backtrace must stop at a saved rbp that is garbage (seed={seed})")


@test(10, "bt_cycle")
def bt_cycle(t):
    q = t.boot("test=bt_cycle")
    q.expect(r"panic: selftest: bt_cycle")
    q.expect(r"^panic: halted")
    cases = [(["bt_cycle_test"], "bt_cycle_self"),
             (["bt_cycle_outer", "bt_cycle_test"], "bt_cycle_inner"),
             (["bt_cycle_inner", "bt_cycle_outer", "bt_cycle_test"], "panic")]
    check_cases(t, q.output, "bt_cycle", cases,
                "a backtrace must stop where a chain of frames loops back down the stack")


@test(10, "bt_deep")
def bt_deep(t):
    seed = t.new_seed()
    b = binary(t)
    calls = b.depth + next(seed_draws(seed)) % 16 + 1
    q = t.boot(f"test=bt_deep seed={seed}")
    q.expect(r"panic: selftest: bt_deep")
    q.expect(r"^panic: halted")
    want = f"bt_deep: {calls} calls deep, BACKTRACE_DEPTH is {b.depth}"
    t.check(f"\n{want}\n" in q.output, f"the self-test should print '{want}' "
            "(if its numbers are '?', printf does not work yet)")
    check_backtrace(t, after(q.output, "panic: selftest: bt_deep"), ["bt_deep"] * b.depth,
                    "panic", (b.symbols["boot_stack"], b.symbols["boot_stack_top"]),
                    f"with {calls} calls on the stack (seed={seed}), the backtrace should show "
                    f"BACKTRACE_DEPTH ({b.depth}) frames and say that it stopped")


@test(0, "gdb_bootsector", scored=False)
def gdb_bootsector(t):
    t.boot(gdb=True)
    out = t.gdb(["hbreak *0x7c00", "continue", "x16 3", "cpumode"])
    t.check(re.search(r"0000:7c00\s.*\bcli\b", out) is not None,
            "GDB should stop at the boot sector and x16 should show its first instruction, cli",
            got=out)
    t.check(re.search(r"real mode", out, re.I) is not None,
            "cpumode should report real mode at 0x7c00", got=out)
