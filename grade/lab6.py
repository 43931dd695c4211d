# Lab 6 tests: preemption, with every FPU, SSE and AVX register kept across
# it; sleep and wakeup; file descriptors and pipes.
#
# Each test boots the kernel with a user program of user/ as the first
# process (init=NAME:ARG...), on a seeded or fixed number of CPUs, waits
# for it to end ("init: exited with status N") and checks what the grader
# works out itself from the seed (gradelib.seed_draws: the kernel's LCG),
# values and addresses, not only words:
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
#     SLEEPING on &ticks; kill() ends that sleep at once, status -1;
#   - the bytes that went through a seeded chain of pipes and processes,
#     by their count and hash; thousands of bytes bounced within pairs of
#     processes, each one right (a lost wakeup hangs a pair: the timeout);
#   - end of file only once the last write end is gone, -1 for a write
#     with no reader, a writer that waits for room on a full pipe;
#   - dup's lowest free descriptor, bad descriptors and bad pointers
#     (seeded kernel and unmapped addresses) refused, descriptors inherited
#     by fork and kept by exec, the per-process limit, and no leak;
#   - kill of processes asleep in read, write and wait: status -1, promptly;
#   - with GDB, the sleeping processes' state and chan in procs[]: the
#     pipe's counters' addresses, the waiting parent's own struct proc;
#   - a seeded storm of fork, exit, wait, pipe, read, write, close and kill
#     on four CPUs: every status right, every process reaped, every page back.

import os
import re
import struct

from gradelib import (test, Fail, Timeout, seed_draws, excerpt, expect_alive, MASK64, EXIT,
                     run_init as run)

FD_MANY = 4                     # the CPUs of the tests that want processes side by side


def lines(out, prog):
    """The lines prog printed, without its name, as one string."""
    return "\n".join(l[len(prog) + 2:] for l in out.splitlines() if l.startswith(prog + ": "))


def clean(t, out, prog):
    """No FAILED line from prog, and no process killed by a fault."""
    bad = [l for l in lines(out, prog).splitlines() if "FAILED" in l]
    bad += re.findall(r"^pid \d+ \(\S+\): killed by .*$", out, re.M)
    t.check(not bad, f"{prog} found something wrong", got="\n".join(bad[:10]))


def fd_find(t, out, pattern, what):
    """The match of pattern (a line of out); fail with what if none."""
    m = re.search(pattern, out, re.M)
    t.check(m is not None, what, expected=pattern.strip("^$"), got=excerpt(out, 1500))
    return m


def fd_fnv(data):
    """FNV-1a, 32 bits: the hash the programs print."""
    h = 0x811c9dc5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return h


def fd_word(d):
    """user/fdtest.c's word(): 3..8 seeded lowercase letters."""
    n = 3 + next(d) % 6
    return "".join(chr(ord("a") + next(d) % 26) for _ in range(n))


def fd_user_symbol(t, prog, name):
    """The address of symbol name in build/user/prog."""
    for s in t.tree.symbols(f"build/user/{prog}"):
        if s.name == name:
            return s.addr
    raise Fail(f"build/user/{prog} has no symbol {name}")


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
    out, status = run(t, "fpuloop", seed, ms, cpus=cpus)
    clean(t, out, "fpuloop")
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
    out, status = run(t, "spinners", seed, cpus=cpus)
    clean(t, out, "spinners")
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
    m = expect_alive(q, EXIT.pattern)
    qout = q.output
    clean(t, qout, "sleeptest")
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


## Pipes and file descriptors ######################################################

@test(15, "pipe_chain")
def pipe_chain(t):
    """Seeded bytes through a chain of 2..6 processes joined by pipes, on 4
    CPUs, each stage reading in seeded sizes: all of them, in order."""
    seed = t.new_seed()
    d = seed_draws(seed)
    k, length = 2 + next(d) % 5, 3073 + 2 * (next(d) % 3000)
    data = bytes(next(d) & 0xff for _ in range(length))
    out, status = run(t, "pipechain", seed, cpus=FD_MANY)
    clean(t, out, "pipechain")
    L = lines(out, "pipechain")
    fd_find(t, L, rf"^seed {seed} stages {k} len {length}$", f"{k} stages, {length} bytes")
    copied = dict(re.findall(r"^stage (\d+) copied (\d+) bytes", L, re.M))
    t.check(sorted(copied) == [str(i) for i in range(k - 1)] and
            all(int(n) == length for n in copied.values()),
            f"each of the first {k - 1} stages should copy all {length} bytes",
            got=re.findall(r"^stage \d+ copied.*$", L, re.M))
    m = fd_find(t, L, r"^last stage got (\d+) bytes in \d+ reads, fnv 0x([0-9a-f]+), "
                      r"first wrong byte (-?\d+)$", "the last stage's count and hash")
    want = fd_fnv(data)
    t.check((int(m[1]), int(m[2], 16), int(m[3])) == (length, want, -1),
            "the last stage should get every byte, in order", expected=f"{length} bytes, fnv "
            f"{want:#x}, first wrong byte -1", got=m[0])
    ended = re.findall(r"^stage (-?\d+) pid \d+ status (-?\d+)$", L, re.M)
    t.check(sorted(ended) == [(str(i), "0") for i in range(k)],
            "the parent should reap every stage, each with status 0", got=ended)
    t.check(status == 0, "pipechain exits with status 0", got=status)


@test(10, "pingpong")
def pingpong(t):
    """Three pairs of processes, each bouncing seeded bytes (each one
    incremented) through two pipes thousands of times, on 2 CPUs: every
    byte right, and no wakeup lost (a lost one leaves a pair asleep: the
    timeout)."""
    seed = t.new_seed()
    n = 5000 + next(seed_draws(seed)) % 5000
    out, status = run(t, "pingpong", seed, cpus=2, timeout=t.timeout / 2,
                         hang="a pair asleep, each waiting for the other: a lost wakeup?")
    clean(t, out, "pingpong")
    L = lines(out, "pingpong")
    m = fd_find(t, L, rf"^seed {seed} pairs (\d+) rounds {n}$", f"{n} rounds")
    for j in range(int(m[1])):
        d = seed_draws(seed + j + 1)
        sent = bytes(next(d) & 0xff for _ in range(n))
        back = bytes((b + 1) & 0xff for b in sent)
        for side, what, data in (("child", "bytes", sent), ("parent", "replies", back)):
            got = fd_find(t, L, rf"^pair {j} {side} got (\d+) {what}, fnv 0x([0-9a-f]+), "
                                r"wrong (\d+)$", f"pair {j}'s {side}'s count and hash")
            t.check((int(got[1]), int(got[2], 16), got[3]) == (n, fd_fnv(data), "0"),
                    f"pair {j}'s {side} should get every byte "
                    + ("the parent sent" if side == "child" else "back, incremented"),
                    expected=f"{n} {what}, fnv {fd_fnv(data):#x}, wrong 0", got=got[0])
        fd_find(t, L, rf"^pair {j} child status 0$", f"pair {j}'s child exits 0")
        fd_find(t, L, rf"^pair {j} status 0$", f"pair {j}'s parent exits 0")
    t.check(status == 0, "pingpong exits with status 0", got=status)


@test(10, "pipe_eof")
def pipe_eof(t):
    """End of file only once every write end is closed (fork's copies too) and
    for ever after; a write with no reader returns -1 (also to a writer asleep
    on a full pipe); a write bigger than the pipe waits for the reader."""
    seed = t.new_seed()
    d = seed_draws(seed)
    nw = 2 + next(d) % 3
    lens = [1 + next(d) % 300 for _ in range(nw)]
    take = 1 + next(d) % 100
    out, status = run(t, "pipeeof", seed)
    clean(t, out, "pipeeof")
    L = lines(out, "pipeeof")
    m = fd_find(t, L, rf"^seed {seed} writers {nw} PIPESIZE (\d+)$", f"{nw} writers")
    pipesize = int(m[1])
    size = pipesize + 1 + next(d) % (2 * pipesize)
    data = bytes(next(d) & 0xff for _ in range(size))

    # 1. eof
    last = fd_find(t, L, r"^eof: last writer lets go at tick (\d+)$", "the last writer's line")
    eof = fd_find(t, L, r"^eof: end of file at tick (\d+) after (\d+) bytes:((?: \d+)*)$",
                  "the reader's end of file")
    t.check([int(c) for c in eof[3].split()] == lens and int(eof[2]) == sum(lens),
            "the reader should get every writer's bytes before end of file "
            "(an empty pipe with writers is not the end)", expected=f"{sum(lens)} bytes: {lens}",
            got=eof[0])
    t.check(int(eof[1]) >= int(last[1]), "end of file must wait for the last write end to "
            "close (the last writer holds its copy for a while)",
            got=f"{last[0]}\n{eof[0]}")
    fd_find(t, L, r"^eof: reads after end of file: 0 0 0$", "reads after end of file return 0")
    wrote = sorted(re.findall(r"^eof: writer (\d+) wrote (-?\d+) bytes$", L, re.M))
    t.check(wrote == sorted((str(j + 1), str(n)) for j, n in enumerate(lens)),
            "each writer's write should return its seeded length", expected=lens, got=wrote)
    ws = re.findall(r"^eof: writer (\d+) status (-?\d+)$", L, re.M)
    t.check(sorted(ws) == [(str(j), "0") for j in range(1, nw + 1)],
            "every writer reaped, status 0", got=ws)
    # 2. noreader
    fd_find(t, L, r"^noreader: write = -1$", "a write with no reader returns -1")
    fd_find(t, L, rf"^noreader: reader took {take} bytes, then write of {3 * pipesize} bytes "
                  r"= -1$", "a writer waiting on a full pipe gets -1 when the reader exits")
    # 3. full
    start = fd_find(t, L, r"^full: reader starts at tick (\d+)$", "the reader's start")
    w = fd_find(t, L, r"^full: write of (\d+) bytes returned (-?\d+) at tick (\d+)$",
                "the writer's line")
    t.check(int(w[1]) == size and int(w[2]) == size,
            f"a write of {size} bytes (more than PIPESIZE) should return {size}",
            got=w[0])
    t.check(int(w[3]) >= int(start[1]), "the write must wait for the reader (the pipe holds "
            "only PIPESIZE bytes)", got=f"{start[0]}\n{w[0]}")
    fd_find(t, L, rf"^full: read {size} bytes, first wrong byte -1$",
            f"the reader gets all {size} bytes, in order")
    t.check(status == 0 and "\ndone" in "\n" + L, "pipeeof exits with status 0", got=status)


@test(10, "fds")
def fds(t):
    """dup gives the lowest free fd and shares the file; bad fds and seeded bad
    pointers get -1; fork inherits fds and exec keeps them (echo into a pipe);
    more than NOFILE opens fail, and nothing leaks."""
    L0 = t.tree.consts()
    seed = t.new_seed()
    r = seed_draws(t.new_seed())
    pgsize, mib = L0["PGSIZE"], 1 << 20
    addrs = [L0["KERNBASE"] + mib + next(r) % mib, L0["DIRECTMAP_BASE"] + mib + next(r) % mib,
             0x10000000 + (next(r) % 4096) * pgsize, next(r) % pgsize,
             L0["USERTOP"] + (next(r) % 65536) * pgsize, L0["USERTOP"] - (1 + next(r) % 7)]
    out, status = run(t, "fdtest", seed, *(f"{a:#x}" for a in addrs))
    clean(t, out, "fdtest")
    L = lines(out, "fdtest")
    m = fd_find(t, L, rf"^seed {seed} NOFILE (\d+)$", "fdtest's first line")
    nofile = int(m[1])
    d = seed_draws(seed)

    closed = [fd for fd in range(3, 13) if next(d) % 2]
    if not closed:
        closed = [3 + next(d) % 10]
    fd_find(t, L, r"^dup: closed " + " ".join(map(str, closed)) + "$", "the seeded fds closed")
    dups = [int(x) for x in re.findall(r"^dup: dup\(0\) = (-?\d+)$", L, re.M)]
    t.check(dups == closed + [13], "dup should return the lowest free fd each time",
            expected=closed + [13], got=dups)

    words = "".join(fd_word(d) for _ in range(3))
    fd_find(t, L, rf"^share: dup\(4\) = 5, read '{words}', then 0$",
            "bytes written through an fd and its dup arrive in order, then end of file")

    calls = re.findall(r"^badfd: (.+)\((-?\d+)\) = (-?\d+)$", L, re.M)
    wrong = [f"{c}({fd}) = {v}" for c, fd, v in calls if v != "-1"]
    t.check(len(calls) == 18 and not wrong, "close, read, write and dup of bad fds return -1",
            got="\n".join(wrong) or excerpt(L, 1000))
    t.check({"-1", str(nofile), "1000"} <= {fd for _, fd, _ in calls},
            "the bad fds: -1, NOFILE, 1000 and a closed one", got=calls)

    digits = "".join(chr(ord("0") + next(d) % 10) for _ in range(10))
    main = fd_user_symbol(t, "fdtest", "main")
    ptrs = re.findall(r"^badptr: (read|write)\(\d+, (0x[0-9a-f]+), 8\) = (-?\d+)$", L, re.M)
    want = sorted([("read", a) for a in addrs + [main]] + [("write", a) for a in addrs])
    t.check(sorted((c, int(a, 16)) for c, a, _ in ptrs) == want,
            "read and write get each seeded bad pointer (and read gets main's code)",
            expected=[(c, hex(a)) for c, a in want], got=ptrs)
    wrong = [f"{c}({a}) = {v}" for c, a, v in ptrs if v != "-1"]
    t.check(not wrong, "read and write with a bad pointer return -1", got="\n".join(wrong))
    fd_find(t, L, rf"^badptr: then the pipe holds '{digits}'$",
            "a failed read takes nothing from the pipe, a failed write adds nothing")

    w = fd_word(d)
    fd_find(t, L, rf"^fork: child wrote '{w}', parent read '{w}'$",
            "a child writes through the fds it inherited")
    n = 1 + next(d) % 4
    echo = " ".join(fd_word(d) for _ in range(n))
    fd_find(t, L, rf"^exec: dup = 1 in the child, echo wrote '{echo}\\n', status 0$",
            "an exec'd program keeps its fds: echo writes into the pipe dup'ed onto fd 1")

    k = (nofile - 3) // 2
    extra = "".join(f", dup = {fd}" for fd in range(3 + 2 * k, nofile))
    fd_find(t, L, rf"^limit: {k} pipes, then pipe = -1{extra}, then dup = -1; once more: "
                  rf"dup = -1, pipe = -1 \({nofile} open\)$",
            f"pipe and dup until all NOFILE ({nofile}) fds are open; then both fail")
    m = fd_find(t, L, r"^limit: (\d+) rounds, (\d+) unlike the first, free pages before (\d+) "
                      r"after (\d+)$", "the rounds' summary")
    t.check(m[2] == "0", "every round should open and fail the same way (a file lost per round "
            "would empty the system's table)", got=excerpt(L[L.find("limit:"):], 1200))
    t.check(m[3] == m[4], "free pages after the rounds as before them", got=m[0])
    t.check(status == 0 and re.search(r"^0 bad calls did not return -1$", L, re.M),
            "fdtest exits with status 0, every bad call -1", got=status)


## kill ###############################################################################

@test(10, "kill_blocked")
def kill_blocked(t):
    """kill of a process asleep in read on an empty pipe, in write on a full
    one, in wait for a child that never exits: each ends at once, and wait
    gives status -1."""
    seed = t.new_seed()
    d = seed_draws(seed)
    next(d)
    names = ["reader", "writer", "waiter"]
    first = next(d) % 3
    order = [first, (first + 1) % 3, (first + 2) % 3]
    if next(d) % 2:
        order[1], order[2] = order[2], order[1]
    hz = t.tree.consts()["HZ"]
    out, status = run(t, "killblock", seed, timeout=t.timeout / 2,
                         hang="a killed process still asleep, or a wait that does not end")
    clean(t, out, "killblock")
    L = lines(out, "killblock")
    fd_find(t, L, rf"^seed {seed} order {' '.join(names[i] for i in order)}$", "the seeded order")
    m = fd_find(t, L, r"^reader pid (\d+), writer pid (\d+), waiter pid (\d+)$", "the children")
    pids = [m[1], m[2], m[3]]
    kills = re.findall(r"^kill (\w+) pid (\d+) = (-?\d+)\nreaped pid (-?\d+) status (-?\d+) "
                       r"after (\d+) ticks$", L, re.M)
    t.check([(k[0], k[1]) for k in kills] == [(names[i], pids[i]) for i in order],
            "each child killed in the seeded order, and waited for", got=excerpt(L, 1200))
    for name, pid, r, reaped, st, ticks in kills:
        t.check(r == "0" and reaped == pid and st == "-1",
                f"the {name}, asleep, killed (kill = 0) and reaped with status -1",
                expected=f"kill = 0, reaped pid {pid} status -1", got=f"kill = {r}, reaped pid "
                f"{reaped} status {st}")
        t.check(int(ticks) <= 2 * hz, f"the killed {name} should end at once, not after "
                "seconds", expected=f"at most {2 * hz} ticks", got=f"{ticks} ticks")
    g = fd_find(t, L, r"^grandchild pid (\d+) blocked in read$", "the grandchild's line")
    fd_find(t, L, rf"^grandchild: reaped pid {g[1]} status 0$",
            "the orphaned grandchild reads end of file and is reaped by init with status 0")
    fd_find(t, L, r"^nproc 1$", "one process left")
    t.check(status == 0, "killblock exits with status 0", got=status)


@test(10, "sleep_state")
def sleep_state(t):
    """GDB: processes asleep in read on an empty pipe, in write on a full
    one, and in wait are SLEEPING in procs[], each with its chan: the
    pipe's &nread, the pipe's &nwrite, the waiting process's own struct proc."""
    seed = t.new_seed()
    d = seed_draws(seed)
    next(d)
    rfd, wfd = 3 + next(d) % 10, 3 + next(d) % 10
    magic = -(1000 + next(d) % 100000)
    script = os.path.join(t.tmp, "sleep_state.py")
    with open(script, "w") as f:
        f.write(FD_GDB_SCRIPT)
    q = t.boot(f"init=blocked:{seed}", gdb=True)
    # (A kernel that never wakes the parent never calls kill(MAGIC): half
    # the usual time is plenty for 15 stops.)
    gdb = t.gdb([f"hbreak kill if (int)$rdi == {magic}", f"source {script}", "detach"],
                timeout=t.gdb_timeout / 2)
    m = expect_alive(q, r"^init: exited with status (-?\d+)$")
    out = q.output
    L = lines(out, "blocked")
    clean(t, out, "blocked")
    who = {}
    for role in ("reader", "writer", "grandchild"):
        r = fd_find(t, L, rf"^{role} pid (\d+) fd (\d+)$", f"the {role}'s pid and fd")
        who[role] = (int(r[1]), int(r[2]))
    r = fd_find(t, L, r"^waiter pid (\d+)$", "the waiter's pid")
    who["waiter"] = (int(r[1]), None)
    t.check((who["reader"][1], who["writer"][1]) == (rfd, wfd),
            "the reader's and writer's seeded fds", expected=(rfd, wfd),
            got=(who["reader"][1], who["writer"][1]))
    stops = re.search(r"^stops (\d+)$", gdb, re.M)
    rows = {}
    for slot, addr, pid, state, chan, fds in re.findall(
            r"^proc (\d+) (0x[0-9a-f]+) pid (\d+) state (\w+) chan (0x[0-9a-f]+) fds(.*)$",
            gdb, re.M):
        pipes = {int(fd): (int(nr, 16), int(nw, 16))
                 for fd, nr, nw in re.findall(r" (\d+):(0x[0-9a-f]+):(0x[0-9a-f]+)", fds)}
        rows[int(pid)] = (int(addr, 16), state, int(chan, 16), pipes)
    t.check(stops is not None and rows, "GDB should stop at kill() and list procs[]",
            got=excerpt(gdb, 2000))
    table = "\n".join(l for l in gdb.splitlines() if l.startswith("proc "))
    for role, (pid, fd) in who.items():
        t.check(pid in rows and rows[pid][1] == "SLEEPING",
                f"the {role} (pid {pid}) should be SLEEPING (GDB looked {stops[1]} times)",
                got=table)
        addr, _, chan, pipes = rows[pid]
        if role == "waiter":
            want, what = addr, f"its own struct proc, &procs[i] = {addr:#x}"
        else:
            t.check(fd in pipes, f"the {role}'s fd {fd} should be a pipe", got=table)
            want = pipes[fd][1 if role == "writer" else 0]
            what = f"&ofile[{fd}]->pipe->{'nwrite' if role == 'writer' else 'nread'} = {want:#x}"
        t.check(chan == want, f"the {role}'s chan should be {what}", got=f"{chan:#x}\n{table}")
    t.check(rows[who["reader"][0]][2] == rows[who["grandchild"][0]][2],
            "the reader and the grandchild read the same pipe: the same chan", got=table)
    t.check(m[1] == "0" and "\ndone" in "\n" + L, "blocked ends well after GDB lets go",
            got=excerpt(out, 1000))


# GDB (t.gdb sources it): continue to the breakpoint on kill(MAGIC), up to
# TRIES times, until the four children are asleep; then print every used
# slot of procs[]: "proc SLOT &procs[SLOT] pid P state S chan C fds FD:&nread:&nwrite ...".
FD_GDB_SCRIPT = r'''
import gdb

TRIES = 15


def val(expr):
    return gdb.parse_and_eval(expr)


def snapshot():
    rows = []
    nproc = int(val("sizeof(procs) / sizeof(procs[0])"))
    nofile = int(val("sizeof(procs[0].ofile) / sizeof(procs[0].ofile[0])"))
    for i in range(nproc):
        p = "procs[%d]" % i
        state = str(val(p + ".state"))
        if state == "UNUSED":
            continue
        fds = []
        for fd in range(nofile):
            f = "%s.ofile[%d]" % (p, fd)
            if int(val("(unsigned long)" + f)) == 0 or str(val(f + "->type")) != "FD_PIPE":
                continue
            fds.append(" %d:%#x:%#x" % (fd, int(val("(unsigned long)&%s->pipe->nread" % f)),
                                        int(val("(unsigned long)&%s->pipe->nwrite" % f))))
        rows.append("proc %d %#x pid %d state %s chan %#x fds%s" % (
            i, int(val("(unsigned long)&" + p)), int(val(p + ".pid")), state,
            int(val("(unsigned long)" + p + ".chan")), "".join(fds)))
    return rows


for attempt in range(1, TRIES + 1):
    gdb.execute("continue")
    rows = snapshot()
    if sum(" state SLEEPING " in r for r in rows) >= 4:
        break
print("stops %d" % attempt)
for r in rows:
    print(r)
'''


## Storms ###########################################################################

@test(15, "storm")
def storm(t):
    """A seeded storm of fork, exit, wait, pipe, read, write, close and kill on
    4 CPUs: every status right, every process reaped, every page back, no panic."""
    seed = t.new_seed()
    nops = 600 + next(seed_draws(seed)) % 400
    out, status = run(t, "storm", seed, cpus=FD_MANY)
    clean(t, out, "storm")
    L = lines(out, "storm")
    fd_find(t, L, rf"^seed {seed} ops {nops}$", f"{nops} operations")
    m = fd_find(t, L, r"^(\d+) forks, (\d+) kills \((\d+) of live children\), (\d+) reaped, "
                      r"(\d+) orphans, (\d+) bytes fed, (\d+) bytes drained$",
                "the storm's summary")
    forks, kills, live, reaped = (int(x) for x in m.groups()[:4])
    t.check(forks >= nops // 10 and live >= 1 and int(m[6]) > 0 and int(m[7]) > 0,
            "a real storm: forks, kills of live children, bytes both ways", got=m[0])
    t.check(reaped == forks, "every child reaped once", expected=forks, got=m[0])
    p = fd_find(t, L, r"^nproc (\d+), free pages before (\d+) after (\d+)$", "the leak check")
    t.check(p[1] == "1", "every process reaped: nproc back to 1", got=p[0])
    t.check(p[2] == p[3], "free pages back where they started", got=p[0])
    t.check(status == 0 and re.search(r"^ok$", L, re.M), "storm exits 0, ok", got=status)


@test(5, "xv6_pipetest")
def xv6_pipetest(t):
    """user/pipetest.c, in xv6-public's dialect: bytes through a pipe in
    uneven reads, end of file, and a write with no reader."""
    out, status = run(t, "pipetest")
    t.check(re.search(r"^pipe test OK$", out, re.M) is not None and status == 0,
            "pipetest should print 'pipe test OK'", got=excerpt(out, 800))
