"""GDB helpers for kestrel: 16-bit disassembly, CPU mode, the e820 map.

Loaded by the project's .gdbinit (`source tools/gdbhelpers.py`). Commands
(`help COMMAND` shows each one's full text):

    x16 [N]              the next N instructions at CS:IP, decoded as 16-bit code
    cpumode              the CPU's mode, and CR0, CR3, CR4, EFER bit by bit
    e820                 the BIOS memory map that the boot sector stored
    kestrel-stop-hook    for .gdbinit's hook-stop: x16 1 when in 16-bit code

Why these exist. GDB talks to QEMU's gdbstub, which always describes the CPU
as x86-64, even in real mode, so GDB's architecture stays i386:x86-64 for the
whole boot. Two things go wrong in 16-bit code: `x/i $pc` decodes the bytes
as 64-bit instructions, and it reads them at IP, not at the linear address
CS * 16 + IP that the CPU fetches from. x16 reads the right bytes and has
objdump decode them as i8086 code. GDB also has no command that says which
mode the CPU is in; cpumode works it out from the control registers.

Where the CPU state comes from. QEMU's gdbstub gives GDB the general
registers, the segment selectors, and (as $cr0, $cr3, $cr4, $efer) the
control registers, but not GDTR or the hidden part of the segment registers
(base, limit, and the L and D bits of CS that decide between 16-, 32- and
64-bit code). For those, the helpers ask QEMU's monitor through the gdbstub
(`monitor info registers`, the same text QEMU's own monitor prints), which
shows the CS descriptor as the CPU has it cached. When no monitor answers
(another gdbstub, say), cpumode falls back to a heuristic and says so:

    CR0.PE clear              real mode, 16-bit (exact)
    PE set, EFER.LMA clear    protected mode; assumed 32-bit (16-bit code
                              segments can't be recognized without the monitor)
    EFER.LMA set              long mode: 64-bit if RIP is above 4 GiB
                              (compatibility mode can't execute there); below,
                              64-bit if CS is the kernel's 64-bit code selector
                              SEG_KCODE, else compatibility mode. This is wrong
                              for the two instructions in entry.S between
                              setting CR0.PG and the far jump, where CS still
                              holds the boot loader's 32-bit selector, which
                              is also 0x08.

The constants below mirror kern/memlayout.h and kern/mmu.h. When this file
is loaded from a checkout it compares them with those headers and warns if
they disagree, so a change there is noticed here.
"""

import os
import re
import shutil
import struct
import subprocess
import tempfile

import gdb

# --- Constants: these mirror kern/memlayout.h and kern/mmu.h ----------------
E820_MAP = 0x5000                   # uint32 count, uint32 pad, then the entries
E820_ENTRIES = E820_MAP + 8         # first entry
E820_ENTRY_SIZE = 24                # uint64 base, uint64 length, uint32 type, uint32 attrs
E820_MAX = 128                      # most entries the boot sector stores
KERNBASE = 0xFFFFFFFF80000000       # virtual address of physical 0 once paging is on
SEG_KCODE = 0x08                    # the kernel's 64-bit code selector

# e820 types, named as kern/e820.c names them.
E820_TYPES = {1: "usable", 2: "reserved", 3: "ACPI data", 4: "ACPI NVS", 5: "unusable"}

# Control-register bits: (bit, name, meaning).
CR0_BITS = [
    (0, "PE", "protected mode"), (1, "MP", "monitor coprocessor"),
    (2, "EM", "x87 emulation"), (3, "TS", "task switched (lazy FPU)"),
    (4, "ET", "extension type"), (5, "NE", "native FPU errors"),
    (16, "WP", "write protect in ring 0"), (18, "AM", "alignment mask"),
    (29, "NW", "not write-through"), (30, "CD", "cache disable"),
    (31, "PG", "paging"),
]
CR4_BITS = [
    (0, "VME", "virtual-8086 extensions"), (1, "PVI", "protected-mode virtual interrupts"),
    (2, "TSD", "rdtsc in ring 0 only"), (3, "DE", "debugging extensions"),
    (4, "PSE", "4 MiB pages (32-bit paging)"), (5, "PAE", "physical address extension"),
    (6, "MCE", "machine check"), (7, "PGE", "global pages"),
    (8, "PCE", "rdpmc in any ring"), (9, "OSFXSR", "OS uses fxsave/fxrstor"),
    (10, "OSXMMEXCPT", "SSE exceptions"), (11, "UMIP", "user-mode instruction prevention"),
    (12, "LA57", "5-level paging"), (13, "VMXE", "VMX"), (14, "SMXE", "SMX"),
    (16, "FSGSBASE", "rdfsbase etc."), (17, "PCIDE", "process-context IDs"),
    (18, "OSXSAVE", "xsave"), (20, "SMEP", "supervisor-mode execution prevention"),
    (21, "SMAP", "supervisor-mode access prevention"), (22, "PKE", "protection keys"),
    (23, "CET", "control-flow enforcement"), (24, "PKS", "supervisor protection keys"),
]
EFER_BITS = [
    (0, "SCE", "syscall/sysret"), (8, "LME", "long mode enable"),
    (10, "LMA", "long mode active"), (11, "NXE", "no-execute pages"),
    (12, "SVME", "SVM"), (14, "FFXSR", "fast fxsave"),
]
CR0_PE, CR0_PG = 1 << 0, 1 << 31
EFER_LMA = 1 << 10
EFLAGS_VM = 1 << 17
DESC_L = 1 << 21                    # in the descriptor's high dword (QEMU's "flags")
DESC_D = 1 << 22


# This file's directory, while GDB still defines __file__ (during `source`).
_HERE = os.path.dirname(os.path.abspath(globals().get("__file__", ".")))


def _check_headers():
    """Warn if the constants above disagree with the kernel's headers."""
    here = _HERE
    mine = {"E820_MAP": E820_MAP, "E820_ENTRY_SIZE": E820_ENTRY_SIZE,
            "E820_MAX": E820_MAX, "KERNBASE": KERNBASE, "SEG_KCODE": SEG_KCODE}
    seen = {}
    for header in ("memlayout.h", "mmu.h"):
        try:
            with open(os.path.join(here, "..", "kern", header)) as f:
                for line in f:
                    m = re.match(r"\s*#\s*define\s+(\w+)\s+(0[xX][0-9a-fA-F]+|\d+)\b", line)
                    if m and m.group(1) in mine:
                        seen[m.group(1)] = int(m.group(2), 0)
        except OSError:
            return  # not in a checkout: nothing to compare with
    for name, value in seen.items():
        if value != mine[name]:
            print("gdbhelpers: warning: %s is %#x in kern/ but %#x in tools/gdbhelpers.py"
                  % (name, value, mine[name]))


# --- Reading the CPU's state ------------------------------------------------

def _reg(name):
    """Register `name` of the current CPU as an int, or None if the target
    has no such register. Raises gdb.GdbError if there are no registers."""
    try:
        frame = gdb.newest_frame()  # the CPU itself, whatever frame is selected
    except gdb.error as e:
        raise gdb.GdbError(str(e))
    try:
        return int(frame.read_register(name)) & 0xFFFFFFFFFFFFFFFF
    except (ValueError, gdb.error):
        return None


def _cpu_index():
    """QEMU's index of the CPU GDB has selected (its thread id minus 1)."""
    thread = gdb.selected_thread()
    if thread is None:
        return 0
    pid, lwp, tid = thread.ptid
    return max((lwp or tid or 1) - 1, 0)


def _monitor_state():
    """Ask QEMU's monitor for what the gdbstub doesn't tell: CS's cached
    base and descriptor flags, GDTR. Returns a dict, or None if there is no
    QEMU monitor behind this connection."""
    index = _cpu_index()
    text = None
    for command in ("monitor info registers", "monitor info registers -a"):
        try:
            out = gdb.execute(command, to_string=True)
        except gdb.error:
            return None
        # Split at "CPU#n" headers; take the block of the CPU GDB selected.
        blocks = re.split(r"^CPU#(\d+)\s*$", out.replace("\r", ""), flags=re.M)
        if len(blocks) == 1:
            text = blocks[0]     # an older QEMU: no headers, one CPU
            break
        found = dict(zip((int(n) for n in blocks[1::2]), blocks[2::2]))
        if index in found:
            text = found[index]
            break
    if text is None:
        return None
    m = re.search(r"^CS\s*=([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+([0-9a-fA-F]+)",
                  text, re.M)
    if not m:
        return None
    state = {"cs": int(m.group(1), 16), "cs_base": int(m.group(2), 16),
             "cs_limit": int(m.group(3), 16), "cs_flags": int(m.group(4), 16)}
    m = re.search(r"^GDT=\s*([0-9a-fA-F]+)\s+([0-9a-fA-F]+)", text, re.M)
    if m:
        state["gdt_base"], state["gdt_limit"] = int(m.group(1), 16), int(m.group(2), 16)
    return state


class CpuState:
    """A snapshot of what decides the CPU's mode.

    mode    "real", "vm86", "prot16", "prot32", "long64", "compat16", "compat32"
    exact   True if the code segment's size came from QEMU's monitor or
            needs none (real mode); False if it is the heuristic's guess
    """

    def __init__(self, use_monitor=True):
        self.cr0 = _reg("cr0")
        self.cr3 = _reg("cr3")
        self.cr4 = _reg("cr4")
        self.efer = _reg("efer")
        self.cs = _reg("cs")
        self.rip = _reg("rip")
        if self.rip is None:
            self.rip = _reg("pc")
        self.eflags = _reg("eflags") or 0
        if self.cr0 is None:
            raise gdb.GdbError("this target does not show CR0 ($cr0): is GDB "
                               "connected to QEMU (target remote localhost:PORT)?")
        self.monitor = None
        self.exact = True
        self.why = ""
        pe = self.cr0 & CR0_PE
        lma = (self.efer or 0) & EFER_LMA
        if not pe:
            self.mode = "real"
            self.why = "CR0.PE=0"
            return
        if not lma and self.eflags & EFLAGS_VM:
            self.mode = "vm86"
            self.why = "CR0.PE=1, EFLAGS.VM=1"
            return
        if use_monitor:
            self.monitor = _monitor_state()
        if self.monitor is not None:
            flags = self.monitor["cs_flags"]
            long_bit, d_bit = bool(flags & DESC_L), bool(flags & DESC_D)
            if lma:
                self.mode = "long64" if long_bit else ("compat32" if d_bit else "compat16")
            else:
                self.mode = "prot32" if d_bit else "prot16"
            self.why = "CR0.PE=1, EFER.LMA=%d, CS.L=%d, CS.D=%d (CS descriptor from QEMU's monitor)" % (
                1 if lma else 0, long_bit, d_bit)
            return
        self.exact = False
        if not lma:
            self.mode = "prot32"
            self.why = ("CR0.PE=1, EFER.LMA=0; 32-bit assumed: without QEMU's monitor "
                        "the CS descriptor's D bit is unknown")
        elif self.rip is not None and self.rip > 0xFFFFFFFF:
            self.mode = "long64"
            self.exact = True
            self.why = "EFER.LMA=1 and RIP above 4 GiB, where only 64-bit code runs"
        elif self.cs == SEG_KCODE:
            self.mode = "long64"
            self.why = ("EFER.LMA=1 and CS=%#x, the kernel's 64-bit code selector (a guess: "
                        "without QEMU's monitor the CS descriptor's L bit is unknown)" % SEG_KCODE)
        else:
            self.mode = "compat32"
            self.why = ("EFER.LMA=1 and CS=%#x is not the kernel's 64-bit selector (a guess: "
                        "without QEMU's monitor the CS descriptor's L bit is unknown)" % (self.cs or 0))

    def code16(self):
        """True if the CPU is executing 16-bit code."""
        return self.mode in ("real", "vm86", "prot16", "compat16")

    def cs_base(self):
        """Linear address where CS starts, or None if unknown."""
        if self.mode in ("real", "vm86"):
            return (self.cs or 0) << 4
        if self.monitor is not None:
            return self.monitor["cs_base"]
        return None


MODE_NAMES = {
    "real": "real mode (16-bit)",
    "vm86": "virtual-8086 mode (16-bit)",
    "prot16": "16-bit protected mode",
    "prot32": "32-bit protected mode",
    "long64": "64-bit long mode",
    "compat32": "compatibility mode (32-bit code under long mode)",
    "compat16": "compatibility mode (16-bit code under long mode)",
}


# --- x16 ----------------------------------------------------------------------

def _objdump_16(code, vma):
    """Decode `code` (bytes at linear address vma) as i8086 code with
    objdump. Returns [(address, bytes_hex, text)]."""
    objdump = shutil.which("objdump")
    if objdump is None:
        raise gdb.GdbError("x16: objdump not found (Debian package binutils)")
    flavor = "att"
    try:
        flavor = gdb.parameter("disassembly-flavor") or "att"
    except (RuntimeError, gdb.error):
        pass
    fd, path = tempfile.mkstemp(prefix="kestrel-x16-", suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(code)
        cmd = [objdump, "-D", "-z", "-b", "binary", "-m", "i8086",
               "--adjust-vma=%#x" % vma, "--insn-width=15"]
        if flavor == "intel":
            cmd += ["-M", "intel"]
        run = subprocess.run(cmd + [path], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True)
    finally:
        os.unlink(path)
    if run.returncode != 0:
        raise gdb.GdbError("x16: objdump failed: %s" % (run.stderr.strip().splitlines() or ["?"])[0])
    insns = []
    for line in run.stdout.splitlines():
        m = re.match(r"^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*(?:\t(.*))?$", line)
        if not m:
            continue
        addr, raw, text = int(m.group(1), 16), m.group(2).strip(), (m.group(3) or "").strip()
        if not text and insns:   # a continuation line: more bytes of the last one
            a, r, t = insns[-1]
            insns[-1] = (a, r + " " + raw, t)
        else:
            insns.append((addr, raw, re.sub(r"\s+", " ", text, count=1)))
    return insns


def x16(count):
    """Print `count` instructions at CS:IP as 16-bit code; see X16Command."""
    state = CpuState()
    if not state.code16():
        hint = "x/%di $pc" % count
        if state.mode in ("prot32", "compat32"):
            # GDB decodes it as 64-bit code: right for most 32-bit
            # instructions, not for inc/dec (0x40-0x4f are REX prefixes).
            hint += " (GDB decodes 64-bit code; 32-bit differs mainly in inc/dec)"
        raise gdb.GdbError("x16: the CPU is in %s, not real mode: use %s"
                           % (MODE_NAMES[state.mode], hint))
    base = state.cs_base()
    if base is None:
        raise gdb.GdbError("x16: the CS base is unknown (QEMU's monitor did not answer)")
    ip = (state.rip or 0) & 0xFFFF
    linear = base + ip
    # An instruction is at most 15 bytes; stop at the end of the 64 KiB segment.
    size = min(15 * count, 0x10000 - ip)
    inferior = gdb.selected_inferior()
    code = None
    while size > 0:
        try:
            code = bytes(inferior.read_memory(linear, size))
            break
        except gdb.MemoryError:
            size //= 2
    if not code:
        raise gdb.GdbError("x16: cannot read memory at linear %#x (CS:IP %04x:%04x)"
                           % (linear, state.cs or 0, ip))
    insns = _objdump_16(code, linear)[:count]
    width = max((len(raw) for _, raw, _ in insns), default=0)
    for i, (addr, raw, text) in enumerate(insns):
        offset = (addr - base) & 0xFFFF
        print("%s %04x:%04x  %#07x  %-*s  %s" % (
            "=>" if i == 0 else "  ", state.cs or 0, offset, addr, width, raw, text))


class X16Command(gdb.Command):
    """Show the next N instructions at CS:IP decoded as 16-bit code (default N: 8).

Usage: x16 [N]

In real mode the CPU fetches from linear address CS * 16 + IP, and decodes
16-bit instructions; GDB's x/i $pc would read at IP and decode 64-bit code,
since QEMU's gdbstub always presents an x86-64 CPU. x16 reads the bytes at
the right address and has objdump decode them as i8086 code:

    => 0000:7c00  0x07c00  fa        cli

that is: CS:IP, the linear address, the bytes, the instruction; => marks the
next one to execute. It also works in 16-bit protected mode (after CR0.PE is
set and before the far jump to 32-bit code), taking CS's base from QEMU's
monitor. Right after reset, CS=f000 IP=fff0 but the CPU's CS base is
0xffff0000 (it fetches at 0xfffffff0); the BIOS ROM is also visible at
0xffff0, so x16 shows the same bytes there. Honours set disassembly-flavor
intel. Output stops at the end of the 64 KiB segment."""

    def __init__(self):
        super().__init__("x16", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        args = gdb.string_to_argv(arg)
        if len(args) > 1:
            raise gdb.GdbError("usage: x16 [N]")
        count = 8
        if args:
            try:
                count = int(args[0], 0)
            except ValueError:
                try:
                    count = int(gdb.parse_and_eval(args[0]))
                except gdb.error:
                    raise gdb.GdbError("x16: N must be a number, not %r (usage: x16 [N])" % args[0])
            if not 1 <= count <= 4096:
                raise gdb.GdbError("x16: N must be from 1 to 4096")
        x16(count)


# --- cpumode ------------------------------------------------------------------

def _bits(value, table):
    """'PE=1 MP=0 ...' for the named bits, and any other set bits in hex."""
    known = 0
    parts = []
    for bit, name, _ in table:
        known |= 1 << bit
        parts.append("%s=%d" % (name, (value >> bit) & 1))
    line = " ".join(parts)
    other = value & ~known
    if other:
        line += "  other bits: %#x" % other
    return line


def _set_names(value, table):
    names = ["%s (%s)" % (name, meaning) for bit, name, meaning in table if value >> bit & 1]
    return ", ".join(names) if names else "none"


def _wrap(words, indent, width=78):
    """Words joined by spaces, wrapped at width with the given indent."""
    lines, line = [], indent
    for w in words.split(" "):
        if len(line) + len(w) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += w + " "
    lines.append(line.rstrip())
    return "\n".join(lines)


class CpuModeCommand(gdb.Command):
    """Show the CPU's mode and decode CR0, CR3, CR4 and EFER bit by bit.

Usage: cpumode

The mode is one of: real mode, virtual-8086 mode, 16-bit or 32-bit
protected mode, 64-bit long mode, compatibility mode. It follows from CR0.PE,
EFER.LMA, EFLAGS.VM and the L and D bits of the code segment's descriptor.
GDB can't see the descriptor (QEMU's gdbstub sends neither GDTR nor the
segment caches), so cpumode asks QEMU's monitor (monitor info registers).
Without a monitor it guesses, and says so; see the notes at the top of
tools/gdbhelpers.py for the heuristic."""

    def __init__(self):
        super().__init__("cpumode", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        if arg.strip():
            raise gdb.GdbError("usage: cpumode")
        s = CpuState()
        mode = MODE_NAMES[s.mode]
        if not s.exact:
            mode += " (probably)"
        print("mode: %s" % mode)
        print(_wrap("from: " + s.why, "      "))
        cs_line = "CS:   %#06x" % (s.cs or 0)
        if s.monitor is not None:
            flags = s.monitor["cs_flags"]
            cs_line += "  base %#x  limit %#x  L=%d D=%d DPL=%d" % (
                s.monitor["cs_base"], s.monitor["cs_limit"], bool(flags & DESC_L),
                bool(flags & DESC_D), (flags >> 13) & 3)
        elif s.mode in ("real", "vm86"):
            cs_line += "  base %#x (CS * 16)" % s.cs_base()
        print(cs_line)
        if s.monitor is not None and "gdt_base" in s.monitor:
            print("GDTR: base %#x  limit %#x" % (s.monitor["gdt_base"], s.monitor["gdt_limit"]))
        print("RIP:  %#x" % (s.rip or 0))
        print()
        print("CR0:  %#010x  %s" % (s.cr0, _bits(s.cr0, CR0_BITS)))
        print(_wrap("set: " + _set_names(s.cr0, CR0_BITS), "      "))
        if s.cr3 is not None:
            cr3 = s.cr3
            if s.cr4 is not None and s.cr4 >> 17 & 1:  # PCIDE: low 12 bits are the PCID
                detail = "PCID=%#x" % (cr3 & 0xFFF)
            else:
                detail = "PWT=%d PCD=%d" % (cr3 >> 3 & 1, cr3 >> 4 & 1)
            if (s.efer or 0) & EFER_LMA:
                table = "PML4"
            elif s.cr4 is not None and s.cr4 >> 5 & 1:
                table = "PAE page-directory-pointer table"
            else:
                table = "page directory"
            if s.cr0 & CR0_PG:
                where = "%s at physical %#x" % (table, cr3 & 0x000FFFFFFFFFF000)
            else:
                where = "unused: paging is off"
            print("CR3:  %#010x  %s, %s" % (cr3, detail, where))
        else:
            print("CR3:  (not available from this target)")
        if s.cr4 is not None:
            print("CR4:  %#010x  %s" % (s.cr4, _wrap(_bits(s.cr4, CR4_BITS), " " * 18).lstrip()))
            print(_wrap("set: " + _set_names(s.cr4, CR4_BITS), "      "))
        else:
            print("CR4:  (not available from this target)")
        if s.efer is not None:
            print("EFER: %#010x  %s" % (s.efer, _bits(s.efer, EFER_BITS)))
            print(_wrap("set: " + _set_names(s.efer, EFER_BITS), "      "))
        else:
            print("EFER: (not available from this target)")


# --- e820 -----------------------------------------------------------------------

class E820Command(gdb.Command):
    """Show the BIOS e820 memory map that the boot sector stored.

Usage: e820

The boot sector asks the BIOS for the map (int 0x15, eax=0xE820) and stores
it at physical E820_MAP (0x5000, kern/memlayout.h): a uint32 count, 4 bytes
of padding, then count entries of 24 bytes (uint64 base, uint64 length,
uint32 type, uint32 attributes). With paging off, physical addresses are
read directly; with paging on, through the kernel's mapping of low memory
at KERNBASE + physical. Prints one line per entry, as the kernel's boot
banner does, and the total usable memory."""

    def __init__(self):
        super().__init__("e820", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        if arg.strip():
            raise gdb.GdbError("usage: e820")
        cr0 = _reg("cr0")
        if cr0 is None:
            raise gdb.GdbError("e820: this target does not show CR0: is GDB connected to QEMU?")
        offset = KERNBASE if cr0 & CR0_PG else 0
        inferior = gdb.selected_inferior()
        where = "physical %#x" % E820_MAP
        if offset:
            where += " (virtual %#x)" % (offset + E820_MAP)
        try:
            count = struct.unpack("<I", bytes(inferior.read_memory(offset + E820_MAP, 4)))[0]
        except gdb.MemoryError:
            raise gdb.GdbError("e820: cannot read %s%s" % (
                where, ": the kernel's mapping of low memory at KERNBASE is missing" if offset else ""))
        if count == 0 or count > E820_MAX:
            print("e820: no e820 map stored yet (boot sector has not run?): "
                  "the count at %s is %d, not 1..%d" % (where, count, E820_MAX))
            return
        try:
            raw = bytes(inferior.read_memory(offset + E820_ENTRIES, count * E820_ENTRY_SIZE))
        except gdb.MemoryError:
            raise gdb.GdbError("e820: cannot read the %d entries at physical %#x" % (count, E820_ENTRIES))
        print("e820: %d entries at %s" % (count, where))
        usable = 0
        for i in range(count):
            base, length, kind, attrs = struct.unpack_from("<QQII", raw, i * E820_ENTRY_SIZE)
            name = E820_TYPES.get(kind, "type %d (unknown)" % kind)
            if kind == 1:
                usable += length
            end = (base + length - 1) & 0xFFFFFFFFFFFFFFFF
            note = ""
            if length == 0:
                end, note = base, "  (empty: length 0)"
            elif attrs & 1 == 0:
                note = "  (attrs %#x: marked invalid)" % attrs
            print("  [mem %#018x-%#018x] %s%s" % (base, end, name, note))
        print("total usable: %.1f MiB (%d bytes)" % (usable / (1 << 20), usable))


# --- The stop hook ---------------------------------------------------------------

class StopHookCommand(gdb.Command):
    """For .gdbinit's hook-stop: in 16-bit code, show the instruction at CS:IP.

Usage (in .gdbinit):
    define hook-stop
      kestrel-stop-hook
    end

When the CPU stops in real mode (or 16-bit protected mode), GDB's own
display of the location is not useful (x/i $pc decodes 64-bit code at the
wrong address), so this prints the current instruction with `x16 1`. In
every other mode it prints nothing: GDB already shows where the CPU is.
It never fails: any error (no registers, no QEMU) is silently ignored, so
that it can't break a stop."""

    def __init__(self):
        super().__init__("kestrel-stop-hook", gdb.COMMAND_OBSCURE)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        try:
            cr0 = _reg("cr0")
            if cr0 is None:
                return
            if not cr0 & CR0_PE:
                x16(1)
                return
            # Protected mode without long mode: it may still be 16-bit code
            # (the few instructions between setting CR0.PE and the far jump).
            # Only then is QEMU's monitor asked; in long mode it never is.
            efer = _reg("efer") or 0
            if not efer & EFER_LMA and CpuState().code16():
                x16(1)
        except (gdb.error, gdb.GdbError, RuntimeError, OSError):
            pass


X16Command()
CpuModeCommand()
E820Command()
StopHookCommand()
_check_headers()
