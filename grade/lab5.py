# Lab 5 tests: every CPU up, spinlocks that exclude and catch their misuse,
# a panic that stops every CPU, processes on several CPUs at once.
#
# The tests boot the kernel with a self-test (kern/test/locktest.c with a
# pretend second CPU; kern/test/mptest.c on every CPU QEMU was given) or a
# user program, on a seeded number of CPUs where it matters, and check
# what the grader works out itself:
#   - the APs: one "cpu N: up (apic id A)" line per AP, each with the APIC
#     ID it read from its own local APIC, against the MADT's (QEMU numbers
#     a plain -smp N machine's APIC IDs 0..N-1); then, with the machine
#     stopped by a panic, QEMU's monitor shows every vCPU in 64-bit mode,
#     at kernel addresses: at cpu_stopped, or the panicking one in
#     halt_forever (nm gives both);
#   - a counter incremented under a lock by every CPU a seeded number of
#     times: exact, and no two CPUs inside at once;
#   - each check of spinlock.c: the panic's words, the CPUs, the locks'
#     names from the seed, and each call site inside the function nm says;
#   - user/together: children on different CPUs whose time-stamp
#     intervals overlap, each with the value its seeded loop must reach.

import re
import subprocess

from gradelib import test, Fail, seed_draws, excerpt, expect_alive, lcg, MASK64

CPU_COUNTS = (1, 2, 4, 8)       # cpus_up boots each
MANY = 4                        # the CPUs of the tests that need several
PANIC_LOOKS = 50                # panic_stops asks the monitor this often at most
SITE = r"(\w+)\+0x([0-9a-f]+)"
UP = re.compile(r"^cpu (\d+): up \(apic id (\d+)\)$", re.M)


def layout(t):
    return t.tree.consts()


def the_panic(t, q, timeout=None):
    """Wait for 'panic: halted' (timeout: seconds, instead of the test's
    own); the panic's message line."""
    q.expect(r"^panic: halted$", timeout=timeout)
    lines = q.output.rstrip("\n").splitlines()
    t.check(lines[-1] == "panic: halted", "'panic: halted' must be the last line",
            got=excerpt(q.output, 600))
    m = re.search(r"^panic: (?!halted)(.*)$", q.output, re.M)
    t.check(m is not None, "the panic's message line", got=excerpt(q.output, 600))
    return m[1]


def check_site(t, site, func, what):
    """site: (name, hex offset) of a report's SITE; it must lie inside
    func (nm: address and size), not at its start (a return address)."""
    sym = {s.name: s for s in t.tree.symbols()}.get(func)
    if sym is None:
        raise Fail(f"build/kernel has no symbol {func}")
    name, off = site[0], int(site[1], 16)
    t.check(name == func and 0 < off < max(sym.size, 1), f"{what} should be inside {func}",
            expected=f"{func}+0x1..0x{sym.size - 1:x}", got=f"{name}+0x{off:x}")


def watchdog_wait(t):
    """How long a watchdog test waits for the panic once the wait began: a
    quarter of the test's timeout (LOCK_WAIT_MS is a second), so that a
    watchdog that never fires costs little."""
    return t.timeout / 4


def other_cpu(L, d):
    """locktest.c's other_cpu: a pretend CPU that is never 0."""
    return 1 + next(d) % (L["NCPU"] - 1)


## Sanity ########################################################################

@test(0, "acpi", scored=False)
def acpi(t):
    """What acpi.c found on a seeded number of CPUs: that many CPUs with APIC
    IDs 0..N-1, the I/O APIC of the pc machine, and IRQ 0 overridden to GSI 2."""
    n = 1 + next(seed_draws(t.new_seed())) % layout(t)["NCPU"]
    q = t.boot("test=acpi", cpus=n)
    expect_alive(q, r"^acpitest: done$")
    out = q.output
    t.check(re.search(rf"^acpitest: ncpu {n} \(NCPU \d+\)$", out, re.M) is not None,
            f"-smp {n}: the MADT lists {n} CPUs", got=re.findall(r"^acpitest: ncpu.*$", out, re.M))
    apics = [(int(i), int(a)) for i, a in re.findall(r"^acpitest: cpu (\d+) apic (\d+)", out, re.M)]
    t.check(apics == [(i, i) for i in range(n)], "CPU i has APIC ID i on QEMU's pc machine",
            got=apics)
    t.check(re.search(r"^acpitest: ioapic 0 id \d+ at 0xfec00000 gsi base 0$", out, re.M),
            "the I/O APIC at 0xfec00000, GSI base 0", got=excerpt(out, 1200))
    t.check(re.search(r"^acpitest: irq 0 -> gsi 2 edge active-high$", out, re.M),
            "the MADT's override: IRQ 0 (the PIT) is GSI 2", got=excerpt(out, 1200))
    t.check(re.search(r"^acpitest: pins 24$", out, re.M), "24 pins", got=excerpt(out, 800))


@test(5, "gdb_cpus")
def gdb_cpus(t):
    """GDB's cpus helper, stopped while a real AP holds a lock: every CPU in
    64-bit mode, the holder's lock taken in mp_hold."""
    seed = t.new_seed()
    holder = 1 + next(seed_draws(seed)) % (MANY - 1)
    q = t.boot(f"test=smp_watchdog seed={seed}", gdb=True, cpus=MANY)
    out = t.gdb(["hbreak mp_want", "continue", "cpus"])
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$", out, re.M)
    t.check(len(rows) == MANY and all(r[2] == "64-bit" for r in rows),
            f"cpus should list {MANY} CPUs, each in 64-bit mode", got=excerpt(out, 1500))
    t.check("held (mp_hold+" in dict((int(r[0]), r[4]) for r in rows).get(holder, ""),
            f"cpus should show cpu {holder} holding 'held', taken in mp_hold", got=out)
    q.stop()


## Every CPU up ####################################################################

def monitor_cpus(t, q):
    """From QEMU's monitor, for each vCPU: (rip, 64-bit code segment, EFER.LMA)."""
    text = q.monitor("info registers -a").replace("\r", "")
    cpus = []
    for part in re.split(r"^CPU#\d+$", text, flags=re.M)[1:]:
        rip = re.search(r"RIP=([0-9a-f]{16})", part)
        cs = re.search(r"^CS =.*$", part, re.M)
        efer = re.search(r"EFER=([0-9a-f]{16})", part)
        if not (rip and cs and efer):
            raise Fail("QEMU's 'info registers -a' gave no RIP, CS or EFER", )
        cpus.append((int(rip[1], 16), "CS64" in cs[0], (int(efer[1], 16) >> 10) & 1))
    return cpus


def where(t, addr):
    """The kernel symbol that holds addr: within its size, or for a label
    without one (cpu_stopped), before the next symbol. None if none does."""
    syms = t.tree.symbols()
    for s, nxt in zip(syms, syms[1:] + [None]):
        end = s.addr + s.size if s.size else (nxt.addr if nxt else s.addr)
        if s.addr <= addr < end:
            return s.name
    return None


def panic_boot(t, n, seed):
    """Boot test=smp_panic on n CPUs; the panic's line and the CPU that panicked."""
    q = t.boot(f"test=smp_panic seed={seed}", cpus=n, monitor=True)
    k = next(seed_draws(seed)) % n
    expect_alive(q, rf"^smp_panic: {n} cpus; cpu {k} panics$")
    msg = the_panic(t, q)
    return q, k, msg


@test(20, "cpus_up")
def cpus_up(t):
    """CPUS=1, 2, 4, 8: each AP says it is up with the APIC ID of its own
    local APIC, and every vCPU runs kernel code in 64-bit mode."""
    L = layout(t)
    for n in (c for c in CPU_COUNTS if c <= L["NCPU"]):
        q, k, _ = panic_boot(t, n, t.new_seed())
        up = [(int(c), int(a)) for c, a in UP.findall(q.output)]
        t.check(up == [(i, i) for i in range(1, n)], f"CPUS={n}: one 'cpu N: up (apic id A)' "
                "line per AP, in order, each with its own APIC ID",
                expected=[(i, i) for i in range(1, n)], got=up)
        cpus = monitor_cpus(t, q)
        t.check(len(cpus) == n, f"QEMU should have {n} vCPUs", got=len(cpus))
        for i, (rip, cs64, lma) in enumerate(cpus):
            t.check(cs64 and lma and rip >= L["KERNBASE"], f"CPUS={n}: vCPU {i} should run "
                    "kernel code in 64-bit mode", got=f"rip {rip:#x}, CS64 {cs64}, EFER.LMA {lma}")


@test(10, "panic_stops")
def panic_stops(t):
    """A seeded CPU panics: 'panic: halted' stays last, and every other CPU
    is halted at cpu_stopped."""
    seed = t.new_seed()
    q, k, msg = panic_boot(t, MANY, seed)
    t.check(msg == f"smp_panic: cpu {k} panics as asked", "the panic of the seeded CPU",
            expected=f"smp_panic: cpu {k} panics as asked", got=msg)
    want = ["halt_forever" if i == k else "cpu_stopped" for i in range(MANY)]
    # The panicking CPU prints "panic: halted" on its way into halt_forever:
    # ask the monitor again (a loaded host may not have run it that far).
    for _ in range(PANIC_LOOKS):
        cpus = monitor_cpus(t, q)
        if [where(t, rip) for rip, _, _ in cpus] == want:
            break
    for i, (rip, _, _) in enumerate(cpus):
        t.check(where(t, rip) == want[i], f"vCPU {i} should be stopped in {want[i]}",
                got=f"rip {rip:#x} ({where(t, rip)})")


## Locks on every CPU ##################################################################

def atomic_in(t, func):
    """Does func (nm's address and size) hold an atomic read-modify-write:
    xchg, or an instruction with the lock prefix?"""
    sym = next((s for s in t.tree.symbols() if s.name == func), None)
    if sym is None or sym.size == 0:
        return False
    out = subprocess.run([t.tree.tool("OBJDUMP"), "-d", f"--start-address={sym.addr:#x}",
                          f"--stop-address={sym.addr + sym.size:#x}", "build/kernel"],
                         cwd=t.tree.path, capture_output=True, text=True).stdout
    return re.search(r"\t(xchg|lock )", out) is not None


@test(15, "lock_count")
def lock_count(t):
    """Every CPU adds to one counter under a lock, a seeded number of times:
    the count is exact, no two CPUs were ever inside together, each CPU ran
    its part (its own APIC ID), and the lock is taken with an atomic
    instruction."""
    seed = t.new_seed()
    d = seed_draws(seed)
    rounds, hold = 500 + next(d) % 1500, next(d) % 8
    q = t.boot(f"test=smp_count seed={seed}", cpus=MANY)
    expect_alive(q, r"^smp_count: done$|^smp_count: FAILED.*$")
    out = q.output
    t.check(f"smp_count: {MANY} cpus, {rounds} rounds, hold {hold}" in out,
            f"{MANY} CPUs running, and the rounds from the seed", got=excerpt(out, 1200))
    parts = [(int(c), int(a)) for c, a in
             re.findall(rf"^smp_count: cpu (\d+) apic (\d+) rounds {rounds}$", out, re.M)]
    t.check(parts == [(i, i) for i in range(MANY)], "each CPU's part, with its own APIC ID",
            got=excerpt(out, 1200))
    m = re.search(r"^smp_count: counter (\d+) \(expected (\d+)\), overlaps (\d+)$", out, re.M)
    t.check(m is not None and int(m[1]) == MANY * rounds and int(m[3]) == 0,
            "the counter must be exact, and no CPU inside with another",
            expected=f"counter {MANY * rounds}, overlaps 0", got=m[0] if m else excerpt(out))
    # A lock taken by a load and a store races in a window few runs hit
    # under emulation; the instruction that closes it is plain to see.
    t.check(any(atomic_in(t, f) for f in ("acquire", "spin")), "acquire (or spin) must take "
            "the lock with an atomic instruction (xchg, or one with a lock prefix)")


@test(10, "smp_alloc")
def smp_alloc(t):
    """kalloc and kmalloc from every CPU at once: no page or object handed to
    two CPUs, and the free counts back where they began."""
    seed = t.new_seed()
    rounds = 300 + next(seed_draws(seed)) % 300
    q = t.boot(f"test=smp_alloc seed={seed}", cpus=MANY)
    expect_alive(q, r"^smp_alloc: done$|^smp_alloc: FAILED.*$")
    t.check(f"smp_alloc: {MANY} cpus, {rounds} rounds" in q.output, "the rounds from the seed",
            got=excerpt(q.output, 800))
    m = re.search(r"^smp_alloc: pages before (\d+), after (\d+); heap pages before (\d+), "
                  r"after (\d+); clobbered (\d+)$", q.output, re.M)
    t.check(m is not None and m[1] == m[2] and m[3] == m[4] and m[5] == "0",
            "every page back, the heap as it was, nothing written by two CPUs",
            got=m[0] if m else excerpt(q.output, 800))


## spinlock.c's checks ####################################################################

@test(5, "lock_recursive")
def lock_recursive(t):
    """Acquire of a lock this CPU holds: a panic naming the lock and both sites."""
    seed = t.new_seed()
    d = seed_draws(seed)
    k = next(d) % 4
    names = ["rec_a", "rec_b", "rec_c", "rec_d"]
    q = t.boot(f"test=lock_recursive seed={seed}")
    msg = the_panic(t, q)
    lk = names[k]
    p = re.fullmatch(rf"acquire: cpu 0 takes lock '{lk}' again at {SITE}; it took it at {SITE}", msg)
    t.check(p is not None, f"the panic should name '{lk}', the second acquire and the first",
            expected=f"acquire: cpu 0 takes lock '{lk}' again at lk_take_again+0x..; it took it "
            "at lk_take_first+0x..", got=msg)
    check_site(t, p.groups()[0:2], "lk_take_again", "the second acquire")
    check_site(t, p.groups()[2:4], "lk_take_first", "the first acquire")
    t.check("lockorder:" not in q.output, "a recursion is not a lock-order report",
            got=excerpt(q.output, 800))


@test(5, "lock_notheld")
def lock_notheld(t):
    """Release of a lock this CPU does not hold, in three seeded cases."""
    L = layout(t)
    seed = t.new_seed()
    d = seed_draws(seed)
    case = next(d) % 3
    q = t.boot(f"test=lock_notheld seed={seed}")
    msg = the_panic(t, q)
    head = rf"release: cpu 0 releases lock 'notheld' at {SITE}, but "
    if case == 0:
        p = re.fullmatch(head + "no CPU has taken it yet", msg)
        want = "... but no CPU has taken it yet"
    elif case == 1:
        p = re.fullmatch(head + rf"it is free, released last at {SITE}", msg)
        want = "... but it is free, released last at lk_release_first+0x.."
    else:
        f = other_cpu(L, d)
        p = re.fullmatch(head + rf"cpu {f} holds it, taken at {SITE}", msg)
        want = f"... but cpu {f} holds it, taken at lock_notheld_test+0x.."
    t.check(p is not None, "the panic should say why the release is wrong", expected=want, got=msg)
    check_site(t, p.groups()[0:2], "lk_release_again", "the release")
    if case == 1:
        check_site(t, p.groups()[2:4], "lk_release_first", "the last release")
    elif case == 2:
        check_site(t, p.groups()[2:4], "lock_notheld_test", "the holder's acquire")


def watchdog(t, early):
    """The watchdog's panic: after LOCK_WAIT_MS, or before tsc_hz is known
    (early), after LOCK_WAIT_SPINS spins."""
    L = layout(t)
    seed = t.new_seed()
    f = other_cpu(L, seed_draws(seed))
    q = t.boot(f"test=lock_watchdog{'_early' if early else ''} seed={seed}")
    expect_alive(q, rf"^lock_watchdog: 'watchdog' held by cpu {f}; ")
    msg = the_panic(t, q, watchdog_wait(t))
    unit = r"spins \(tsc_hz not measured yet\)" if early else "ms"
    p = re.fullmatch(rf"acquire: cpu 0 waited (\d+) {unit} for lock 'watchdog' at {SITE}; "
                     rf"cpu {f} holds it, taken at {SITE}", msg)
    t.check(p is not None, "the watchdog's panic", expected=f"acquire: cpu 0 waited N "
            f"{'spins (tsc_hz not measured yet)' if early else 'ms'} for lock 'watchdog' "
            f"at lk_take+0x..; cpu {f} holds it, taken at lock_watchdog_test+0x..", got=msg)
    waited = int(p[1])
    if early:
        t.check(waited == L["LOCK_WAIT_SPINS"] + 1, "the wait, counted in spins",
                expected=L["LOCK_WAIT_SPINS"] + 1, got=waited)
    else:
        t.check(L["LOCK_WAIT_MS"] <= waited < 3 * L["LOCK_WAIT_MS"],
                f"the wait should last about LOCK_WAIT_MS ({L['LOCK_WAIT_MS']} ms)", got=waited)
    check_site(t, p.groups()[1:3], "lk_take", "the waiter's acquire")
    check_site(t, p.groups()[3:5], "lock_watchdog_test", "the holder's acquire")


@test(3, "lock_watchdog")
def lock_watchdog(t):
    """A wait of LOCK_WAIT_MS ends in a panic naming the lock, both sites and
    the holder."""
    watchdog(t, False)


@test(2, "lock_watchdog_early")
def lock_watchdog_early(t):
    """Before the TSC's rate is known, the wait is counted in spins."""
    watchdog(t, True)


@test(10, "smp_watchdog")
def smp_watchdog(t):
    """A real AP holds a lock forever: CPU 0's watchdog fires, and the holder
    prints its own backtrace from the NMI the watchdog sends it."""
    L = layout(t)
    seed = t.new_seed()
    f = 1 + next(seed_draws(seed)) % (MANY - 1)
    q = t.boot(f"test=smp_watchdog seed={seed}", cpus=MANY)
    expect_alive(q, rf"^smp_watchdog: cpu {f} holds 'held' \(mp_hold\); cpu 0 waits \(mp_want\)$")
    msg = the_panic(t, q, watchdog_wait(t))
    p = re.fullmatch(rf"acquire: cpu 0 waited (\d+) ms for lock 'held' at {SITE}; cpu {f} holds "
                     rf"it, taken at {SITE}", msg)
    t.check(p is not None, "the watchdog's panic", expected=f"acquire: cpu 0 waited N ms for "
            f"lock 'held' at mp_want+0x..; cpu {f} holds it, taken at mp_hold+0x..", got=msg)
    t.check(L["LOCK_WAIT_MS"] <= int(p[1]) < 3 * L["LOCK_WAIT_MS"], "a wait of about LOCK_WAIT_MS",
            got=p[1])
    check_site(t, p.groups()[1:3], "mp_want", "the waiter's acquire")
    check_site(t, p.groups()[3:5], "mp_hold", "the holder's acquire")
    report = re.search(rf"^trap: non-maskable interrupt \(vector 2\) on cpu {f} in kernel mode$"
                       rf"(.*?)^trap: rip (0x[0-9a-f]+) (\w+)\+0x", q.output, re.M | re.S)
    t.check(report is not None and report[3] == "mp_hold", f"cpu {f}, the holder, should report "
            "the watchdog's NMI, interrupted in mp_hold", got=excerpt(q.output, 2500))


@test(10, "lock_order")
def lock_order(t):
    """A seeded chain of orders, then its inversion: both reported, with every
    call site, before any wait."""
    L = layout(t)
    seed = t.new_seed()
    d = seed_draws(seed)
    names = ["ord_a", "ord_b", "ord_c", "ord_d"]
    k = 2 + next(d) % 2
    avail, chain = list(range(4)), []
    for _ in range(k):
        chain.append(names[avail.pop(next(d) % len(avail))])
    f = other_cpu(L, d)
    q = t.boot(f"test=lock_order seed={seed}")
    check_order(t, q, chain, "lk_inverted", "lk_nest", "lock_order: " + " -> ".join(
        f"'{c}'" for c in chain) + f", then '{chain[-1]}' -> '{chain[0]}' while cpu {f} holds "
        f"'{chain[0]}'")


@test(10, "smp_order")
def smp_order(t):
    """One CPU takes A then B; later another takes B then A: the checker
    reports the inversion though the two never overlap."""
    seed = t.new_seed()
    d = seed_draws(seed)
    f = 1 + next(d) % (MANY - 1)
    a = next(d) % 4
    b = (a + 1 + next(d) % 3) % 4
    names = ["ord_1", "ord_2", "ord_3", "ord_4"]
    q = t.boot(f"test=smp_order seed={seed}", cpus=MANY)
    check_order(t, q, [names[a], names[b]], "mp_inverted", "mp_nest",
                f"smp_order: cpu {f} took '{names[a]}' then '{names[b]}' (mp_nest); cpu 0 takes "
                f"'{names[b]}' then '{names[a]}' (mp_inverted)")


def check_order(t, q, chain, inverted, nest, intro):
    """The lock-order report of taking chain[0] while holding chain[-1] (both
    in inverted) after the orders chain[i] -> chain[i + 1] (each in nest)."""
    expect_alive(q, "^" + re.escape(intro) + "$")
    msg = the_panic(t, q)
    first, last = chain[0], chain[-1]
    t.check(msg.startswith(f"acquire: cpu 0 takes lock '{first}' while holding '{last}', against "
                           "the lock order"), "the panic should name both locks",
            got=msg)
    new = re.search(rf"^lockorder: cpu 0 takes '{first}' at {SITE} while holding '{last}', "
                    rf"taken at {SITE}$", q.output, re.M)
    t.check(new is not None, "a lockorder line for the new order, with both sites",
            got=excerpt(q.output, 1500))
    check_site(t, new.groups()[0:2], inverted, "the inverting acquire")
    check_site(t, new.groups()[2:4], inverted, "the held lock's acquire")
    seen = re.findall(rf"^lockorder: seen before: '(\w+)' -> '(\w+)': '\w+' taken at {SITE}, "
                      rf"then '\w+' at {SITE}$", q.output, re.M)
    t.check([s[:2] for s in seen] == list(zip(chain, chain[1:])), "the orders seen before, "
            "from the first lock to the last", expected=list(zip(chain, chain[1:])),
            got=[s[:2] for s in seen])
    for s in seen:
        check_site(t, s[2:4], nest, "an order's first lock")
        check_site(t, s[4:6], nest, "an order's second lock")


def ok_expected(seed):
    """lock_ok's order, the pair never taken together, the rounds and the
    orders seen (pairs i < j in the order), as locktest.c draws them."""
    names = ["ok_a", "ok_b", "ok_c", "ok_d", "ok_e", "ok_f"]
    d = seed_draws(seed)
    order = list(range(6))
    for i in range(5, 0, -1):
        j = next(d) % (i + 1)
        order[i], order[j] = order[j], order[i]
    ai = next(d) % 6
    aj = (ai + 1 + next(d) % 5) % 6
    rounds = 500 + next(d) % 501
    seen = set()
    for _ in range(rounds):
        mask = next(d) % 64
        if (mask >> ai) & 1:
            mask &= ~(1 << aj)
        taken = [i for i in range(6) if (mask >> i) & 1]
        seen |= {(a, b) for a in taken for b in taken if a < b}
        for n in range(len(taken), 0, -1):
            next(d)
    return ([names[o] for o in order], (names[order[ai]], names[order[aj]]), rounds,
            [(names[order[a]], names[order[b]]) for a, b in sorted(seen)])


@test(5, "lock_ok")
def lock_ok(t):
    """A long seeded run of correct nesting: holding() and interrupts right
    throughout, exactly the orders taken recorded, and nothing reported."""
    seed = t.new_seed()
    order, apart, rounds, seen = ok_expected(seed)
    q = t.boot(f"test=lock_ok seed={seed}")
    expect_alive(q, r"^lock_ok: (done|FAILED)$")
    out = q.output
    t.check("lock_ok: order " + " ".join(f"'{n}'" for n in order) in out, "the seeded order",
            got=excerpt(out, 800))
    t.check(f"lock_ok: never together '{apart[0]}' '{apart[1]}'" in out, "the seeded pair",
            got=excerpt(out, 800))
    t.check(re.search(rf"^lock_ok: {rounds} rounds", out, re.M), f"{rounds} rounds",
            got=excerpt(out, 800))
    bad = re.findall(r"^lock_ok: FAILED.*$|^lockorder: .*$|^panic: .*$", out, re.M)
    t.check(not bad, "correct use must not be reported", got="\n".join(bad))
    got = re.findall(r"^lock_ok: seen '(\w+)' -> '(\w+)'$", out, re.M)
    t.check(got == seen, "the checker should record exactly the orders taken", expected=seen,
            got=got)
    t.check(f"lock_ok: {len(seen)} orders seen, 0 reversed" in out, "no order seen reversed",
            got=excerpt(out, 800))


## Processes on every CPU ##################################################################

def lcg_jump(x, steps):
    """lcg() applied steps times to x, in log(steps) compositions."""
    mul, add = 6364136223846793005, 1442695040888963407
    while steps:
        if steps & 1:
            x = (x * mul + add) & MASK64
        add = (add * (mul + 1)) & MASK64
        mul = (mul * mul) & MASK64
        steps >>= 1
    return x


@test(15, "together")
def together(t):
    """user/together: one child per CPU, each with a seeded loop that asks
    sysinfo now and then how many processes are RUNNING: some child must
    see two or more (on one CPU it is always one), and each must reach its
    value."""
    seed = t.new_seed()
    steps = 20000000 + next(seed_draws(seed)) % 10000000
    assert lcg_jump(5, 3) == lcg(lcg(lcg(5)))
    q = t.boot(f"init=together:{seed}", cpus=MANY)
    m = expect_alive(q, r"^init: exited with status (-?\d+)$")
    out = q.output
    t.check(f"together: {MANY} cpus, {MANY} children, {steps} steps" in out,
            f"sysinfo should say {MANY} CPUs run", got=excerpt(out, 1500))
    kids = {int(i): (int(r), int(x, 16)) for i, r, x in
            re.findall(r"^together: child (\d+) cpu \d+ \d+ running (\d+) x 0x([0-9a-f]+)$",
                       out, re.M)}
    t.check(sorted(kids) == list(range(MANY)) and m[1] == "0", "every child reports, and "
            "together exits 0", got=excerpt(out, 1500))
    for i, (_, x) in kids.items():
        want = lcg_jump(seed + i, steps)
        t.check(x == want, f"child {i}'s value", expected=f"{want:#x}", got=f"{x:#x}")
    most = max(r for r, _ in kids.values())
    t.check(2 <= most <= MANY, f"two or more processes should be RUNNING at once, on different "
            f"CPUs (and at most {MANY})", got="\n".join(re.findall(r"^together: child.*$", out, re.M)))
