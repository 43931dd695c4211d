"""GDB helpers for kestrel, loaded by .gdbinit; `help x16` etc. say more.

    x16 [N]              the next N instructions at CS:IP, decoded as 16-bit code
    cpumode              the CPU's mode, and CR0, CR3, CR4, EFER bit by bit
    e820                 the BIOS memory map that the boot sector stored
    kestrel-stop-hook    for .gdbinit's hook-stop: x16 1 when in 16-bit code
#if LAB >= 2
    pte ADDR             how the page tables map ADDR, level by level
    ptmap START END      the mapped runs between two addresses
#endif
#if LAB >= 3
    tf [ADDR]            a trap frame, field by field
#endif
#if LAB >= 4
    ps                   the processes: pid, state, CPU, name, user rip
    uprog NAME           load user program NAME's symbols (build/user/NAME)
#endif
#if LAB >= 5
    cpus                 the CPUs that are up: GDB thread, mode, rip, process, locks
#endif
#if LAB >= 6
    ps                   also, under each SLEEPING process, what it sleeps on
    fds PID              a process's open files: fd, type, ref, r/w; a pipe's counters
    fpu PID              a process's saved x87/SSE/AVX registers: FCW, MXCSR, XMM, YMM
#endif
#if LAB >= 7
    disk                 the IDE request queue: block, read/write, dma/pio, who waits
    bcache               the buffer cache in LRU order: block, valid, refcnt, lock holder
    irqs                 the disk's and the UART's interrupts, per CPU and by vector
#endif

QEMU's gdbstub always describes the CPU as x86-64, so in real mode `x/i $pc`
decodes 64-bit code, at IP instead of CS base + IP; nor does GDB see CS's
hidden part (base; 16-, 32- or 64-bit code). QEMU's monitor does, so the
helpers ask it (`monitor info registers -a`). At reset, say, CS is f000 but
its base 0xffff0000: the CPU fetches at 0xfffffff0, not at the $pc 0xfff0.

Constants have one home, the kernel's headers: the helpers read their
values from build/consts, which the build writes with the compiler's
answers for this lab (kern/genconsts.c), and the comments beside them in
kern/mmu.h and kern/trap.h, which explain the bits and vectors shown. The
e820 types are #defines of kern/e820.c, which no header holds: those are
read from that file. Structures (the e820 entry, the trap frame, struct
proc) come from the kernel's debug info. Paths are relative to the tree,
where GDB runs (.gdbinit loads build/kernel so too).
"""

import os
import re
import subprocess
import tempfile

import gdb


class Consts(dict):
    """build/consts's values; a name it lacks (or a tree not built yet:
    make doctor loads this file before the first make) is an error that
    says so when a command asks for it."""

    def __missing__(self, name):
        raise gdb.GdbError("gdbhelpers: build/consts has no %s: build the kernel first (make)"
                           % name)


def read_consts():
    """{NAME: value} of build/consts: numbers as ints, strings as they are."""
    values = Consts()
    try:
        with open(os.path.join("build", "consts")) as f:
            for line in f:
                if not line.startswith("#") and line.strip():
                    name, value = line.split()
                    values[name] = int(value, 16) if value.startswith("0x") else value
    except OSError:
        pass
    return values


def comments(filename):
    """{NAME: comment} of the #defines in kern/filename that have one."""
    with open(os.path.join("kern", filename)) as f:
        return dict(re.findall(r"^#define (\w+)\b.*?//[ \t]*(.*)$", f.read(), re.M))


def e820_types():
    """{type: name} of kern/e820.c's E820_* types: 1 is "usable", and so on."""
    with open(os.path.join("kern", "e820.c")) as f:
        return {int(v): n.lower() for n, v in re.findall(r"^#define E820_(\w+)\s+(\d+)\b",
                                                          f.read(), re.M)}


CONSTS = read_consts()
MMU_NOTES = comments("mmu.h")
E820_TYPES = e820_types()
MASK64 = (1 << 64) - 1


class Cpu:
    """The state of the CPU GDB has selected, as QEMU's monitor shows it:
    regs (EIP or RIP, EFL, CR0, CR3, CR4, EFER as ints), cs, cs_base,
    cs_limit, code (QEMU's tag for CS: CS16, CS32, CS64, or "" when CR0.PE
    is clear), gdt (base, limit)."""

    def __init__(self):
        text = gdb.execute("monitor info registers -a", to_string=True).replace("\r", "")
        blocks = re.split(r"^CPU#(\d+)\s*$", text, flags=re.M)
        blocks = dict(zip((int(n) for n in blocks[1::2]), blocks[2::2]))
        thread = gdb.selected_thread()
        index = (thread.ptid[1] or thread.ptid[2]) - 1 if thread else 0  # QEMU: CPU n is thread n+1
        if index not in blocks:
            raise gdb.GdbError("QEMU's monitor shows no CPU #%d" % index)
        block = blocks[index]
        self.regs = {k: int(v, 16) for k, v in re.findall(r"\b([A-Z][A-Z0-9]*) ?=\s*([0-9a-f]+)\b", block)}
        m = re.search(r"^CS =(\w+) (\w+) (\w+) \w+(?: DPL=\d (CS\d\d))?", block, re.M)
        self.cs, self.cs_base, self.cs_limit = (int(x, 16) for x in m.group(1, 2, 3))
        self.code = m[4] or ""
        self.gdt = [int(x, 16) for x in re.search(r"^GDT=\s*(\w+) (\w+)", block, re.M).groups()]
        self.ip = self.regs.get("RIP", self.regs.get("EIP"))

    def mode(self):
        """The CPU's mode, in words."""
        if not self.regs["CR0"] & CONSTS["CR0_PE"]:
            return "real mode (16-bit code)"
        if self.code == "CS64":
            return "64-bit long mode"
        bits = self.code[2:] or "?"
        if self.regs["EFER"] & CONSTS["EFER_LMA"]:
            return "compatibility mode (%s-bit code under long mode)" % bits
        return "%s-bit protected mode" % bits

    def code16(self):
        return not self.regs["CR0"] & CONSTS["CR0_PE"] or self.code == "CS16"


def objdump16(code, vma):
    """[(address, hex bytes, instruction)] for code at linear vma, decoded as
    i8086 code by objdump (GDB's own disassembler follows the architecture,
    which must stay i386:x86-64 for QEMU's register packets)."""
    with tempfile.NamedTemporaryFile(prefix="kestrel-x16-") as f:
        f.write(code)
        f.flush()
        flavor = ["-M", "intel"] if gdb.parameter("disassembly-flavor") == "intel" else []
        out = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i8086", "-z",
                              "--insn-width=15", "--adjust-vma=%#x" % vma] + flavor + [f.name],
                             stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return [(int(a, 16), raw.strip(), " ".join(text.split(None, 1)))
            for a, raw, text in re.findall(r"^ *([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$", out, re.M)]


def command(name, category):
    """Make the function below it the GDB command `name`, its docstring the
    help; an argument where none is wanted is an error, and so is memory
    GDB cannot read (a kernel address before paging is on, say)."""
    def register(func):
        class Command(gdb.Command):
            __doc__ = func.__doc__

            def invoke(self, arg, from_tty):
                self.dont_repeat()
                if arg.strip() and func.__code__.co_argcount == 0:
                    raise gdb.GdbError("usage: %s (no arguments)" % name)
                try:
                    func(arg) if func.__code__.co_argcount else func()
                except gdb.MemoryError as e:
                    raise gdb.GdbError("%s: %s" % (name, e))
        Command(name, category)
        return func
    return register


def x16(count):
    cpu = Cpu()
    if not cpu.code16():
        raise gdb.GdbError("x16: the CPU is in %s, not 16-bit code: use x/%di $pc"
                           % (cpu.mode(), count))
    ip = cpu.ip & 0xFFFF
    linear = (cpu.cs_base + ip) & MASK64
    # An instruction is at most 15 bytes; the segment ends at 64 KiB.
    code = bytes(gdb.selected_inferior().read_memory(linear, min(15 * count, 0x10000 - ip)))
    for i, (addr, raw, text) in enumerate(objdump16(code, linear)[:count]):
        print("%s %04x:%04x  %#07x  %-15s %s" % ("=>" if i == 0 else "  ", cpu.cs,
                                                 (addr - cpu.cs_base) & 0xFFFF, addr, raw, text))


@command("x16", gdb.COMMAND_DATA)
def x16_command(arg):
    """Show the next N instructions at CS:IP decoded as 16-bit code (default 8).

Usage: x16 [N]

    => 0000:7c00  0x07c00  fa              cli

CS:IP, the linear address the CPU fetches from (CS's base from QEMU's
monitor, plus IP), the bytes, the instruction; => marks the next one. Works
in real mode and in 16-bit protected mode. At reset it shows f000:fff0 at
0xfffffff0 (CS's base is 0xffff0000 until the first far jump). Honours
`set disassembly-flavor intel`."""
    args = gdb.string_to_argv(arg)
    if len(args) > 1 or args and not (args[0].isdigit() and 0 < int(args[0]) <= 4096):
        raise gdb.GdbError("usage: x16 [N], N from 1 to 4096")
    x16(int(args[0]) if args else 8)


def bits(value, prefix):
    """'PE=1 WP=0 PG=1' for the bits kern/mmu.h names PREFIX_*, then each set
    one with its comment, and any set bits mmu.h does not name."""
    named = [(n[len(prefix):], v, MMU_NOTES.get(n, "")) for n, v in CONSTS.items()
             if n.startswith(prefix)]
    line = " ".join("%s=%d" % (n, bool(value & v)) for n, v, _ in named)
    for n, v, c in named:
        if value & v:
            line += "\n        %s: %s" % (n, c)
    other = value & ~sum(v for _, v, _ in named)
    return line + ("\n        other set bits: %#x (not named in kern/mmu.h)" % other if other else "")


@command("cpumode", gdb.COMMAND_STATUS)
def cpumode():
    """Show the CPU's mode and decode CR0, CR3, CR4 and EFER.

Usage: cpumode

The mode follows from CR0.PE, EFER.LMA and the code segment's descriptor
(its L and D bits), which GDB cannot see: the whole state comes from QEMU's
monitor, which tags CS as CS16, CS32 or CS64 once CR0.PE is set. Bits are
named as kern/mmu.h names them."""
    cpu = Cpu()
    r = cpu.regs
    print("mode: %s" % cpu.mode())
    print("CS:   %#06x  base %#x  limit %#x  %s" % (cpu.cs, cpu.cs_base, cpu.cs_limit,
                                                   cpu.code or "(real mode: no descriptor)"))
    print("IP:   %#x  (linear %#x)" % (cpu.ip, (cpu.cs_base + cpu.ip) & MASK64))
    print("GDTR: base %#x  limit %#x" % tuple(cpu.gdt))
    print("CR0:  %#010x  %s" % (r["CR0"], bits(r["CR0"], "CR0_")))
    print("CR3:  %#010x  %s" % (r["CR3"], "top page table at physical %#x" % (r["CR3"] & ~0xFFF)
                                if r["CR0"] & CONSTS["CR0_PG"] else "(paging is off)"))
    print("CR4:  %#010x  %s" % (r["CR4"], bits(r["CR4"], "CR4_")))
    print("EFER: %#010x  %s" % (r["EFER"], bits(r["EFER"], "EFER_")))


def e820_offset(cpu):
    """Where the kernel sees physical memory: KERNBASE + physical once paging is on."""
    return CONSTS["KERNBASE"] if cpu.regs["CR0"] & CONSTS["CR0_PG"] else 0


@command("e820", gdb.COMMAND_DATA)
def e820():
    """Show the BIOS e820 memory map that the boot sector stored.

Usage: e820

The boot sector stores it at physical E820_MAP (kern/memlayout.h): a uint32
count, then from E820_ENTRIES the entries, struct e820_entry of kern/e820.c.
Once paging is on, it is read through KERNBASE + physical. One line per
entry, as the kernel's boot banner prints them, then the usable total."""
    offset = e820_offset(Cpu())

    def at(phys, type):
        return gdb.Value(offset + phys).cast(gdb.lookup_type(type).pointer())
    count = int(at(CONSTS["E820_MAP"], "uint32").dereference())
    if not 0 < count <= CONSTS["E820_MAX"]:
        raise gdb.GdbError("e820: no map stored yet (the count at %#x is %d): has the "
                           "boot sector run?" % (CONSTS["E820_MAP"], count))
    print("e820: %d entries at physical %#x" % (count, CONSTS["E820_ENTRIES"]))
    entries, usable = at(CONSTS["E820_ENTRIES"], "struct e820_entry"), 0
    for e in (entries[i] for i in range(count)):
        base, length, kind = int(e["base"]), int(e["length"]), int(e["type"])
        usable += length if E820_TYPES.get(kind) == "usable" else 0
        print("  [mem %#018x-%#018x] %s" % (base, (base + length - 1) & MASK64,
                                            E820_TYPES.get(kind, "type %d" % kind)))
    print("usable: %.1f MiB" % (usable / (1 << 20)))


@command("kestrel-stop-hook", gdb.COMMAND_OBSCURE)
def stop_hook():
    """For .gdbinit's hook-stop: in 16-bit code, show the instruction at CS:IP
(x16 1), since GDB's own display reads it at the wrong address and decodes
it as 64-bit code. Elsewhere it prints nothing, and it never fails a stop."""
    try:
        if Cpu().code16():
            x16(1)
    except (gdb.error, gdb.GdbError, OSError, subprocess.CalledProcessError):
        pass
#if LAB >= 2


## Page tables: pte and ptmap (lab 2) ########################################
#
# Both read the tables from physical memory through QEMU's monitor (xp),
# starting at CR3, so they work whatever the kernel maps. Bits are named
# as kern/mmu.h names them (PTE_*).

PTE = {n[len("PTE_"):]: v for n, v in CONSTS.items() if n.startswith("PTE_")}
LEVEL_NAMES = {4: "PML4", 3: "PDPT", 2: "PD", 1: "PT"}
LOW48 = (1 << 48) - 1


def e820_offset(cpu):
    """Lab 2's kernel no longer maps low memory at KERNBASE: read it through
    the direct map once the kernel's own page table is in use."""
    if not cpu.regs["CR0"] & CONSTS["CR0_PG"]:
        return 0
    # (The page at KERNBASE itself holds the local APIC from lab 3 on: ask
    # about the map's own page.)
    at = CONSTS["KERNBASE"] + CONSTS["E820_MAP"]
    return CONSTS["DIRECTMAP_BASE"] if translate(at, cpu.regs["CR3"])[1] is None \
        else CONSTS["KERNBASE"]


def read_table(pa, cache):
    """The 512 entries of the table page at physical pa."""
    if pa not in cache:
        out = gdb.execute("monitor xp /512gx %#x" % pa, to_string=True)
        cache[pa] = [int(v, 16) for line in re.findall(r"^\s*[0-9a-f]+:(.*)$", out, re.M)
                     for v in line.split()]
    return cache[pa]


def span(level):
    return 1 << (12 + 9 * (level - 1))


def access(entry, eff):
    """Combine an entry's bits with the levels above it: writable and user
    only if every level says so, no-execute if any level does."""
    w, u, nx = eff
    return (w and bool(entry & PTE["W"]), u and bool(entry & PTE["U"]), nx or bool(entry & PTE["NX"]))


def perms(eff, entry):
    w, u, nx = eff
    return "r%s%s%s%s" % ("w" if w else "-", "-" if nx else "x", " user" if u else "",
                          " global" if entry & PTE["G"] else "")


def canonical(va):
    return va | (MASK64 ^ LOW48) if va >> 47 & 1 else va


def translate(va, cr3, cache=None):
    """([(level, index, entry)], leaf) for va; leaf is (pa, size, eff, entry)
    or None if va is not mapped."""
    cache = {} if cache is None else cache
    table, path, eff = cr3 & PTE["ADDR"], [], (True, True, False)
    for level in (4, 3, 2, 1):
        index = (va >> (12 + 9 * (level - 1))) & 511
        entry = read_table(table, cache)[index]
        path.append((level, index, entry))
        if not entry & PTE["P"]:
            return path, None
        eff = access(entry, eff)
        if level == 1 or entry & PTE["PS"]:
            size = span(level)
            return path, ((entry & PTE["ADDR"] & ~(size - 1)) + va % size, size, eff, entry)
        table = entry & PTE["ADDR"]


def size_name(size):
    return {1 << 12: "4K", 1 << 21: "2M", 1 << 30: "1G"}[size]


def address(arg, what):
    try:
        return int(gdb.parse_and_eval(arg)) & MASK64
    except gdb.error as e:
        raise gdb.GdbError("%s: %s" % (what, e))


@command("pte", gdb.COMMAND_DATA)
def pte_command(arg):
    """Show how the page tables in CR3 map a virtual address.

Usage: pte ADDR        (ADDR: a number or an expression, e.g. &end or $rip)

One line per level walked (PML4, PDPT, PD, PT): the index, the entry and
its bits as kern/mmu.h names them; then the translation, the page size and
what the page allows, all levels combined:

    0xffffffff80105000 -> 0x0000000000105000  4K page  r-x global

r, w or -, x or - (no-execute), "user" if ring 3 may use it, "global" if
it survives a CR3 load. Or "not mapped" and the level where the walk ends."""
    if not arg.strip():
        raise gdb.GdbError("usage: pte ADDR")
    va = address(arg, "pte")
    cr3 = Cpu().regs["CR3"]
    path, leaf = translate(va, cr3)
    print("pte %#x (CR3 %#x)" % (va, cr3))
    for level, index, entry in path:
        names = [n for n, v in PTE.items() if n != "ADDR" and entry & v == v]
        print("  %-4s[%3d] %#018x  %s" % (LEVEL_NAMES[level], index, entry, " ".join(names)))
    if leaf is None:
        print("%#x not mapped: %s[%d] is not present" % (va, LEVEL_NAMES[path[-1][0]], path[-1][1]))
        return
    pa, size, eff, entry = leaf
    print("%#018x -> %#018x  %s page  %s" % (va, pa, size_name(size), perms(eff, entry)))


def leaves(table, level, base, lo, hi, eff, cache):
    """(va, pa, size, permissions) of each page mapped in [lo, hi) (48-bit
    addresses) under the level-`level` table at physical table."""
    first, last = max(0, (lo - base) // span(level)), min(511, (hi - 1 - base) // span(level))
    entries = read_table(table, cache)
    for i in range(first, last + 1):
        entry, va = entries[i], base + i * span(level)
        if not entry & PTE["P"]:
            continue
        e = access(entry, eff)
        if level == 1 or entry & PTE["PS"]:
            yield va, entry & PTE["ADDR"] & ~(span(level) - 1), span(level), perms(e, entry)
        else:
            yield from leaves(entry & PTE["ADDR"], level - 1, va, lo, hi, e, cache)


@command("ptmap", gdb.COMMAND_DATA)
def ptmap_command(arg):
    """List what the page tables in CR3 map between two virtual addresses.

Usage: ptmap START END        (END excluded)

One line per run of pages of one size with the same permissions whose
physical addresses follow on:

    0xffff800000000000-0xffff8001ffffffff -> 0x0000000000000000  1G x8  rw- global

Permissions as pte shows them."""
    args = gdb.string_to_argv(arg)
    if len(args) != 2:
        raise gdb.GdbError("usage: ptmap START END")
    lo, hi = (address(a, "ptmap") & LOW48 for a in args)
    if hi <= lo:
        raise gdb.GdbError("ptmap: END must be above START")
    run = None
    for va, pa, size, p in leaves(Cpu().regs["CR3"] & PTE["ADDR"], 4, 0, lo, hi,
                                  (True, True, False), {}):
        if run and run[0] + run[3] * size == va and run[1] + run[3] * size == pa \
                and run[2] == size and run[4] == p:
            run[3] += 1
            continue
        if run:
            print_run(*run)
        run = [va, pa, size, 1, p]
    if run:
        print_run(*run)
    else:
        print("nothing mapped in %#x-%#x" % (canonical(lo), canonical(hi - 1)))


def print_run(va, pa, size, count, p):
    print("%#018x-%#018x -> %#018x  %s x%d  %s" % (canonical(va), canonical(va + count * size - 1),
                                                   pa, size_name(size), count, p))
#endif
#if LAB >= 3


@command("tf", gdb.COMMAND_DATA)
def tf_command(arg):
    """Print a trap frame field by field (kern/trap.h's struct trapframe).

Usage: tf [EXPR]

EXPR is a struct trapframe pointer; by default the variable tf (in trap()
and the functions it calls), or, at trap's first instruction, where tf
still sits in %rdi, that register. The fields, their order and their
types come from the kernel's debug info, so the command follows the struct
when it changes. trapno is shown with the exception's name, rip with the
function it is in.

    (gdb) hbreak trap if ((struct trapframe *)$rdi)->trapno == 3
    (gdb) continue
    (gdb) tf"""
    ptr = gdb.lookup_type("struct trapframe").pointer()
    try:
        frame = gdb.parse_and_eval(arg.strip() or "tf")
        if frame.is_optimized_out:
            raise gdb.error("optimized out")
    except gdb.error:
        if arg.strip():
            raise
        frame = gdb.parse_and_eval("$rdi")
    frame = frame.cast(ptr)
    print("trapframe at %#x:" % (int(frame) & MASK64))
    for field in ptr.target().fields():
        value = int(frame.dereference()[field.name]) & MASK64
        note = ""
        if field.name == "trapno":
            note = trap_name(value)
        elif field.name == "rip":
            note = str(gdb.parse_and_eval("(void (*)(void))%#x" % value)).split(" ", 1)[-1]
        print("  %-8s %#018x  %s" % (field.name, value, note))


def trap_name(v):
    """The kernel's name for vector v: its exception_names[] (trap.c), or
    for an interrupt (and T_SYSCALL) the comment of its T_* in trap.h."""
    try:
        names = gdb.parse_and_eval("exception_names")
        if v < names.type.range()[1] + 1 and int(names[v]) != 0:
            return names[v].string()
    except gdb.error:
        pass
    notes = comments("trap.h")
    for name, value in CONSTS.items():         # vectors only: see kern/genconsts.c
        if name.startswith("T_") and value == v and v >= 32:
            return notes.get(name, "")
    return ""
#endif
#if LAB >= 4


def running():
    """{address of a struct proc: the CPU running it}, from cpus[i].proc of
    every CPU (cpus[] has NCPU entries: one until lab 5)."""
    try:
        cpus = gdb.parse_and_eval("cpus")
        procs = [int(cpus[i]["proc"]) for i in range(cpus.type.range()[1] + 1)]
    except gdb.error:
        return {}
    return {p: i for i, p in enumerate(procs) if p}


@command("ps", gdb.COMMAND_DATA)
def ps_command(arg):
    """List the processes of procs[] (kern/proc.c) that are in use.

Usage: ps

One line each: slot, pid, state, the CPU it runs on, name, parent's pid,
and the user %rip saved in its trap frame: where it last entered the
kernel (while a process runs in user mode, that is not where it is now).
Those running now (some CPU's cpus[i].proc) are marked with *. States are
the names of enum procstate.

    slot  pid  state     cpu  name             ppid  user rip
      0*    1  running     0  init                0  0x40128f"""
    procs = gdb.parse_and_eval("procs")
    count = procs.type.range()[1] + 1
    current = running()
    print("slot  pid  state     cpu  name             ppid  user rip")
    for i in range(count):
        p = procs[i]
        state = str(p["state"])
        if state == "UNUSED":
            continue
        parent = int(p["parent"])
        ppid = int(p["parent"].dereference()["pid"]) if parent else 0
        rip = int(p["tf"].dereference()["rip"]) if int(p["tf"]) else 0
        cpu = current.get(int(p.address), "")
        print("%3d%s %4d  %-8s  %3s  %-15s  %4d  %#x" % (i, " " if cpu == "" else "*",
                                                         int(p["pid"]), state.lower(), cpu,
                                                         p["name"].string(), ppid, rip))
        waits = sleeping_on(p, procs)
        if waits:
            print("           %s" % waits)


def sleeping_on(p, procs):
    """For ps: a line that says what process p sleeps on, or None. No
    process sleeps before lab 6, which defines this again."""
    return None


@command("uprog", gdb.COMMAND_FILES)
def uprog_command(arg):
    """Load the symbols of user program NAME, to break in it.

Usage: uprog NAME

Reads build/user/NAME (the program with its symbols; the kernel holds a
copy without them). Every program is linked at the same address, so a
breakpoint at an address in one stops in any program that runs code
there: boot with that program alone (make qemu-gdb INIT=NAME).

    (gdb) uprog hello
    (gdb) hbreak user/hello.c:main
    (gdb) continue

(Plain `main` would name the kernel's main too.)"""
    name = arg.strip()
    path = os.path.join("build", "user", name)
    if not name or not os.path.isfile(path):
        raise gdb.GdbError("uprog: no program %r (build/user/NAME)" % name)
    gdb.execute("add-symbol-file %s" % path, to_string=True)
    print("uprog: symbols of %s loaded" % path)
#endif
#if LAB >= 5


## SMP: cpus (lab 5) #########################################################
#
# QEMU's gdbstub shows each vCPU as a thread (info threads): "Thread 1.N"
# is QEMU's CPU#N-1. Which of the kernel's cpus[] a thread is, only the CPU
# itself says: cpu_init put &cpus[i] in its %gs base (kern/cpu.c), which
# GDB reads as $gs_base (or $k_gs_base in user mode, after swapgs).

def up_cpus():
    """cpus[i] of each CPU that is up: i < ncpu (kern/acpi.c), self set."""
    try:
        up = [c for c in (gdb.parse_and_eval("cpus[%d]" % i)
                          for i in range(int(gdb.parse_and_eval("ncpu"))))
              if int(c["self"])]
    except gdb.MemoryError:
        raise gdb.GdbError("cpus: cannot read cpus[] at its kernel address: "
                           "paging is not on yet (try after hbreak main)")
    except gdb.error as e:                      # a kernel built with LAB < 5
        raise gdb.GdbError("cpus: %s" % e)
    if not up:
        raise gdb.GdbError("cpus: no CPU is up yet (cpus[0].self is 0: cpu_init has not run)")
    return up


def threads_by_cpu(addresses):
    """{&cpus[i]: (GDB thread number, rip, Cpu)} of the vCPUs whose %gs base
    (or kernel %gs base) is one of addresses; the selected thread and frame
    are put back afterwards."""
    thread, frame, found = gdb.selected_thread(), gdb.selected_frame(), {}
    try:
        for t in gdb.selected_inferior().threads():
            t.switch()
            for reg in ("$gs_base", "$k_gs_base"):
                gs = int(gdb.parse_and_eval(reg)) & MASK64
                if gs in addresses:
                    found[gs] = t.num, int(gdb.parse_and_eval("$pc")) & MASK64, Cpu()
    finally:
        thread.switch()
        frame.select()
    return found


def symbol(addr):
    """addr as function+offset (`info symbol`), or as a number; a user
    program's function (see uprog) as program:function+offset."""
    m = re.match(r"(\S+)(?: \+ (\d+))? in section \S+(?: of \S+/(\S+))?",
                 gdb.execute("info symbol %#x" % addr, to_string=True))
    if not m:
        return "%#x" % addr
    return "%s%s+%s" % (m[3] + ":" if m[3] not in (None, "kernel") else "", m[1], m[2] or 0)


@command("cpus", gdb.COMMAND_STATUS)
def cpus_command():
    """List the CPUs that are up (cpus[], kern/trap.h), one line each.

Usage: cpus

The CPU's id, the GDB thread of its vCPU (`thread N` selects it), its
mode (64-bit once it is in long mode with a 64-bit CS, as cpumode tells),
the function and offset its %rip is at, the process it runs (pid and
name) or "-" (none: the scheduler, or the boot), and the spinlocks it holds, oldest first, each with
where it was taken (the return address acquire() saved in taken_at):

    cpu  thread  mode    rip                  process         spinlocks held
      0       1  64-bit  sys_write+0          pid 1 init      -
      1       2  64-bit  ap_main+65           -               -

    (make qemu-gdb KARGS=test=lock_ok, hbreak kern/test/locktest.c:295)
      0       1  64-bit  lock_ok_test+688     -               ok_a (lk_take+9), ok_c (lk_take+9)

A CPU is up once cpu_init has set cpus[i].self. Its thread is the one
whose %gs base is &cpus[i]: QEMU numbers threads in vCPU order, which is
the kernel's order (boot CPU first, then the MADT's) under plain -smp,
but nothing promises it. "?" for a CPU no thread claims (yet)."""
    cpus = up_cpus()
    threads = threads_by_cpu({int(c.address) & MASK64 for c in cpus})
    print("cpu  thread  mode    rip                  process         spinlocks held")
    for c in cpus:
        num, rip, cpu = threads.get(int(c.address) & MASK64, ("?", None, None))
        mode = "?" if cpu is None else "64-bit" if cpu.code == "CS64" else cpu.mode()
        p = c["proc"]
        proc = "pid %d %s" % (int(p["pid"]), p["name"].string()) if int(p) else "-"
        held = ", ".join("%s (%s)" % (lk["name"].string(), symbol(int(lk["taken_at"])))
                         for lk in (c["held"][i].dereference() for i in range(int(c["nheld"]))))
        print("%3d  %6s  %-6s  %-19s  %-14s  %s" % (int(c["id"]), num, mode,
                                                  "?" if rip is None else symbol(rip),
                                                  proc, held or "-"))
#endif
#if LAB >= 6


## Sleep, open files, FPU state: ps's second line, fds, fpu (lab 6) #########
#
# All three read the kernel's structures through its debug info: struct
# proc (chan, ofile[], fpu), struct file (file.h), struct pipe (pipe.c).
# A kernel of an earlier lab lacks some: ps then prints what it printed
# before, fds says the kernel has no descriptors, and fpu reads lab 4's
# FXSAVE image (xsave_features is missing, or 0 until exercise 1).

def fields(value):
    """The names of the fields of a struct value."""
    return {f.name for f in value.type.strip_typedefs().fields()}


def find_proc(arg, what):
    """procs[i] of the process whose pid is arg (an expression), and i."""
    usage = "usage: %s PID" % what
    if not arg.strip():
        raise gdb.GdbError(usage)
    try:
        pid = int(gdb.parse_and_eval(arg))
    except gdb.error as e:
        raise gdb.GdbError("%s (%s)" % (usage, e))
    procs = gdb.parse_and_eval("procs")
    for i in range(procs.type.range()[1] + 1):
        if int(procs[i]["pid"]) == pid and str(procs[i]["state"]) != "UNUSED":
            return procs[i], i
    raise gdb.GdbError("%s: no process has pid %d (ps lists them)" % (what, pid))


def open_files(procs):
    """[(pid, fd, struct file *)] of every descriptor open in procs[]."""
    out = []
    for i in range(procs.type.range()[1] + 1):
        p = procs[i]
        if str(p["state"]) in ("UNUSED", "ZOMBIE"):
            continue
        ofile = p["ofile"]
        for fd in range(ofile.type.range()[1] + 1):
            if int(ofile[fd]):
                out.append((int(p["pid"]), fd, ofile[fd]))
    return out


def chan_name(chan, procs):
    """What the address chan names, as sleep's callers use it: &ticks
    (sleep(n)), a struct proc (wait, asleep on its own slot), one of a
    pipe's counters (&nread: a reader waits for bytes; &nwrite: a writer
    waits for room), found through the files open in procs[]; else the
    symbol there, if any."""
    if chan == int(gdb.parse_and_eval("&ticks")) & MASK64:
        return "ticks (sleep(n): CPU 0's timer wakes it every tick)"
    base = int(procs.address) & MASK64
    size = procs.type.target().sizeof
    nproc = procs.type.range()[1] + 1
    if base <= chan < base + nproc * size and (chan - base) % size == 0:
        return "wait (procs[%d], pid %d: a child's exit wakes it)" % (
            (chan - base) // size, int(procs[(chan - base) // size]["pid"]))
    for _, _, f in open_files(procs):
        if str(f["type"]) == "FD_PIPE" and int(f["pipe"]):
            pipe = f["pipe"].dereference()
            if chan == int(pipe["nread"].address) & MASK64:
                return "pipe %#x read (&nread: waits for bytes)" % (int(f["pipe"]) & MASK64)
            if chan == int(pipe["nwrite"].address) & MASK64:
                return "pipe %#x write (&nwrite: waits for room)" % (int(f["pipe"]) & MASK64)
    where = symbol(chan)
    return "?" if where.startswith("0x") else where


def sleeping_on(p, procs):
    """For ps: "sleeps on CHAN: what it is" for a SLEEPING process."""
    if str(p["state"]) != "SLEEPING" or "chan" not in fields(p):
        return None
    chan = int(p["chan"]) & MASK64
    return "sleeps on %#x: %s" % (chan, chan_name(chan, procs))


def ps_lab6(arg):
    ps_command(arg)


ps_lab6.__doc__ = ps_command.__doc__ + """

A SLEEPING process gets a second line: the address it sleeps on (p->chan)
and what that is, as sleep's callers use it (make qemu-gdb INIT="killtest 3"
CPUS=1, hbreak kill):

      2     3  sleeping       killtest            1  0x4013ee
               sleeps on 0xffffffff80195d40: ticks (sleep(n): CPU 0's timer wakes it every tick)
      3     4  sleeping       killtest            1  0x401380
               sleeps on 0xffffffff8019a600: wait (procs[3], pid 4: a child's exit wakes it)

"ticks" (sleep(n)), "wait" (asleep on its own struct proc until a child
exits), "pipe ADDR read" or "write" (asleep on &nread or &nwrite of a
pipe that some process has open); else the symbol there, or "?". fds PID
shows the pipe's counters."""
command("ps", gdb.COMMAND_DATA)(ps_lab6)


@command("fds", gdb.COMMAND_DATA)
def fds_command(arg):
    """List a process's open file descriptors (p->ofile[], kern/file.c).

Usage: fds PID

One line per open descriptor: fd, the struct file it names (dup and
fork share one: the same address), its type, ref (how many descriptors
in all processes name it), r and w (readable, writable), and for a pipe
its address, the counters nread and nwrite (bytes ever read and
written), the bytes waiting in it (nwrite - nread, at most PIPESIZE),
and which of its two ends are open (make qemu-gdb INIT=pipetest CPUS=1,
hbreak pipewrite, continue, break sleep, continue: the ring is full):

    fds: pid 2 (pipetest)
     fd  file                type     ref  rw  pipe
      0  0xffffffff80195030  console    6  rw
      1  0xffffffff80195030  console    6  rw
      2  0xffffffff80195030  console    6  rw
      4  0xffffffff80195060  pipe       1  -w  0xffff800007ec7000  nread 0  nwrite 512 (512 waiting)  open: read write"""
    p, _ = find_proc(arg, "fds")
    if "ofile" not in fields(p):
        raise gdb.GdbError("fds: struct proc has no ofile[]: this kernel has no file descriptors")
    ofile = p["ofile"]
    print("fds: pid %d (%s)" % (int(p["pid"]), p["name"].string()))
    print(" fd  file                type     ref  rw  pipe")
    for fd in range(ofile.type.range()[1] + 1):
        if not int(ofile[fd]):
            continue
        f = ofile[fd].dereference()
        kind = str(f["type"])
        line = "%3d  %#018x  %-7s  %3d  %s%s" % (
            fd, int(ofile[fd]) & MASK64, kind[len("FD_"):].lower() if kind.startswith("FD_")
            else kind, int(f["ref"]), "r" if int(f["readable"]) else "-",
            "w" if int(f["writable"]) else "-")
        if kind == "FD_PIPE" and int(f["pipe"]):
            pipe = f["pipe"].dereference()
            nread, nwrite = int(pipe["nread"]), int(pipe["nwrite"])
            ends = [end for end, is_open in (("read", pipe["readopen"]),
                                             ("write", pipe["writeopen"])) if int(is_open)]
            line += "  %#x  nread %d  nwrite %d (%d waiting)  open: %s" % (
                int(f["pipe"]) & MASK64, nread, nwrite, nwrite - nread, " ".join(ends) or "none")
        print(line)


# The FXSAVE image (Intel SDM vol. 1, 10.5.1) and XSAVE's additions (vol. 1,
# 13.4 and 13.5): x87 control word and MXCSR at kern/cpu.c's FXSAVE_FCW and
# FXSAVE_MXCSR, XMM i at 160 + 16 i; from byte 512 the XSAVE header, whose
# first 8 bytes are XSTATE_BV; in the standard format AVX's component
# (the upper halves of YMM i) at 576 + 16 i (CPUID leaf 0xD subleaf 2's
# EBX says 576 on every CPU that has AVX).
FXSAVE_XMM = 160
XSAVE_HEADER = 512
XSAVE_AVX = 576
NXMM = 16
ROUNDING = ("to nearest", "down (toward -inf)", "up (toward +inf)", "toward zero")


def cpu_defines():
    """{NAME: value} of kern/cpu.c's FXSAVE_*, *_DEFAULT and kern/mmu.h's XCR0_*."""
    found = {}
    number = r"\s+(0x[0-9a-fA-F]+|\d+)"
    for name, pattern in (("cpu.c", r"^#define ((?:FXSAVE_|FCW_|MXCSR_)\w+)" + number),
                          ("mmu.h", r"^#define (XCR0_\w+)" + number)):
        with open(os.path.join("kern", name)) as f:
            found.update((n, int(v, 0)) for n, v in re.findall(pattern, f.read(), re.M))
    return found


EXCEPTIONS = ("invalid", "denormal", "divide-by-zero", "overflow", "underflow", "precision")


def masks(bits):
    """Words for the six exception mask bits (the same order in FCW and MXCSR)."""
    unmasked = [n for i, n in enumerate(EXCEPTIONS) if not bits >> i & 1]
    return "unmasked: %s" % " ".join(unmasked) if unmasked else "all exceptions masked"


def x87_control(fcw):
    return "round %s, precision %s, %s" % (
        ROUNDING[fcw >> 10 & 3], ("24-bit", "reserved", "53-bit", "64-bit")[fcw >> 8 & 3],
        masks(fcw & 0x3F))


def sse_control(mxcsr):
    flags = [n for i, n in enumerate(EXCEPTIONS) if mxcsr >> i & 1]
    return "round %s, %s%s%s%s" % (
        ROUNDING[mxcsr >> 13 & 3], masks(mxcsr >> 7 & 0x3F),
        ", flush to zero" if mxcsr & 0x8000 else "", ", denormals are zero" if mxcsr & 0x40 else "",
        ", flags set: %s" % " ".join(flags) if flags else "")


def u128(area, at):
    return int.from_bytes(area[at:at + 16], "little")


@command("fpu", gdb.COMMAND_DATA)
def fpu_command(arg):
    """Show a process's saved FPU, SSE and AVX registers (p->fpu).

Usage: fpu PID

The registers as the process gets them back at its next run(), which
loads p->fpu with XRSTOR (or FXRSTOR while xsave_features is 0): the x87
control word and MXCSR, decoded (rounding, exception masks), then XMM0 to
XMM15 and, when XCR0 has AVX, the upper halves of YMM0 to YMM15 beside
them, each as one number; a run of all-zero registers takes one line.
(make qemu-gdb INIT="robust fpu 3" CPUS=1, hbreak sys_yield, continue:)

    fpu: pid 1 (robust), slot 0, sleeping: XSAVE image at 0xffffffff80199800, xcr0 0x7 (x87 SSE AVX), XSTATE_BV 0x7
      fcw    0x0f7f      round toward zero, precision 64-bit, all exceptions masked
      mxcsr  0x00007f80  round toward zero, all exceptions masked
          i  xmm i (bits 127..0)                   ymm i upper half (bits 255..128)
       0-15  0 (all zero)

A component whose XSTATE_BV bit is clear is shown as XRSTOR loads it,
whatever the bytes say: in its initial state (the control word 0x37f,
XMM and the YMM halves zero; MXCSR always comes from the image), with a
note. The image of the process a CPU runs now (cpus[i].proc, marked * by
ps) is stale: from run()'s fpu_restore to its fpu_save the registers are
that CPU's, and the command says which thread shows them (`info registers
xmm0`, `p/x $mxcsr`; QEMU's gdbstub gives GDB no YMM registers, but
`monitor info registers` prints them). Layout: Intel SDM vol. 1, 10.5.1
(FXSAVE) and 13.4-13.5 (XSAVE)."""
    p, slot = find_proc(arg, "fpu")
    if "fpu" not in fields(p):
        raise gdb.GdbError("fpu: struct proc has no fpu[]")
    addr = int(p["fpu"].address) & MASK64
    area = bytes(gdb.selected_inferior().read_memory(addr, p["fpu"].type.sizeof))
    try:
        features = int(gdb.parse_and_eval("xsave_features"))
    except gdb.error:
        features = 0                                    # before lab 6: FXSAVE only
    regs = fpu_image(area, features, cpu_defines())
    print("fpu: pid %d (%s), slot %d, %s: %s at %#x%s" % (
        int(p["pid"]), p["name"].string(), slot, str(p["state"]).lower(),
        "XSAVE image" if features else "FXSAVE image", addr, regs["what"]))
    cpu = running().get(int(p.address))
    if cpu is not None:
        thread = threads_by_cpu({int(gdb.parse_and_eval("&cpus[%d]" % cpu)) & MASK64})
        num = next(iter(thread.values()))[0] if thread else "?"
        print("  CAUTION: pid %d is cpu %d's process (cpus[%d].proc). From run()'s fpu_restore\n"
              "  to its fpu_save its registers live in that CPU, and this image is stale: see\n"
              "  them with `thread %s`, then `info registers xmm0`, `p/x $mxcsr`, or\n"
              "  `monitor info registers` (YMM too)." % (int(p["pid"]), cpu, cpu, num))
    for note in regs["notes"]:
        print("  (%s)" % note)
    print("  fcw    %#06x      %s" % (regs["fcw"], x87_control(regs["fcw"])))
    print("  mxcsr  %#010x  %s" % (regs["mxcsr"], sse_control(regs["mxcsr"])))
    print_vectors(regs["xmm"], regs["upper"])


def fpu_image(area, features, k):
    """The registers that (F)XRSTOR would load from area: {fcw, mxcsr, xmm
    (16 ints), upper (16 ints, or None without AVX), notes, what}. features:
    xsave_features (0: an FXSAVE image); k: cpu_defines()."""
    fcw_at, mxcsr_at = k.get("FXSAVE_FCW", 0), k.get("FXSAVE_MXCSR", 24)
    regs = {"fcw": int.from_bytes(area[fcw_at:fcw_at + 2], "little"),
            "mxcsr": int.from_bytes(area[mxcsr_at:mxcsr_at + 4], "little"),
            "xmm": [u128(area, FXSAVE_XMM + 16 * i) for i in range(NXMM)],
            "upper": None, "notes": [], "what": " (xsave_features is 0: no AVX state)"}
    if not features:
        return regs
    x87, sse, avx = (k.get(n, d) for n, d in (("XCR0_X87", 1), ("XCR0_SSE", 2), ("XCR0_AVX", 4)))
    bv = int.from_bytes(area[XSAVE_HEADER:XSAVE_HEADER + 8], "little")
    names = [n[len("XCR0_"):].replace("X87", "x87")
             for n, v in sorted(k.items(), key=lambda kv: kv[1])
             if n.startswith("XCR0_") and features & v]
    regs["what"] = ", xcr0 %#x (%s), XSTATE_BV %#x" % (features, " ".join(names), bv)
    if not bv & x87:
        regs["fcw"] = k.get("FCW_DEFAULT", 0x37F)
        regs["notes"].append("x87 state: XSTATE_BV bit 0 clear, so XRSTOR loads its initial "
                             "state (control word %#x)" % regs["fcw"])
    if not bv & sse:
        regs["xmm"] = [0] * NXMM
        regs["notes"].append("XMM: XSTATE_BV bit 1 clear, so XRSTOR zeroes them (MXCSR still "
                             "comes from the image)")
    if features & avx:
        regs["upper"] = [u128(area, XSAVE_AVX + 16 * i) if bv & avx else 0 for i in range(NXMM)]
        if not bv & avx:
            regs["notes"].append("YMM upper halves: XSTATE_BV bit 2 clear, so XRSTOR zeroes them")
    return regs


def print_vectors(xmm, upper):
    """XMM i and, if upper, YMM i's upper half, a line each; a run of
    registers that are all zero on one line."""
    print(("      i  xmm i (bits 127..0)                 %s" % ("  ymm i upper half (bits 255..128)"
                                                              if upper else "")).rstrip())
    i = 0
    while i < NXMM:
        j = i
        while j < NXMM and not xmm[j] and not (upper and upper[j]):
            j += 1
        if j - i > 1:
            print("  %s  0 (all zero)" % ("%d-%d" % (i, j - 1)).rjust(5))
            i = j
            continue
        print("  %5d  %#034x%s" % (i, xmm[i], "  %#034x" % upper[i] if upper else ""))
        i += 1
#endif
#if LAB >= 7


## The disk, the buffer cache, device interrupts: disk, bcache, irqs (lab 7) #
#
# disk and bcache read ide.c's static struct ide, bio.c's bcache and
# struct buf (buf.h) through the kernel's debug info; irqs reads
# cpus[i].irqs[] and trapcount[] (trap.c), at build/consts's IRQ_* and T_*.
# A kernel of an earlier lab has none of them: the commands say so.

def lab7(expr, what, thing):
    """The value of expr, or for command what an error: no thing here."""
    try:
        return gdb.parse_and_eval(expr)
    except gdb.MemoryError:
        raise
    except gdb.error:
        raise gdb.GdbError("%s: this kernel has no %s: lab 7 adds it" % (what, thing))


def sleepers(chan):
    """"pid N NAME" of each process SLEEPING on chan."""
    procs = gdb.parse_and_eval("procs")
    return ["pid %d %s" % (int(p["pid"]), p["name"].string())
            for p in (procs[i] for i in range(procs.type.range()[1] + 1))
            if str(p["state"]) == "SLEEPING" and int(p["chan"]) & MASK64 == chan]


def holder(b):
    """Who holds buffer b's sleep lock: "pid N", or "-"."""
    lock = b["lock"]
    return "pid %d" % int(lock["pid"]) if int(lock["locked"]) else "-"


@command("disk", gdb.COMMAND_DATA)
def disk_command():
    """Show the IDE driver's request queue (kern/ide.c's struct ide).

Usage: disk

First the channel: how requests move their data (dma, or pio when there
is no bus master or the command line says ide=pio), each disk's size in
sectors (ide.sectors[]: disk 0 boots, disk 1 is the data disk; 0: none),
and ide_requests, the requests the disk has ended. Then ide.queue, one
request a line through b->qnext, or "idle": the buffer, its disk and
block, read or write, dma or pio (b->qdma, which ide_start sets: "-" for
a request not started yet), and the process asleep on the buffer, which
ide_intr wakes when its request ends (a process whose ide_rw polls, or
that has not gone to sleep yet, is not asleep: then who holds the
buffer's sleep lock). The first request is the one on the disk (make
qemu-gdb INIT="bench disk dma 8192", hbreak ide_finish, continue):

    disk: dma; disk 0 1098 sectors, disk 1 8192 sectors; 0 requests ended
      buf                 dev  block  op     move  asleep on it
      0xffffffff80187150    1      0  read   dma   pid 1 bench  (on the disk)"""
    ide = lab7("'ide.c'::ide", "disk", "IDE driver (kern/ide.c)")
    if not int(ide["lock"]["name"]):
        raise gdb.GdbError("disk: ide_init has not run yet (ide.lock has no name)")
    sectors = ide["sectors"]
    print("disk: %s; %s; %d requests ended" % (
        "dma" if int(ide["dma"]) else "pio",
        ", ".join("disk %d %d sectors" % (i, int(sectors[i]))
                  for i in range(sectors.type.range()[1] + 1)),
        int(gdb.parse_and_eval("ide_requests"))))
    b, nbuf = ide["queue"], lab7("bcache", "disk", "buffer cache")["buf"].type.range()[1] + 1
    if not int(b):
        print("idle: ide.queue is empty")
        return
    print("  buf                 dev  block  op     move  asleep on it")
    for i in range(nbuf + 1):
        if not int(b):
            return
        if i == nbuf:
            print("  ... more than the cache's %d buffers: does b->qnext make a loop?" % nbuf)
            return
        r = b.dereference()
        asleep = sleepers(int(b) & MASK64)
        print("  %#018x  %3d  %5d  %-5s  %-4s  %s%s" % (
            int(b) & MASK64, int(r["dev"]), int(r["blockno"]),
            "write" if int(r["write"]) else "read",
            "-" if i else "dma" if int(r["qdma"]) else "pio",
            ", ".join(asleep) or "none (lock held by %s)" % holder(r),
            "  (on the disk)" if i == 0 else "  (waiting)"))
        b = r["qnext"]


@command("bcache", gdb.COMMAND_DATA)
def bcache_command():
    """List the buffer cache's buffers (kern/bio.c's bcache), in LRU order.

Usage: bcache

The buffers as bcache.head's list has them, from head.next, the most
recently released (bget looks for a block from there), to head.prev, the
least (bget reuses from there): bcache.buf[] index, disk, block, valid
(data holds the block), refcnt (holders and waiters: 0, and bget may take
the buffer for another block), and who holds its sleep lock (lock.pid, or
"-"). Then bget's hits and misses since boot. Buffers the list does not
reach from the front are named at the end (a broken next). (make
qemu-gdb INIT="bench disk dma 8192", hbreak ide_finish, continue 4 times:
blocks 0 to 2 read and released, block 3 on the disk:)

    bcache: 32 buffers, most recently released first; 0 hits, 4 misses
      buf  dev  block  valid  refcnt  lock
        2    1      2      1       0  -
        1    1      1      1       0  -
        0    1      0      1       0  -
       31    0      0      0       0  -
      ...
        4    0      0      0       0  -
        3    1      3      0       1  pid 1"""
    bc = lab7("bcache", "bcache", "buffer cache (kern/bio.c)")
    bufs, head = bc["buf"], int(bc["head"].address) & MASK64
    if not int(bc["head"]["next"]):
        raise gdb.GdbError("bcache: binit has not run yet (bcache.head.next is 0)")
    base, size, nbuf = int(bufs[0].address) & MASK64, bufs[0].type.sizeof, bufs.type.range()[1] + 1
    print("bcache: %d buffers, most recently released first; %d hits, %d misses" % (
        nbuf, int(bc["hits"]), int(bc["misses"])))
    print("  buf  dev  block  valid  refcnt  lock")
    seen, b = set(), bc["head"]["next"]
    while int(b) & MASK64 != head:
        at = int(b) & MASK64
        if at in seen or not (base <= at < base + nbuf * size and (at - base) % size == 0):
            print("  ... then %#x, %s: a broken next" % (
                at, "again" if at in seen else "not one of bcache.buf[]"))
            break
        seen.add(at)
        r = b.dereference()
        print("  %3d  %3d  %5d  %5d  %6d  %s" % ((at - base) // size, int(r["dev"]),
                                                int(r["blockno"]), int(r["valid"]),
                                                int(r["refcnt"]), holder(r)))
        b = r["next"]
    missing = [i for i in range(nbuf) if base + i * size not in seen]
    if missing:
        print("  not on the list: buf %s" % " ".join(str(i) for i in missing))


@command("irqs", gdb.COMMAND_STATUS)
def irqs_command():
    """Count the disk's and the UART's interrupts (kern/trap.c).

Usage: irqs

Per CPU that is up, cpus[i].irqs[] at the ISA IRQs IRQ_IDE and IRQ_COM1
(trap.h, through build/consts): the interrupts that CPU handled (the I/O APIC sends both to
the boot CPU, cpu 0). Then trapcount[] at their vectors, T_IDE and
T_SERIAL: every CPU's traps of that vector, which should be the sum
(at the same stop as bcache's example):

    irqs: device interrupts handled, per CPU (cpus[i].irqs[IRQ])
      cpu   ide (irq 14)   com1 (irq 4)
        0              4              2
        1              0              0
      all CPUs, by vector (trapcount[v]): ide (50) 4, com1 (49) 2"""
    cpus = up_cpus()
    if "irqs" not in fields(cpus[0]):
        raise gdb.GdbError("irqs: this kernel has no cpus[i].irqs[]: lab 7 adds it")
    k = CONSTS
    devices = [("ide", k["IRQ_IDE"], k["T_IDE"]), ("com1", k["IRQ_COM1"], k["T_SERIAL"])]
    print("irqs: device interrupts handled, per CPU (cpus[i].irqs[IRQ])")
    print("  cpu" + "".join("%15s" % ("%s (irq %d)" % (n, irq)) for n, irq, _ in devices))
    for c in cpus:
        print("  %3d" % int(c["id"]) + "".join("%15d" % int(c["irqs"][irq])
                                               for _, irq, _ in devices))
    counts = gdb.parse_and_eval("trapcount")
    print("  all CPUs, by vector (trapcount[v]): %s" % ", ".join(
        "%s (%d) %d" % (n, v, int(counts[v])) for n, _, v in devices))
#endif
