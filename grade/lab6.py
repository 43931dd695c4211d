# Lab 6 tests: preemption, with every FPU, SSE and AVX register kept across
# it; sleep and wakeup; file descriptors and pipes.
#
# The tests boot the kernel with a user program of user/ as the first
# process, on a seeded or fixed number of CPUs, and check what the grader
# works out itself from the seed:
#   - user/fpuloop: more children than CPUs, each in a loop of inline
#     assembly that keeps live values in ymm0..ymm13 (256-bit AVX adds and
#     an exact modular LCG in doubles; legacy SSE in xmm12..13, whose
#     upper halves must stay as they were) and in all eight x87 registers,
#     on 2 and then 4 CPUs, preempted about two thousand times in all:
#     every lane's final bits, from closed forms of the pass count each
#     child reached (a switch that drops any register, or AVX's upper
#     halves, shows); and CPUID's OSXSAVE (0 if the kernel never turned
#     XSAVE on), XCR0 and the save area's size against the boot line;
#   - user/spinners: processes that never enter the kernel each start
#     within a few ticks of their fork and run in many slices;
#   - user/sleeptest: sleep(n) wakes n ticks later (or a little more);
#     GDB, stopped while a process is inside sleep(LONG), finds its slot
#     SLEEPING on &ticks; kill() ends that sleep at once, status -1.

import re
import struct

from gradelib import test, Timeout, seed_draws, excerpt, expect_alive, MASK64

INIT_EXIT = re.compile(r"^init: exited with status (-?\d+)$", re.M)


def run_prog(t, prog, *args, **boot):
    """Boot with prog (and args) as the first process and wait for it to
    exit (a panic fails at once). (q, the exit status)."""
    q = t.boot("init=" + ":".join([prog] + [str(a) for a in args]), **boot)
    m = expect_alive(q, INIT_EXIT.pattern)
    return q, int(m[1])


def prog_failed(t, out, prog):
    """Fail with the program's own FAILED lines, if it printed any."""
    bad = re.findall(rf"^{prog}: .*FAILED.*$", out, re.M)
    t.check(not bad, f"{prog} found something wrong", got="\n".join(bad))


## FPU and preemption ############################################################

FPU_P = 67108859                # user/fpuloop.c's P: 2^26 - 5, a prime
FPU_MS = 3500                   # each boot's loop lasts FPU_MS .. FPU_MS + 999 ms
FPU_CPUS = (2, 4)               # fpu_preempt boots each


def fpu_bits(v):
    """The bits of v (an integer below 2^53) as a double."""
    return struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def fpu_affine(x, a, b, n, p):
    """x after n steps of x = (a*x + b) mod p, in log(n) compositions."""
    mul, add = a % p, b % p
    while n:
        if n & 1:
            x = (mul * x + add) % p
        mul, add = mul * mul % p, (mul * add + add) % p
        n >>= 1
    return x


def fpu_expected(seed, i, n):
    """What fpuloop's child i prints after n passes: {"ymm0": [4 lanes'
    bits], ..., "ymm13": [...], "x87": [st(0), st(1) .. st(7)]}, drawing
    in fpuloop.c's order."""
    d = seed_draws(seed + 1 + i)
    out = {}
    for k in range(8):
        lanes = []
        for _ in range(4):
            s, delta = next(d) % (1 << 30), next(d) % (1 << 21) - (1 << 20)
            lanes.append(fpu_bits(s + n * delta))
        out[f"ymm{k}"] = lanes
    for k in range(8, 12):
        lanes = []
        for _ in range(4):
            x0, a, b = next(d) % FPU_P, 2 + next(d) % (FPU_P - 3), next(d) % FPU_P
            lanes.append(fpu_bits(fpu_affine(x0, a, b, n, FPU_P)))
        out[f"ymm{k}"] = lanes
    for k in (12, 13):
        lanes = []
        for _ in range(2):
            x0, a, b = next(d) % FPU_P, 2 + next(d) % (FPU_P - 3), next(d) % FPU_P
            lanes.append(fpu_bits(fpu_affine(x0, a, b, n, FPU_P)))
        for _ in range(2):
            hi = next(d)
            lanes.append((hi << 32) ^ next(d))
        out[f"ymm{k}"] = lanes
    starts = [next(d) % (1 << 31) - (1 << 30) for _ in range(7)]
    d0 = next(d) % (1 << 20)
    total = n * d0 + n * (n - 1) // 2
    out["x87"] = [(d0 + n) & MASK64] + [(s + total) & MASK64 for s in reversed(starts)]
    return out


def fpu_lane_name(reg, lane):
    """A lane's name for a report: which part of the state it tests."""
    if reg == "x87":
        return f"st({lane})"
    k = int(reg[3:])
    part = "upper half, AVX state" if lane >= 2 else ("SSE" if k >= 12 else "lower half")
    return f"{reg} lane {lane} ({part})"


def fpu_boot(t, cpus):
    """One fpuloop run on cpus CPUs: every child's every value, its pass
    count, gaps and ticks; the kernel's fpu: line. (gaps of all children)"""
    hz = t.tree.consts()["HZ"]
    seed = t.new_seed()
    ms = FPU_MS + seed % 1000
    kids = cpus + 1 + next(seed_draws(seed)) % 3
    q, status = run_prog(t, "fpuloop", seed, ms, cpus=cpus)
    out = q.output
    prog_failed(t, out, "fpuloop")
    # The boot line, held to what CPUID tells the program in user mode.
    m = re.search(r"^fpuloop: xcr0 (0x[0-9a-f]+), xsave area (\d+) bytes, "
                  r"x87\|sse\|avx area (\d+) bytes$", out, re.M)
    t.check(m is not None, "fpuloop should print XCR0 and the save area's size",
            got=excerpt(out, 1500))
    xcr0, size, full = int(m[1], 16), int(m[2]), int(m[3])
    t.check(xcr0 == 0x7 and size == full, "XCR0 should be x87|SSE|AVX (0x7), and the save "
            "area the size CPUID gives for those", expected=f"xcr0 0x7, {full} bytes",
            got=m[0])
    want = f"fpu: xsave, xcr0 {xcr0:#x}, {size} bytes"
    t.check(re.search("^" + re.escape(want) + "$", out, re.M) is not None,
            "the kernel's boot line should say what it chose", expected=want,
            got="\n".join(re.findall(r"^fpu: .*$", out, re.M)) or "(no 'fpu:' line)")
    t.check(f"fpuloop: {cpus} cpus, {kids} children, {ms} ms" in out,
            f"{cpus} CPUs, and the seeded number of children", expected=f"{kids} children",
            got=excerpt(out, 1200))
    runs = {int(i): (int(n), int(g), int(tk)) for i, n, g, tk in re.findall(
        r"^fpuloop: child (\d+) passes (\d+) gaps (\d+) ticks (-?\d+)$", out, re.M)}
    t.check(sorted(runs) == list(range(kids)), "every child should report",
            got=excerpt(out, 1500))
    wrong = []
    for i, (n, _, _) in sorted(runs.items()):
        t.check(n > 0, f"child {i} should have made passes", got=n)
        got = {r: [int(v, 16) for v in vals.split()] for r, vals in re.findall(
            rf"^fpuloop: child {i} (ymm\d+|x87) ((?:0x[0-9a-f]+ ?)+)$", out, re.M)}
        for reg, lanes in fpu_expected(seed, i, n).items():
            have = got.get(reg)
            if have is None or len(have) != len(lanes):
                wrong.append(f"child {i}: no {reg} line")
                continue
            wrong += [f"child {i} {fpu_lane_name(reg, l)}: {h:#x}, expected {w:#x}"
                      for l, (h, w) in enumerate(zip(have, lanes)) if h != w]
    t.check(not wrong, f"CPUS={cpus}: after preemption, every register should hold what "
            "the child's own loop put there", got="\n".join(wrong[:12]) +
            (f"\n... and {len(wrong) - 12} more" if len(wrong) > 12 else ""))
    t.check(status == 0 and "fpuloop: done" in out, "fpuloop exits 0", got=excerpt(out, 600))
    # Each child spun until the deadline, and shared the CPUs all along.
    short = [f"child {i}: {tk} ticks, {g} gaps" for i, (_, g, tk) in runs.items()
             if tk < ms * hz // 4000 or g < 10]
    t.check(not short, f"each child should loop until {ms} ms after the first fork (a "
            "quarter of that at least, in ticks), taken off its CPU 10 times or more",
            got="\n".join(short))
    return sum(g for _, g, _ in runs.values())


@test(20, "fpu_preempt")
def fpu_preempt(t):
    """CPUS=2, then 4: more children than CPUs spin in x87, SSE and AVX
    loops, preempted about two thousand times in all; every lane of every
    register ends exact (AVX's upper halves too), and XSAVE is on with
    XCR0 = x87|SSE|AVX."""
    hz = t.tree.consts()["HZ"]
    gaps = [fpu_boot(t, n) for n in FPU_CPUS]
    # Each CPU switches children at (nearly) every tick: a kernel that
    # preempts rarely lets the registers be saved rarely.
    least = sum(n * hz * FPU_MS // 1000 for n in FPU_CPUS) // 4
    t.check(sum(gaps) >= least, "the children should have been preempted many times",
            expected=f">= {least} times in all", got=f"{gaps} (CPUS={FPU_CPUS})")


@test(0, "spin_progress", scored=False)
def spin_progress(t):
    """3..8 processes that never enter the kernel on 1 or 2 CPUs: each starts
    within a few ticks of its fork and runs in several slices (the timer
    preempts)."""
    seed = t.new_seed()
    d = seed_draws(seed)
    kids, window = 3 + next(d) % 6, 40 + next(d) % 20
    cpus = 1 + seed % 2
    q, status = run_prog(t, "spinners", seed, cpus=cpus)
    out = q.output
    prog_failed(t, out, "spinners")
    t.check(f"spinners: {kids} children, {cpus} cpus, window {window} ticks" in out,
            "the seeded children and window", got=excerpt(out, 800))
    rows = {int(i): (int(l), int(s), int(p)) for i, l, s, p in re.findall(
        r"^spinners: child (\d+) latency (\d+) ticks/100, slices (\d+), passes (\d+)$", out, re.M)}
    t.check(sorted(rows) == list(range(kids)) and status == 0, "every child reports, and "
            "spinners exits 0", got=excerpt(out, 1200))
    # With a tick's quantum each child starts within about kids / cpus
    # ticks; without preemption the later ones wait for whole windows.
    late = [f"child {i}: first ran {l / 100:.2f} ticks after its fork, in {s} slice(s), "
            f"{p} passes" for i, (l, s, p) in sorted(rows.items())
            if l > window * 75 or s < 2]
    t.check(not late, f"each child should start within {window * 3 // 4} ticks of its fork "
            f"and run in 2 or more slices of its {window}-tick window", got="\n".join(late))


## sleep(n) ##########################################################################

def sleep_draws(seed):
    """sleeptest's draws: three lengths, the child's long sleep, the pause."""
    d = seed_draws(seed)
    ns = [3 + next(d) % 38 for _ in range(3)]
    return ns, 1000 + next(d) % 1000, 20 + next(d) % 10


@test(10, "sleep_ticks")
def sleep_ticks(t):
    """sleep(n) for seeded n wakes n ticks later (not much more); a process
    inside sleep is SLEEPING on &ticks (GDB reads procs[]); kill() ends the
    sleep at once, and wait gives status -1."""
    seed = t.new_seed()
    ns, longsleep, pause = sleep_draws(seed)
    q = t.boot(f"init=sleeptest:{seed}", gdb=True, cpus=2)
    # Stop in sleep_ticks(longsleep), on the child's own CPU: its struct
    # proc is that CPU's. Then let a few ticks pass (wakeup(&ticks) runs
    # at each), and look at its slot.
    try:
        out = t.gdb([f"hbreak sleep_ticks if n == {longsleep}", "continue",
                     "set $sl = ((struct cpu *)$gs_base)->proc",
                     "delete", "hbreak wakeup", "ignore 2 3", "continue",
                     "p $sl->pid", "p $sl->state", "p/x (unsigned long)$sl->chan",
                     "p/x (unsigned long)&ticks", "p $sl - procs", "detach"],
                    timeout=t.timeout)
    except Timeout as e:
        # The program's lines say how far it got.
        done = re.findall(r"^sleeptest: sleep\((\d+)\) = ", q.output, re.M)
        if len(done) < len(ns):
            raise Timeout(f"sleep({ns[len(done)]}) never returned (does wakeup_locked wake "
                          f"the processes asleep on &ticks?)\n{e}")
        raise
    vals = dict(re.findall(r"^\$(\d+) = (.*)$", out, re.M))
    t.check(re.search(r"Breakpoint 1, sleep_ticks \(", out) is not None and len(vals) == 5,
            f"GDB should stop in sleep_ticks (n = {longsleep}), then a few ticks later",
            got=excerpt(out, 1500))
    m = expect_alive(q, INIT_EXIT.pattern)
    qout = q.output
    prog_failed(t, qout, "sleeptest")
    head = f"sleeptest: sleeps {ns[0]} {ns[1]} {ns[2]}, child {longsleep}, pause {pause}"
    t.check(head in qout, "the seeded lengths", expected=head, got=excerpt(qout, 800))
    child = re.search(rf"^sleeptest: child (\d+) calls sleep\({longsleep}\)$", qout, re.M)
    t.check(child is not None, "the child should say it sleeps", got=excerpt(qout, 1000))
    pid = int(child[1])
    t.check(vals["1"] == str(pid), f"GDB should find the sleeper, pid {pid}, in sleep_ticks",
            got=excerpt(out, 800))
    ticks = [s for s in t.tree.symbols() if s.name == "ticks"]
    t.check(vals["2"] == "SLEEPING" and int(vals["3"], 16) == int(vals["4"], 16) and
            ticks and int(vals["4"], 16) == ticks[0].addr,
            f"pid {pid}, inside sleep({longsleep}) for a few ticks, should be SLEEPING on "
            f"&ticks (procs[{vals['5']}])", expected=f"state SLEEPING, chan "
            f"{ticks[0].addr if ticks else 0:#x} (&ticks)",
            got=f"state {vals['2']}, chan {vals['3']}")
    # The lengths, as the program slept them.
    got = [(int(n), int(r), int(a), int(b)) for n, r, a, b in re.findall(
        r"^sleeptest: sleep\((\d+)\) = (-?\d+), uptime (\d+) -> (\d+)$", qout, re.M)]
    t.check([g[0] for g in got] == ns, "the seeded lengths", expected=ns,
            got=[g[0] for g in got])
    for n, r, a, b in got:
        t.check(r == 0 and n <= b - a <= n + max(5, n // 2), f"sleep({n}) should return 0 "
                f"after {n} ticks (up to {n + max(5, n // 2)})", got=f"= {r}, after {b - a}")
    k = re.search(r"^sleeptest: kill\((\d+)\) = (-?\d+), wait = (-?\d+) status (-?\d+), "
                  r"(-?\d+) ticks after the kill$", qout, re.M)
    t.check(k is not None and (int(k[1]), int(k[2]), int(k[3]), int(k[4])) == (pid, 0, pid, -1),
            f"kill of the sleeper returns 0, and wait returns {pid} with status -1",
            got=k[0] if k else excerpt(qout, 800))
    t.check(int(k[5]) <= 3, "a killed sleeper should exit at once, not at the end of its "
            "sleep", expected="<= 3 ticks", got=k[5])
    t.check(m[1] == "0", "sleeptest exits 0", got=m[0])
