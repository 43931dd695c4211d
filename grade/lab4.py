# Lab 4 tests: user processes, system calls, user faults, bad pointers.
#
# Most tests boot the kernel with a user program of user/ as the first
# process (init=NAME:ARG...), wait for it to end (the kernel prints
# "init: exited with status N" and powers off) and read what it and the
# kernel printed. The programs are in files students do not edit, and
# every number they are asked for comes from a seed the grader picks: the
# grader works out the answers itself (the same LCG as the kernel's
# seed_next, gradelib.seed_draws) and checks addresses and values, not
# only the words:
#   - the fork tree's shape, each child's exit status and every pid that
#     fork and wait return;
#   - the words exec passes to echo;
#   - the program break before and after sbrk, and free-page counts;
#   - for each user fault, the kernel's one-line report, field by field:
#     the pid, the vector, the user %rip (at the faulting instruction) and
#     for page faults the address and the error code's bits;
#   - the bad pointers badptr hands to every system call (each must return
#     -1, and nothing but the programs' own lines may reach the console);
#   - uvm_check's answer for each range, from the page layout alone;
#   - a seeded fuzzer's run (user/fuzz.c): every call made, children forked,
#     free pages as before, and no process killed but its children.
# Two GDB tests drive a real GDB: the ps helper in the middle of a fork
# tree, and a hardware breakpoint in a user program's main, in ring 3.

import re

from gradelib import test, Fail, seed_draws, excerpt, EXIT, run_init as run

KILLED = re.compile(r"^pid (\d+) \((\S+)\): killed by (.+) \(vector (\d+)\), rip (0x[0-9a-f]+), "
                    r"error (0x[0-9a-f]+)(?:, addr (0x[0-9a-f]+))?$", re.M)


def layout(t):
    return t.tree.consts()


def lines(out, prog):
    """The lines prog printed, without its name."""
    return [l[len(prog) + 2:] for l in out.splitlines() if l.startswith(prog + ": ")]


def no_failures(t, out, prog):
    bad = [l for l in lines(out, prog) if "FAILED" in l]
    t.check(not bad, f"{prog} found something wrong", got="\n".join(bad))


def user_symbol(t, prog, name):
    """The address of symbol name in build/user/prog."""
    for s in t.tree.symbols(f"build/user/{prog}"):
        if s.name == name:
            return s.addr
    raise Fail(f"build/user/{prog} has no symbol {name}")


## Sanity ######################################################################

@test(0, "proc_boot", scored=False)
def proc_boot(t):
    """init=hello starts a process, and the kernel powers off when it exits."""
    q = t.boot("init=hello")
    q.expect(EXIT.pattern)
    q.expect(r"^kestrel: power off$")


@test(0, "elf_check", scored=False)
def elf_check(t):
    """The loader refuses every damaged ELF header and accepts the whole file."""
    q = t.boot(f"test=elf_check seed={t.new_seed()}")
    m = q.expect(r"^elf_check: free pages before (\d+) after (\d+)$")
    results = re.findall(r"^elf_check: (.+?): (.+)$", q.output, re.M)
    t.check(len(results) > 10 and results[0][1] == "accepted",
            "the original program must be accepted", got=excerpt(q.output, 1500))
    wrong = [f"{what}: {why}" for what, why in results[1:-1] if why == "ACCEPTED"]
    t.check(not wrong, "every damaged file must be refused", got="\n".join(wrong))
    t.check(m[1] == m[2], "the test must free what it took", got=m[0])


## uvm_check and uvm_copy, from the kernel ########################################

def check_answer(L, va, length):
    """What uvm_check must say about [va, va + length), read and write, for
    proctest.c's layout: UTEXT read-only, +1 page writable, +2 unmapped,
    +3 kernel only, and the last user page writable."""
    if length == 0:
        return 0, 0
    top, pgsize = L["USERTOP"], L["PGSIZE"]
    if va >= top or length > top - va:
        return -1, -1
    pages = {L["UTEXT"]: "r", L["UTEXT"] + pgsize: "w", top - pgsize: "w"}
    read = write = 0
    for page in range(va // pgsize * pgsize, va + length, pgsize):
        kind = pages.get(page)
        if kind is None:
            read = write = -1
        elif kind == "r":
            write = -1
    return read, write


@test(15, "uvm_check")
def uvm_check(t):
    """uvm_check's answer for fixed and seeded ranges around user pages that
    are read-only, writable, missing and kernel-only, and at USERTOP."""
    L = layout(t)
    q = t.boot(f"test=uvm_check seed={t.new_seed()}")
    m = q.expect(r"^uvm_check: free pages before (\d+) after (\d+)$")
    rows = re.findall(r"^uvm_check: va (0x[0-9a-f]+) len (0x[0-9a-f]+) (read|write) = (-?\d+)$",
                      q.output, re.M)
    t.check(len(rows) >= 20, "uvm_check should print a line per range", got=excerpt(q.output, 1500))
    wrong = []
    for va, length, rw, got in rows:
        read, write = check_answer(L, int(va, 16), int(length, 16))
        want = write if rw == "write" else read
        if int(got) != want:
            wrong.append(f"va {va} len {length} {rw}: {got}, expected {want}")
    t.check(not wrong, "uvm_check answered wrong", got="\n".join(wrong))
    t.check(m[1] == m[2], "the test must free what it took", got=m[0])


def copy_pages(L, seed):
    """The number of distinct pages proctest.c's uvm_copy test maps (its
    copy_addr: four clusters of 512 pages)."""
    pgsize = L["PGSIZE"]
    clusters = [L["UTEXT"], 0x40000000, 0x7f0000000000, L["USERTOP"] - 0x200000]
    d = seed_draws(seed)
    seen = set()
    for _ in range(24):
        va = clusters[next(d) % 4] + (next(d) % 512) * pgsize
        next(d)
        next(d)
        if va in seen:
            continue
        seen.add(va)
        for _ in range(pgsize // 8):
            next(d)
    return len(seen)


@test(10, "uvm_copy")
def uvm_copy(t):
    """uvm_copy of a seeded address space: the same pages, permissions and
    contents, in new pages, and nothing else."""
    seed = t.new_seed()
    q = t.boot(f"test=uvm_copy seed={seed}")
    m = q.expect(r"^uvm_copy: free pages before (\d+) after (\d+)$")
    r = re.search(r"^uvm_copy: (\d+) pages copied, each with its permissions and contents$",
                  q.output, re.M)
    fail = re.search(r"^uvm_copy: FAIL: .*$", q.output, re.M)
    t.check(r is not None, "the copy should be the same as the original",
            got=fail[0] if fail else excerpt(q.output, 1000))
    want = copy_pages(layout(t), seed)
    t.check(int(r[1]) == want, "every page should be copied", expected=want, got=r[1])
    t.check(m[1] == m[2], "the test must free what it took", got=m[0])


## Processes ######################################################################

@test(5, "hello")
def hello(t):
    """hello prints its pid and arguments from ring 3 and exits 0."""
    words = [f"x{w % 100000}" for w, _ in zip(seed_draws(t.new_seed()), range(3))]
    out, status = run(t, "hello", *words)
    t.check(re.search(r"^hello from user mode: pid 1$", out, re.M) is not None,
            "hello should print 'hello from user mode: pid 1'", got=excerpt(out, 800))
    args = re.findall(r"^hello: argv\[(\d)\] = (\S+)$", out, re.M)
    t.check(args == [(str(i + 1), w) for i, w in enumerate(words)],
            "hello should print its arguments", expected=words, got=args)
    t.check(status == 0, "hello exits with status 0", got=status)


@test(15, "forktree")
def forktree(t):
    """A seeded tree of processes: fork's and wait's pids, every exit status."""
    seed = t.new_seed()
    d = seed_draws(seed)
    fanout, depth = 2 + next(d) % 2, 2 + next(d) % 2
    out, status = run(t, "forktree", seed)
    no_failures(t, out, "forktree")
    L = lines(out, "forktree")
    t.check(f"seed {seed} fanout {fanout} depth {depth}" in L, "the tree's shape from the seed",
            expected=f"fanout {fanout} depth {depth}", got=excerpt(out, 1500))
    nodes = {}          # pid -> (parent, depth, index)
    for p, q, dp, i in (map(int, m) for m in re.findall(
            r"^pid (\d+) parent (\d+) depth (\d+) index (\d+)$", "\n".join(L), re.M)):
        t.check(p not in nodes, f"pid {p} is given twice")
        nodes[p] = (q, dp, i)
    total = sum(fanout ** k for k in range(1, depth + 1))
    t.check(len(nodes) == total, "every child should run", expected=total, got=len(nodes))
    forked = [tuple(map(int, m)) for m in re.findall(r"^pid (\d+) forked (\d+)$", "\n".join(L), re.M)]
    t.check(sorted(forked) == sorted((q, p) for p, (q, _, _) in nodes.items()),
            "fork should return each child's pid to its parent", got=forked)
    reaped = [tuple(map(int, m)) for m in re.findall(r"^pid (\d+) reaped (\d+) status (-?\d+)$",
                                                     "\n".join(L), re.M)]
    wrong = []
    for q, p, s in reaped:
        if p not in nodes or nodes[p][0] != q:
            wrong.append(f"pid {q} reaped {p}, not its child")
            continue
        _, dp, i = nodes[p]
        want = (seed + 1000 * dp + 37 * i) % 251
        if s != want:
            wrong.append(f"pid {q} reaped {p} with status {s}, expected {want}")
    t.check(not wrong, "wait should return each child's pid and status", got="\n".join(wrong))
    t.check(len(reaped) == total and len({p for _, p, _ in reaped}) == total,
            "every child should be reaped once", expected=total, got=len(reaped))
    parents = {1} | {p for p, (_, dp, _) in nodes.items() if dp < depth}
    last = set(int(m) for m in re.findall(r"^pid (\d+) wait -1$", "\n".join(L), re.M))
    t.check(last == parents, "wait with no children left should return -1",
            expected=sorted(parents), got=sorted(last))
    t.check(status == 0, "forktree exits with status 0", got=status)


@test(10, "exec")
def exec_args(t):
    """exec passes a seeded argv to echo; bad names and too many args fail."""
    seed = t.new_seed()
    d = seed_draws(seed)
    words = [f"w{next(d) % 100000}" for _ in range(1 + seed % 6)]
    out, status = run(t, "exectest", seed)
    no_failures(t, out, "exectest")
    L = lines(out, "exectest")
    for want in ("exec nosuchprogram = -1", f"exec echo with {len(words)} args"):
        t.check(want in L, f"exectest should print '{want}'", got=excerpt(out, 1500))
    t.check(any(re.fullmatch(r"exec echo with \d+ args = -1", l) for l in L),
            "exec with more than MAXARG arguments should fail", got=excerpt(out, 1500))
    t.check(re.search(r"^" + " ".join(words) + r"$", out, re.M) is not None,
            "echo should print the words exec passed", expected=" ".join(words), got=excerpt(out, 800))
    t.check(status == 0, "echo exits with status 0", got=status)


@test(10, "sbrk")
def sbrk(t):
    """sbrk grows (zeroed memory), shrinks (pages freed, then out of reach)."""
    seed, pgsize = t.new_seed(), layout(t)["PGSIZE"]
    size = (1 + seed % 40) * pgsize + seed % pgsize
    out, status = run(t, "sbrktest", seed)
    no_failures(t, out, "sbrktest")
    L = "\n".join(lines(out, "sbrktest"))
    grows = re.findall(r"^sbrk\((\d+)\) = (0x[0-9a-f]+), break now (0x[0-9a-f]+)$", L, re.M)
    t.check(len(grows) == 3, "sbrktest should grow three times", got=excerpt(out, 1500))
    for n, old, new in grows:
        t.check(int(new, 16) == int(old, 16) + int(n), "the break moves by what was asked",
                got=f"sbrk({n}) = {old}, break now {new}")
    t.check(int(grows[1][0]) == size and grows[1][1] == grows[2][1],
            "the seeded size, and the same break after shrinking and growing again",
            expected=size, got=grows[1:])
    free = [int(x) for x in re.findall(r"^free pages (?:before|after growing|after shrinking) (\d+)",
                                       L, re.M)]
    t.check(len(free) == 3 and free[0] - free[1] >= size // pgsize and free[2] == free[0],
            "growing takes pages, shrinking gives them all back", got=free)
    m = re.search(r"^child touches freed heap at (0x[0-9a-f]+)$", L, re.M)
    k = [x for x in KILLED.finditer(out)]
    t.check(m is not None and len(k) == 1 and k[0][7] and int(k[0][7], 16) == int(m[1], 16),
            "touching freed heap must kill the child with a page fault at that address",
            got="\n".join(x[0] for x in k) or excerpt(out, 800))
    t.check("child touching freed heap: status -1" in L and "ok" in L.splitlines(),
            "the parent should see status -1", got=excerpt(out, 800))
    t.check(status == 0, "sbrktest exits with status 0", got=status)


## Faults ######################################################################

# kind: (vector, error bits that must be set, bits that must be clear) for
# page faults; for the others, the vector only. PF_* are mmu.h's.
FAULTS = {
    "null": (14, ["PF_U"], ["PF_P"]), "kread": (14, ["PF_U"], ["PF_W"]),   # PF_P: see below
    "kwrite": (14, ["PF_U", "PF_P", "PF_W"], []), "unmapped": (14, ["PF_U", "PF_W"], ["PF_P"]),
    "textwrite": (14, ["PF_U", "PF_P", "PF_W"], []), "nxexec": (14, ["PF_U", "PF_P", "PF_I"], []),
    "stack": (14, ["PF_U"], ["PF_P"]), "noncanon": (13, [], []), "priv": (13, [], []),
    "io": (13, [], []), "div": (0, [], []), "ud": (6, [], []),
}


def expected_addr(L, kind, r):
    """The data address fault.c touches for kind, from the seed's first draw."""
    mib, pgsize = 1 << 20, L["PGSIZE"]
    return {"null": r % pgsize, "kread": L["KERNBASE"] + mib + r % mib,
            "kwrite": L["DIRECTMAP_BASE"] + mib + r % mib,
            "noncanon": L["USERTOP"] + (r % 65536) * pgsize,
            "unmapped": 0x10000000 + (r % 4096) * pgsize,
            "stack": L["USERTOP"] - L["USTACKSIZE"] - pgsize}.get(kind)


def check_fault(t, L, kind, seed):
    out, status = run(t, "fault", kind, seed)
    r = next(seed_draws(seed))
    m = re.search(rf"^fault: {kind} at (0x[0-9a-f]+)$", out, re.M)
    t.check(m is not None, f"{kind}: the child should say what it does", got=excerpt(out, 800))
    addr = int(m[1], 16)
    want = expected_addr(L, kind, r)
    if kind == "textwrite":
        want = user_symbol(t, "fault", "main")
    t.check(want is None or addr == want, f"{kind}: the seeded address",
            expected=hex(want or 0), got=m[1])
    k = list(KILLED.finditer(out))
    child = re.search(r"^fault: child (\d+) exited with status (-?\d+)$", out, re.M)
    t.check(len(k) == 1 and child is not None, f"{kind}: one process killed, one child reaped",
            got=excerpt(out, 1200))
    k = k[0]
    vector, must, mustnot = FAULTS[kind][0], list(FAULTS[kind][1]), list(FAULTS[kind][2])
    rip, err = int(k[5], 16), int(k[6], 16)
    t.check(int(k[1]) == int(child[1]) and k[2] == "fault" and int(k[4]) == vector,
            f"{kind}: the report names the child and vector {vector}", got=k[0])
    if kind in ("priv", "io", "div", "ud", "nxexec"):
        t.check(rip == addr, f"{kind}: the report's rip is the faulting instruction",
                expected=hex(addr), got=k[0])
    if vector == 14:
        cr2 = int(k[7], 16) if k[7] else None
        pgsize = L["PGSIZE"]
        ok = cr2 is not None and (cr2 // pgsize == addr // pgsize if kind == "stack" else cr2 == addr)
        t.check(ok, f"{kind}: the report's addr is the address touched", expected=hex(addr),
                got=k[0])
        if kind == "kread":
            # The kernel's page table maps its image up to the symbol end:
            # a present page there, none above it.
            end = [s.addr for s in t.tree.symbols() if s.name == "end"][0]
            (must if addr < end else mustnot).append("PF_P")
        bad = [b for b in must if not err & L[b]] + [b for b in mustnot if err & L[b]]
        t.check(not bad, f"{kind}: the error code's bits", got=f"{k[0]} (wrong: {bad})")
    t.check(child[2] == "-1", f"{kind}: wait should give the killed child's status -1",
            got=child[0])
    t.check(re.search(r"^hello from user mode", out, re.M) is not None and
            re.search(r"^fault: hello exited with status 0$", out, re.M) is not None
            and status == 0, f"{kind}: a program run after the fault should work", got=excerpt(out, 800))


@test(20, "faults")
def faults(t):
    """Each kind of user fault kills only its process, with the right report."""
    L = layout(t)
    for kind in FAULTS:
        check_fault(t, L, kind, t.new_seed())


@test(5, "xv6_forktest")
def xv6_forktest(t):
    """user/forktest.c, written for xv6-public (printf(1, ...), exit(),
    wait()), compiles unchanged and runs: the dialect shims of user.h."""
    out, status = run(t, "forktest")
    t.check(re.search(r"^fork test OK$", out, re.M) is not None and status == 0,
            "forktest should print 'fork test OK'", got=excerpt(out, 800))


## Bad pointers, leaks, kill, fuzzing ###################################################

@test(15, "badptr")
def badptr(t):
    """Every system call that takes a pointer returns -1 for bad ones."""
    L = layout(t)
    seed = t.new_seed()
    d = seed_draws(seed)
    r = [next(d) for _ in range(6)]
    mib, pgsize = 1 << 20, L["PGSIZE"]
    out, status = run(t, "badptr", seed)
    no_failures(t, out, "badptr")
    m = re.search(r"^badptr: break (0x[0-9a-f]+)$", out, re.M)
    t.check(m is not None, "badptr should print the break", got=excerpt(out, 1000))
    brk = int(m[1], 16)
    bad = {0, 0x10000000 + (r[0] % 4096) * pgsize, L["KERNBASE"] + mib + r[1] % mib,
           L["DIRECTMAP_BASE"] + mib + r[2] % mib, L["USERTOP"] + (r[3] % 65536) * pgsize,
           L["USERTOP"] - (1 + r[4] % 15), brk - (1 + r[5] % 15)}
    writes = re.findall(r"^badptr: write\(1, (0x[0-9a-f]+), (\d+)\) = (-?\d+)$", out, re.M)
    valid = {p for p, n, _ in writes if n == "0"}       # write(1, BUF, 0): the good buffer
    t.check({int(p, 16) for p, _, _ in writes if p not in valid} == bad,
            "write gets each seeded bad pointer",
            expected=sorted(hex(x) for x in bad), got=writes)
    calls = re.findall(r"^badptr: ((?:write|wait|exec|sysinfo)\(.*\)) = (-?\d+)$", out, re.M)
    wrong = [f"{c} = {v}" for c, v in calls if v != "-1" and not re.fullmatch(
        r"write\(1, 0x[0-9a-f]+, (\d+)\)", c)]
    t.check(len(calls) >= 40 and not wrong, "each call with a bad pointer returns -1",
            got="\n".join(wrong) or excerpt(out, 1500))
    t.check(re.search(r"^badptr: \d+ calls, all -1$", out, re.M) is not None,
            "badptr's own count", got=excerpt(out, 500))
    # Only the programs' lines, and the kernel's own, may reach the console:
    # kernel bytes printed by a write would show up between them.
    start = out.index("badptr: break")
    stray = [l for l in out[start:].splitlines()
             if not re.match(r"^(badptr: |init: |kestrel: |hello from user mode)", l)]
    t.check(not stray, "nothing but badptr's lines should be printed", got="\n".join(stray[:10]))
    t.check(not KILLED.search(out), "badptr must not be killed", got=excerpt(out, 800))
    t.check(status == 0, "badptr exits with status 0", got=status)


@test(10, "forkleak")
def forkleak(t):
    """Free pages after a few hundred forks, execs, sbrks and exits equal those before."""
    seed = t.new_seed()
    out, status = run(t, "forkleak", seed)
    no_failures(t, out, "forkleak")
    m = re.search(r"^forkleak: (\d+) forks, free pages before (\d+) after (\d+)$", out, re.M)
    t.check(m is not None and int(m[1]) == 200 + seed % 200, "the seeded number of forks",
            expected=200 + seed % 200, got=m[0] if m else excerpt(out, 800))
    t.check(m[2] == m[3], "every page should come back", got=m[0])
    f = re.search(r"^forkleak: a fork out of memory: fork = (\S+), free pages before (\d+) "
                  r"after (\d+)$", out, re.M)
    t.check(f is not None and f[1] == "-1" and f[2] == f[3],
            "a fork that runs out of memory halfway fails and gives back every page",
            got=f[0] if f else excerpt(out, 800))
    t.check(re.search(r"^forkleak: ok$", out, re.M) is not None and status == 0,
            "every child's pid and status right", got=excerpt(out, 800))


@test(5, "kill")
def kill(t):
    """kill ends spinning and sleeping children; wait gives status -1."""
    seed = t.new_seed()
    kids = 3 + seed % 3
    out, status = run(t, "killtest", seed)
    no_failures(t, out, "killtest")
    started = re.findall(r"^killtest: child (\d+) (spinning|sleeping|waiting)$", out, re.M)
    killed = re.findall(r"^killtest: kill\((\d+)\) = (-?\d+)$", out, re.M)
    reaped = re.findall(r"^killtest: reaped (\d+) status (-?\d+)$", out, re.M)
    t.check(len(started) == kids, "every child should start", expected=kids, got=started)
    pids = sorted(p for p, _ in started)
    t.check(sorted(p for p, r in killed if r == "0") == pids and
            sorted(p for p, s in reaped if s == "-1") == pids,
            "each child killed (kill = 0) and reaped with status -1", got=excerpt(out, 1200))
    t.check(sum(1 for _, r in killed if r == "-1") == 1, "kill of no process returns -1",
            got=killed)
    t.check(status == 0, "killtest exits with status 0", got=status)


@test(5, "nosmap")
def nosmap(t):
    """On a CPU without SMEP and SMAP (nested KVM hosts often lack them), the
    kernel never uses stac/clac and user programs still work."""
    seed = t.new_seed()
    out, status = run(t, "badptr", seed, cpu_flags="-smep,-smap")
    t.check(re.search(r"SMEP absent, SMAP absent", out) is not None,
            "the kernel should find no SMEP and SMAP", got=out[:1500])
    t.check(re.search(r"^badptr: \d+ calls, all -1$", out, re.M) is not None and status == 0,
            "badptr should pass without SMAP too", got=excerpt(out, 1000))


## Ways a user program once stopped the kernel ###############################
# Regression tests: each failed on the kernel before the fix it checks.

@test(0, "compat", scored=False)
def compat(t):
    """A far jump to the 32-bit user code slot (sysret's, null) is a #GP that
    kills the program, never a way to syscall from compatibility mode."""
    L = layout(t)
    out, status = run(t, "robust", "compat")
    m = KILLED.search(out)
    want = (L["T_GPFLT"], user_symbol(t, "robust", "compat_ljmp"), L["SEG_UCODE32"])
    t.check(m is not None and (int(m[4]), int(m[5], 16), int(m[6], 16)) == want and status == -1,
            "robust compat: killed by general protection at compat_ljmp, error the selector",
            expected="vector %d, rip %#x, error %#x; init exits -1" % want, got=excerpt(out, 800))


@test(0, "kstack_bt", scored=False)
def kstack_bt(t):
    """A panic on a process's kernel stack prints its backtrace."""
    L, seed = layout(t), t.new_seed()
    slot = next(seed_draws(seed)) % L["NPROC"]
    q = t.boot(f"test=kstack_bt seed={seed}")
    q.expect(r"^panic: halted$")
    t.check(re.search(rf"^kstack_bt: on slot {slot}'s kernel stack", q.output, re.M) is not None,
            f"the test runs on slot {slot}'s stack", got=excerpt(q.output, 600))
    syms = {s.name: (s.addr, s.size) for s in t.tree.symbols()}
    frames = re.findall(r"^  #\d+ 0x([0-9a-f]{16}) (\w+)\+0x", q.output, re.M)
    inside = [n for a, n in frames if n in syms and 0 < int(a, 16) - syms[n][0] <= syms[n][1]]
    t.check(inside[:2] == ["kstack_inner", "kstack_outer"],
            "the backtrace shows kstack_inner, then kstack_outer, each address inside it",
            got=excerpt(q.output[q.output.find("panic:"):], 600))


@test(0, "bad_iret", scored=False)
def bad_iret(t):
    """A fault at the iretq to user mode kills the process (bad_iret), not the kernel."""
    L, seed = layout(t), t.new_seed()
    cs = [L["SEG_UDATA"], L["SEG_TSS"], L["SEG_NDESC"] * 8][next(seed_draws(seed)) % 3]
    q = t.boot(f"test=bad_iret seed={seed}")
    q.expect(rf"{EXIT.pattern}|^panic: halted$")
    m = KILLED.search(q.output)
    entry = user_symbol(t, "nop", "_start")
    t.check(m is not None and (int(m[4]), int(m[5], 16), int(m[6], 16)) == (L["T_GPFLT"], entry, cs)
            and EXIT.search(q.output) and EXIT.search(q.output)[1] == "-1",
            f"nop killed by general protection at its entry {entry:#x}, error {cs:#x}; "
            "init exits -1", got=excerpt(q.output, 1000))


@test(5, "hang")
def hang(t):
    """A child dies of a fault while another sleeps: the sleeper still wakes."""
    seed = t.new_seed()
    draws = seed_draws(seed)
    addr, r1 = next(draws) % layout(t)["PGSIZE"], next(draws)
    out, status = run(t, "robust", "hang", seed)
    m = re.search(r"^robust: hang: child (\d+) status (-?\d+), child (\d+) status (-?\d+)$",
                  out, re.M)
    k = KILLED.search(out)
    t.check(m is not None and (m[2], m[4]) == ("-1", str(r1 % 100)),
            "the faulting child's status -1, the sleeper's its own", expected=f"-1, {r1 % 100}",
            got=excerpt(out, 800))
    t.check(k is not None and k[1] == m[1] and k[7] and int(k[7], 16) == addr,
            f"child {m[1]} killed by its page fault at {addr:#x}", got=excerpt(out, 800))
    t.check(status == 0, "robust hang exits 0", got=status)


@test(5, "fpu")
def fpu(t):
    """MXCSR and the x87 control word: fork copies them, exec resets them, and
    a child's never leak into its parent."""
    seed = t.new_seed()
    rc = 1 + next(seed_draws(seed)) % 3       # a rounding mode other than the default
    mxcsr, fcw = 0x1F80 | rc << 13, 0x037F | rc << 10
    out, status = run(t, "robust", "fpu", seed)
    no_failures(t, out, "robust")
    t.check(re.search(rf"^robust: fpu: parent mxcsr {mxcsr:#x} fcw {fcw:#x} after, 1/0 inf$",
                      out, re.M) is not None,
            "the parent keeps its own MXCSR and control word", got=excerpt(out, 800))
    t.check(re.search(r"^robust: fpuinit: mxcsr 0x1f80 fcw 0x37f$", out, re.M) is not None,
            "an exec'd program starts from the default state", got=excerpt(out, 800))
    t.check(status == 0 and not KILLED.search(out), "robust fpu exits 0, nobody killed",
            got=excerpt(out, 800))


@test(10, "fuzz")
def fuzz(t):
    """A seeded run of random system calls with bad arguments, and children
    that fault in every way: no panic, no hang, no leak, only children die."""
    seed = t.new_seed()
    n = 1000 + seed % 1000
    out, status = run(t, "fuzz", seed, n)
    no_failures(t, out, "fuzz")
    m = re.search(r"^fuzz: seed (\d+): (\d+) calls, (\d+) children, "
                  r"free pages before (\d+) after (\d+): ok$", out, re.M)
    t.check(m is not None, "fuzz should end with its summary, ok", got=excerpt(out, 1500))
    t.check(int(m[1]) == seed and int(m[2]) == n, "the seed, and every call made",
            expected=f"seed {seed}: {n} calls", got=m[0])
    # About 3 calls in 10 are forks; only a full process table or memory
    # may make one fail.
    t.check(int(m[3]) >= n // 5, "most forks should make a child", expected=f">= {n // 5}",
            got=m[0])
    t.check(m[4] == m[5], "every page should come back", got=m[0])
    wrong = [k[0] for k in KILLED.finditer(out) if k[1] == "1" or k[2] != "fuzz"]
    t.check(not wrong, "only the fuzzer's children may be killed", got="\n".join(wrong[:5]))
    t.check(status == 0, "fuzz exits with status 0", got=status)


## GDB ############################################################################

@test(5, "gdb_ps")
def gdb_ps(t):
    """GDB's ps helper in the middle of a fork tree: the processes and their states."""
    seed = t.new_seed()
    d = seed_draws(seed)
    next(d)
    depth = 2 + next(d) % 2
    t.boot(f"init=forktree:{seed}", gdb=True)
    # The CPU that stopped in exit is GDB's current thread; its %gs base is its struct cpu.
    out = t.gdb(["hbreak exit", "continue", "ps", "p ((struct cpu *)$gs_base)->proc->pid", "detach"])
    # slot, mark, pid, state, [cpu,] name, ppid: only a running process has a CPU
    rows = re.findall(r"^\s*(\d+)([* ])\s+(\d+)\s+(\w+)\s+(?:\d+\s+)?(\S+)\s+(\d+)\s+0x[0-9a-f]+$",
                      out, re.M)
    t.check(rows, "ps should list processes", got=excerpt(out, 1500))
    running = [r for r in rows if r[1] == "*"]
    cur = re.search(r"^\$1 = (\d+)$", out, re.M)
    t.check(cur is not None and any(r[2] == cur[1] for r in running)
            and all(r[3] == "running" for r in running),
            "ps marks the process in exit as running (and only running ones)",
            got=excerpt(out, 1500))
    t.check(all(r[4] == "forktree" for r in rows) and any(r[2] == "1" for r in rows),
            "every process is forktree, pid 1 among them", got=excerpt(out, 1500))
    t.check(len(rows) >= depth + 1, "the first process to exit is a leaf: its ancestors "
            "are all there", expected=f">= {depth + 1} processes", got=excerpt(out, 1500))


@test(5, "gdb_user_main")
def gdb_user_main(t):
    """hbreak in echo's main (symbols from build/user/echo) stops in ring 3
    with exec's arguments."""
    seed = t.new_seed()
    d = seed_draws(seed)
    words = [f"w{next(d) % 100000}" for _ in range(1 + seed % 6)]
    t.boot(f"init=exectest:{seed}", gdb=True)
    out = t.gdb(["uprog echo", 'hbreak user/echo.c:main if $_streq(cpus[0].proc->name, "echo")',
                 "continue", "p $cs & 3", "p argc", "p argv[1]", "p cpus[0].proc->pid",
                 "info symbol $pc", "detach"])
    vals = dict(re.findall(r"^\$(\d) = (.*)$", out, re.M))
    t.check(re.search(r"Breakpoint 1, main \(", out) is not None, "GDB should stop in echo's main",
            got=excerpt(out, 1500))
    t.check(vals.get("1") == "3", "the CPU is in ring 3 there ($cs & 3)", got=excerpt(out, 800))
    t.check(vals.get("2") == str(len(words) + 1) and f'"{words[0]}"' in vals.get("3", ""),
            "argc and argv[1] as exectest passed them", expected=f"{len(words) + 1}, {words[0]}",
            got=excerpt(out, 800))
    t.check(vals.get("4") == "1", "exec keeps the pid (exectest is pid 1)", got=excerpt(out, 800))
    t.check(re.search(r"^main in section \.text of .*build/user/echo$", out, re.M) is not None,
            "info symbol: main of build/user/echo", got=excerpt(out, 800))
