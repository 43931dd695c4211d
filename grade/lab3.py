# Lab 3 tests: exceptions and their reports, the double fault on its IST
# stack, NMIs, the timer, and a trap frame seen through GDB.
#
# Each test boots the real kernel with a self-test of kern/test/traptest.c
# (test=NAME seed=N) and reads the report that trap.c prints, field by
# field, against what the grader works out itself:
#   - the address the test touches, from the seed (the same sequence as
#     the kernel's seed_next), so the CR2 to expect and the error code's
#     bits (kernel mode; not present or a protection fault; read, write
#     or fetch);
#   - %rip inside the function that faults, by nm's address and size, and
#     every backtrace frame inside the function it names;
#   - the double fault's handler %rsp inside IST stack 1 (memlayout.h's
#     ISTSTACKS_BASE and param.h's sizes), its CR2 and %rsp in the boot stack's guard
#     page, or at the %rsp the test set;
#   - the timer's rate against the host's clock. Under TCG the guest's
#     timers follow the host's clock, but a loaded host delivers ticks
#     late (QEMU then coalesces them), so the rate measured over about
#     2.5 s must lie within RATE_TOLERANCE of the rate the kernel printed:
#     wide enough for a busy grader, narrow enough that an uncalibrated
#     timer (a guessed count) fails.
# A kernel that panics before printing what a test waits for fails that
# test at once (the handout's stub of trap() panics on every exception).

import re
import time

from gradelib import test, Fail, seed_draws, excerpt, expect_alive as wait_for

RATE_TOLERANCE = (0.5, 1.5)     # measured / printed timer rate
CHAIN_END = ["selftest_run", "main", "entry64_high"]


## What the tree's kernel is made of ###########################################

def layout(t):
    return t.tree.consts()


def symbols(t):
    """{name: (address, size)} of nm -S of build/kernel."""
    return {s.name: (s.addr, s.size) for s in t.tree.symbols()}


def unmapped_addr(L, draws):
    """traptest.c's unmapped_addr()."""
    page = 1 + next(draws) % 0x10000
    return L["MMIO_BASE"] - page * L["PGSIZE"] + next(draws) % L["PGSIZE"]


## Reading a report ##############################################################

HEADER = re.compile(r"^trap: (.+) \(vector (\d+)\) on cpu (\d+) in (kernel|user) mode$", re.M)
FRAME = re.compile(r"^  #(\d+) 0x([0-9a-f]{16}) (?:(\S+)\+0x([0-9a-f]+)|\?)$")


class Report:
    """The fields of the first trap report in text (after its header line)."""

    def __init__(self, t, text, what):
        m = HEADER.search(text)
        t.check(m is not None, f"{what}: the kernel printed no report "
                "('trap: NAME (vector N) on cpu C in kernel mode')", got=tail_of(text))
        self.name, self.vector, self.cpu, self.mode = m[1], int(m[2]), int(m[3]), m[4]
        body = text[m.end():]
        nxt = HEADER.search(body)
        self.text = body[:nxt.start()] if nxt else body
        self.regs = {k: int(v, 16) for k, v in
                     re.findall(r"\b(r[a-z0-9]+|cs|ss|rflags)\s+(0x[0-9a-f]+)", self.field("rax")
                                + " " + self.field("rsi") + " " + self.field("r9")
                                + " " + self.field("r13") + " " + self.field("rsp"))}
        rip = re.search(r"^trap: rip (0x[0-9a-f]{16})(?: (\S+)\+0x([0-9a-f]+))?$", self.text, re.M)
        t.check(rip is not None, f"{what}: no 'trap: rip ADDR FUNCTION+0xOFF' line",
                got=tail_of(self.text))
        self.rip, self.rip_name = int(rip[1], 16), rip[2]
        self.rip_off = int(rip[3], 16) if rip[3] else None
        self.frames = []
        lines = self.text.split("\nbacktrace:\n", 1)
        if len(lines) == 2:
            for line in lines[1].splitlines():
                f = FRAME.match(line)
                if not f:
                    break
                self.frames.append((int(f[2], 16), f[3] or "?", int(f[4] or "0", 16)))

    def field(self, name):
        m = re.search(rf"^trap: {name} .*$", self.text, re.M)
        return m[0] if m else ""


def tail_of(text, n=12):
    lines = text.strip().splitlines()
    return "\n".join(lines[-n:]) if lines else "(nothing)"


def in_function(t, addr, name):
    """Is addr inside function name? An assembly label (entry64_high) has
    no size in nm: then within a page of it."""
    start, size = symbols(t).get(name, (None, 0))
    return start is not None and start <= addr < start + (size or layout(t)["PGSIZE"])


def check_common(t, r, what, vector, name, func, chain):
    """The report's header, %rip in func (None: %rip is checked by the
    caller), and a backtrace whose frames are a tail of chain + CHAIN_END
    reaching main, each inside the function it names."""
    syms = symbols(t)
    t.check((r.vector, r.name, r.mode) == (vector, name, "kernel"),
            f"{what}: the report's first line", expected=f"trap: {name} (vector {vector}) on cpu 0 "
            "in kernel mode", got=f"trap: {r.name} (vector {r.vector}) on cpu {r.cpu} in {r.mode} mode")
    if func:
        t.check(r.rip_name == func and in_function(t, r.rip, func)
                and syms[func][0] + r.rip_off == r.rip,
                f"{what}: %rip should be in {func} and named so", expected=f"{func}+0x..",
                got=f"{r.rip:#x} {r.rip_name}+{r.rip_off}")
    if chain is None:
        return
    full = chain + CHAIN_END
    names = [f[1] for f in r.frames]
    ok = any(names == full[k:] for k in range(len(full) - 2))
    bad = [f"#{i} {a:#x} {n}" for i, (a, n, o) in enumerate(r.frames)
           if not in_function(t, a - 1, n) or syms[n][0] + o != a]
    t.check(ok and not bad, f"{what}: the backtrace of the interrupted code should be "
            f"the last frames of {', '.join(full)}, each address in its function",
            got=", ".join(names) + ("; wrong: " + "; ".join(bad) if bad else ""))


def boot_report(t, kargs, announce, what):
    """Boot with kargs, wait for the announcement and the end (panic: halted);
    (q, match of announce, Report)."""
    q = t.boot(kargs)
    a = wait_for(q, announce)
    q.expect(r"^panic: halted$")
    return q, a, Report(t, q.output[a.end():], what)


## The tests ####################################################################

@test(0, "trap_boot", scored=False)
def trap_boot(t):
    q = t.boot()
    q.expect(r"^timer: \d+ Hz")
    q.expect(r"nothing more to do")


@test(0, "syscall_msrs", scored=False)
def syscall_msrs(t):
    """The syscall MSRs (set by cpu.c, given): STAR, LSTAR, FMASK, EFER.SCE."""
    L, syms = layout(t), symbols(t)
    q = t.boot("test=syscall_msrs")
    m = q.expect(r"^syscall_msrs: star (0x\w+) lstar (0x\w+) fmask (0x\w+) efer.sce (\d)$")
    star, lstar, fmask = (int(m[i], 16) for i in (1, 2, 3))
    want = L["FL_IF"] | L["FL_TF"] | L["FL_DF"] | L["FL_AC"]
    t.check(star == (L["SEG_UCODE32"] << 48 | L["SEG_KCODE"] << 32) and
            lstar == syms["syscall_entry"][0] and fmask & want == want and m[4] == "1",
            "syscall's MSRs", got=m[0])


@test(8, "trap_divide")
def trap_divide(t):
    seed = t.new_seed()
    n = next(seed_draws(seed))
    q, a, r = boot_report(t, f"test=trap_divide seed={seed}",
                          r"^trap_divide: dividing (\d+) by zero in divide_fault$", "divide")
    t.check(int(a[1]) == n, f"trap_divide (seed={seed}) divides {n}", got=a[0])
    check_common(t, r, f"divide error (seed={seed})", 0, "divide error", "divide_fault",
                 ["divide_test"])
    t.check(r.regs.get("rax") == n, "the report's rax should hold the dividend", got=r.field("rax"))
    wait_for_panic(t, q, "divide error", "divide_fault")


def wait_for_panic(t, q, name, func):
    t.check(re.search(rf"^panic: trap: {name} in {func}$", q.output, re.M) is not None,
            f"the report should end in 'panic: trap: {name} in {func}'",
            got=re.findall(r"^panic: .*$", q.output, re.M))


@test(6, "trap_illop")
def trap_illop(t):
    q, a, r = boot_report(t, "test=trap_illop", r"^trap_illop: ud2 in illop_fault$", "ud2")
    check_common(t, r, "invalid opcode", 6, "invalid opcode", "illop_fault", ["illop_test"])
    t.check(r.field("error") == "trap: error 0x0", "error code 0", got=r.field("error"))
    wait_for_panic(t, q, "invalid opcode", "illop_fault")
    # ud2 is illop_fault's first instruction: the panic's backtrace passes
    # through the trap's frame, which holds that address, not a return address.
    panic = q.output[q.output.index("panic: trap: invalid opcode"):]
    frames = [FRAME.match(l) for l in panic.splitlines()[2:]]
    start = symbols(t)["illop_fault"][0]
    t.check(any(f and int(f[2], 16) == start and f[3] == "illop_fault" and f[4] == "0"
                for f in frames), "the panic's backtrace names the trap's frame "
            f"illop_fault+0x0 at {start:#x}", got=excerpt(panic, 600))


@test(8, "trap_gp")
def trap_gp(t):
    seed = t.new_seed()
    d = seed_draws(seed)
    addr = (1 << 47) + (next(d) << 12) + next(d) % layout(t)["PGSIZE"]
    q, a, r = boot_report(t, f"test=trap_gp seed={seed}",
                          r"^trap_gp: reading (0x[0-9a-f]+) \(not canonical\) in gp_fault$", "gp")
    t.check(int(a[1], 16) == addr, f"trap_gp (seed={seed}) reads {addr:#x}", got=a[0])
    check_common(t, r, f"general protection (seed={seed})", 13, "general protection",
                 "gp_fault", ["gp_test"])
    t.check(r.field("error") == "trap: error 0x0", "a non-canonical address gives error code 0",
            got=r.field("error"))
    wait_for_panic(t, q, "general protection", "gp_fault")


PF_ERROR = re.compile(r"^trap: error 0x([0-9a-f]+): (present|not present), (read|write), "
                      r"(kernel|user), (data|fetch)(, reserved bit set)?$", re.M)
LEVELS = ["pml4e", "pdpte", "pde", "pte"]


def pagefault_case(t, kind, seed):
    """Boot test=pagefault kind=KIND and check its report field by field."""
    L, syms = layout(t), symbols(t)
    d = seed_draws(seed)
    if kind == "text":
        lo, hi = syms["text_start"][0], syms["etext"][0]
        addr = lo + next(d) % (hi - lo)
    elif kind == "nx":
        addr = syms["nx_target"][0] + next(d) % 256
    elif kind == "null":
        addr = next(d) % L["PGSIZE"]
    else:
        addr = unmapped_addr(L, d)
    what = f"page fault, kind={kind} seed={seed}"
    q, a, r = boot_report(t, f"test=pagefault kind={kind} seed={seed}",
                          rf"^pagefault: {kind} at (0x[0-9a-f]+)$", what)
    t.check(int(a[1], 16) == addr, f"{what}: the test touches {addr:#x}", got=a[0])
    nx = re.search(r"^vm: .* NX on", q.output, re.M) is not None
    write = kind in ("write", "text")
    fetch = kind in ("fetch", "nx") and nx
    present = kind in ("text", "nx")
    err = (L["PF_P"] if present else 0) | (L["PF_W"] if write else 0) | (L["PF_I"] if fetch else 0)
    cr2 = re.search(r"^trap: cr2 (0x[0-9a-f]{16})", r.text, re.M)
    t.check(cr2 is not None and int(cr2[1], 16) == addr, f"{what}: CR2", expected=hex(addr),
            got=r.field("cr2"))
    e = PF_ERROR.search(r.text)
    words = ("present" if present else "not present", "write" if write else "read", "kernel",
             "fetch" if fetch else "data", None)
    t.check(e is not None and int(e[1], 16) == err and e.groups()[1:] == words,
            f"{what}: the error code and its bits",
            expected=f"trap: error {err:#x}: {', '.join(w for w in words if w)}",
            got=r.field("error"))
    walk = re.search(rf"^trap: walk 0x{addr:016x}:((?: \w+ 0x[0-9a-f]+)+)$", r.text, re.M)
    t.check(walk is not None, f"{what}: a 'trap: walk {addr:#018x}: pml4e 0x... ...' line",
            got=r.field("walk"))
    entries = re.findall(r"(\w+) (0x[0-9a-f]+)", walk[1])
    names = [n for n, _ in entries]
    last = int(entries[-1][1], 16)
    leaf = names[-1] == "pte" or last & L["PTE_PS"]
    ok = names == LEVELS[:len(names)] and all(int(v, 16) & L["PTE_P"] for _, v in entries[:-1])
    if present:
        ok = ok and last & L["PTE_P"] and leaf and \
            (last & L["PTE_ADDR"]) == ((addr - L["KERNBASE"]) & ~(L["PGSIZE"] - 1)) and \
            (not write or not last & L["PTE_W"]) and (kind != "nx" or last & L["PTE_NX"])
    else:
        ok = ok and not last & L["PTE_P"]
    t.check(ok, f"{what}: the walk should go down the levels in order, every entry present "
            "but " + ("none: the last is the page's own, present, read-only or NX, mapping "
                      "the kernel image's physical page" if present else "the last"),
            got=walk[0])
    if kind in ("fetch", "nx"):
        t.check(r.rip == addr, f"{what}: a fetch fault's %rip is the address fetched",
                expected=hex(addr), got=hex(r.rip))
        check_common(t, r, what, 14, "page fault", None, ["pagefault_test"])
    else:
        func = "pf_write" if write else "pf_read"
        check_common(t, r, what, 14, "page fault", func, ["pagefault_test"])
        wait_for_panic(t, q, "page fault", func)


@test(15, "pagefault_notpresent")
def pagefault_notpresent(t):
    """Read, write and fetch at seeded addresses where nothing is mapped."""
    for kind in ("read", "write", "fetch"):
        pagefault_case(t, kind, t.new_seed())


@test(15, "pagefault_protection")
def pagefault_protection(t):
    """A write to kernel text, a fetch from NX data, a NULL dereference."""
    for kind in ("text", "nx", "null"):
        pagefault_case(t, kind, t.new_seed())


@test(8, "breakpoint")
def breakpoint(t):
    """int3 in the kernel: reported each time, and the kernel goes on."""
    seed = t.new_seed()
    n = 1 + next(seed_draws(seed)) % 4
    q = t.boot(f"test=breakpoint seed={seed}")
    smap = wait_for(q, rf"^breakpoint: {n} int3 in brkpt_hit(, with RFLAGS.AC set)?$")[1]
    m = wait_for(q, r"^breakpoint: (\d+) int3, (\d+) reported, all came back$")
    t.check((int(m[1]), int(m[2])) == (n, n), f"breakpoint (seed={seed}): {n} int3, each "
            "reported once", got=m[0])
    parts = HEADER.split(q.output)
    reports = [Report(t, h.group(0) + q.output[h.end():], "breakpoint")
               for h in HEADER.finditer(q.output)]
    t.check(len(reports) == n and q.output.count("trap: breakpoint: the kernel goes on") == n,
            f"{n} reports, each followed by 'trap: breakpoint: the kernel goes on'",
            got=len(parts))
    L, syms = layout(t), symbols(t)
    for r in reports:
        check_common(t, r, "breakpoint", 3, "breakpoint", "brkpt_hit", [])
        t.check(r.rip == syms["brkpt_hit"][0] + r.rip_off and r.rip_off > 0,
                "a breakpoint's %rip is the instruction after int3", got=hex(r.rip))
        # SMAP's override (AC) is the interrupted code's, never the handler's.
        h = re.search(r"rflags (0x[0-9a-f]+)$", r.field("handler"))
        ac = L["FL_AC"]
        t.check(h is not None and not int(h[1], 16) & ac and
                bool(r.regs["rflags"] & ac) == bool(smap),
                "RFLAGS.AC: " + ("set in the interrupted code, " if smap else "")
                + "clear in the handler", got=r.field("rflags") + "\n" + r.field("handler"))


def check_ist(t, r, what, ist):
    """The handler's stack: IST stack ist of CPU 0, by nm and param.h."""
    L, syms = layout(t), symbols(t)
    size = L["PGSIZE"] + L["ISTSTACKSIZE"]
    lo = L["ISTSTACKS_BASE"] + (ist - 1) * size + L["PGSIZE"]
    m = re.search(r"^trap: handler on IST stack (\d+) \[(0x[0-9a-f]+), (0x[0-9a-f]+)\), "
                  r"rsp (0x[0-9a-f]+), rflags 0x[0-9a-f]+$", r.text, re.M)
    t.check(m is not None and int(m[1]) == ist and int(m[2], 16) == lo
            and int(m[3], 16) == lo + L["ISTSTACKSIZE"] and lo <= int(m[4], 16) < lo + L["ISTSTACKSIZE"],
            f"{what}: the handler must run on IST stack {ist} "
            f"[{lo:#x}, {lo + L['ISTSTACKSIZE']:#x})", got=r.field("handler"))


@test(15, "double_fault")
def double_fault(t):
    """A kernel stack overflow, and a seeded bad %rsp: each a double fault
    reported from IST stack 1."""
    syms, pgsize = symbols(t), layout(t)["PGSIZE"]
    guard = syms["boot_stack_guard"][0]
    q, a, r = boot_report(t, "test=stack_overflow", r"^stack_overflow: recursing", "stack overflow")
    check_common(t, r, "stack overflow", 8, "double fault", "overflow_recurse", None)
    depth = layout(t)["BACKTRACE_DEPTH"]
    t.check([f[1] for f in r.frames] == ["overflow_recurse"] * depth
            and all(in_function(t, a - 1, "overflow_recurse") for a, _, _ in r.frames)
            and re.search(r"^  stopped at frame pointer 0x[0-9a-f]{16}: ", r.text, re.M),
            f"stack overflow: the backtrace should show BACKTRACE_DEPTH ({depth}) frames of "
            "overflow_recurse, then stop", got=", ".join(f[1] for f in r.frames[:3]) + "...")
    check_ist(t, r, "stack overflow", 1)
    cr2 = re.search(r"^trap: cr2 (0x[0-9a-f]{16})", r.text, re.M)
    t.check(cr2 is not None and guard <= int(cr2[1], 16) < guard + pgsize,
            "stack overflow: CR2 should be in the boot stack's guard page",
            expected=f"{guard:#x}..{guard + pgsize - 1:#x}", got=r.field("cr2"))
    t.check(guard <= r.regs.get("rsp", 0) <= guard + pgsize,
            "stack overflow: the interrupted %rsp should be at the guard page",
            got=r.field("rsp"))
    wait_for_panic(t, q, "double fault", "overflow_recurse")

    seed = t.new_seed()
    addr = unmapped_addr(layout(t), seed_draws(seed)) & ~15
    q, a, r = boot_report(t, f"test=bad_rsp seed={seed}", r"^bad_rsp: %rsp <- (0x[0-9a-f]+)",
                          f"bad %rsp (seed={seed})")
    t.check(int(a[1], 16) == addr, f"bad_rsp (seed={seed}) sets %rsp to {addr:#x}", got=a[0])
    check_common(t, r, "bad %rsp", 8, "double fault", "bad_rsp_fault", ["bad_rsp_test"])
    check_ist(t, r, "bad %rsp", 1)
    cr2 = re.search(r"^trap: cr2 (0x[0-9a-f]{16})", r.text, re.M)
    t.check(r.regs.get("rsp") == addr and cr2 is not None and int(cr2[1], 16) == addr - 8,
            f"bad %rsp: the report's rsp should be {addr:#x} and CR2 the push's {addr - 8:#x}",
            got=r.field("cr2") + " / " + r.field("rsp"))


@test(10, "nmi")
def nmi(t):
    """An NMI from QEMU's monitor: reported from IST stack 2, and the kernel
    goes on (its ticks go on)."""
    q = t.boot("test=nmi", monitor=True)
    wait_for(q, r"^nmi: waiting")
    q.monitor("nmi")
    m = wait_for(q, r"^nmi: (\d+) NMI seen; the kernel goes on: (\d+) ticks since$")
    t.check(int(m[2]) > 0, "after the NMI the timer should still tick", got=m[0])
    r = Report(t, q.output, "NMI")
    t.check((r.vector, r.name) == (2, "non-maskable interrupt"), "the NMI's report",
            got=f"{r.name} (vector {r.vector})")
    check_ist(t, r, "NMI", 2)
    t.check(re.search(r"^trap: NMI 1 on cpu 0: the kernel goes on$", q.output, re.M),
            "'trap: NMI 1 on cpu 0: the kernel goes on'")


@test(10, "ticks")
def ticks(t):
    """The timer's rate, measured against the host's clock over ~2.5 s."""
    L = layout(t)
    q = t.boot("test=ticks")
    hz = int(wait_for(q, r"^timer: (\d+) Hz").group(1))
    t.check(abs(hz - L["HZ"]) <= L["HZ"] // 20, f"the kernel should run its timer at HZ "
            f"({L['HZ']})", got=hz)
    first = int(wait_for(q, r"^ticks: (\d+)$").group(1))
    t0 = time.monotonic()
    last, t1 = first, t0
    while True:
        m = wait_for(q, r"^ticks: (\d+|done)$")
        if m[1] == "done":
            break
        last, t1 = int(m[1]), time.monotonic()
    t.check(t1 - t0 > 1 and last > first, "ticks should print several counts", got=(first, last))
    rate = (last - first) / (t1 - t0)
    lo, hi = RATE_TOLERANCE
    t.check(lo * hz <= rate <= hi * hz, f"the timer should tick at the {hz} Hz the kernel says "
            f"(within {lo}x..{hi}x, measured against the host's clock)",
            got=f"{rate:.1f} Hz ({last - first} ticks in {t1 - t0:.2f} s)")


TF_FIELD = re.compile(r"^  (\w+)\s+(0x[0-9a-f]{16})", re.M)


@test(10, "gdb_trapframe")
def gdb_trapframe(t):
    """GDB stops in trap() at a breakpoint's int3; tf prints the frame by
    field, and its rip and rsp are those the kernel's report prints."""
    seed = t.new_seed()
    q = t.boot(f"test=breakpoint seed={seed}", gdb=True)
    out = t.gdb(["hbreak trap if ((struct trapframe *)$rdi)->trapno == 3", "continue", "tf",
                 "detach"])
    t.check(re.search(r"[Bb]reakpoint 1, (0x[0-9a-f]+ in )?trap ", out) is not None,
            "GDB should stop at the breakpoint in trap", got=excerpt(out, 2000))
    fields = dict((n, int(v, 16)) for n, v in TF_FIELD.findall(out))
    want = ["r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8", "rbp", "rdi", "rsi", "rdx",
            "rcx", "rbx", "rax", "trapno", "err", "rip", "cs", "rflags", "rsp", "ss"]
    t.check(list(fields) == want, "tf should print every field of struct trapframe, in order",
            got=excerpt(out, 2000))
    t.check(fields["trapno"] == 3 and in_function(t, fields["rip"], "brkpt_hit"),
            "tf: trapno 3, rip in brkpt_hit", got=excerpt(out, 1500))
    wait_for(q, r"^breakpoint: \d+ int3, \d+ reported, all came back$")
    r = Report(t, q.output, "breakpoint under GDB")
    t.check((r.rip, r.regs.get("rsp")) == (fields["rip"], fields["rsp"]),
            "the kernel's report and GDB's tf should agree on rip and rsp",
            expected=(hex(fields["rip"]), hex(fields["rsp"])),
            got=(hex(r.rip), hex(r.regs.get("rsp", 0))))
