# Lab 1 tests: boot, printf's number formatting, the symbolized backtrace,
# and GDB in 64-bit kernel code and in the boot sector.
#
# Each test boots the real kernel in QEMU (a self-test chosen with the
# kernel command line, see kern/selftest.c) and checks what it printed.
# The backtrace is checked against the kernel's own symbol table (nm) and
# against GDB's view of the same stack, so only a working frame walk and
# symbol lookup can pass.

import random
import re

from gradelib import test, Fail

FRAME = re.compile(r"^  #(\d+) 0x([0-9a-f]{16}) (\S+)\+0x([0-9a-f]+)\r?$", re.M)
CHAIN = ["bt_leaf", "bt_middle", "bt_top", "selftest_run", "main"]
MASK64 = (1 << 64) - 1


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
    x = (seed * 6364136223846793005 + 1442695040888963407) & MASK64
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


@test(30, "printf")
def printf(t):
    seed = random.randrange(1, 10**12)
    q = t.boot(f"test=printf seed={seed}")
    q.expect(r"printf: done")
    got = re.findall(r"^printf: (.*?)\r?$", q.output, re.M)
    for want in printf_expected(seed):
        t.check(want in got, f"printf should print 'printf: {want}'",
                expected=want, got="\n".join(got))


def kernel_frames(output):
    """(depth, address, name, offset) for each line of the kernel's backtrace."""
    start = output.find("backtrace:")
    if start < 0:
        raise Fail("the kernel printed no 'backtrace:' line after the panic")
    return [(int(d), int(a, 16), n, int(o, 16)) for d, a, n, o in FRAME.findall(output[start:])]


def check_chain(t, names, who):
    t.check(names[:len(CHAIN)] == CHAIN,
            f"{who} should name the call chain {' <- '.join(CHAIN)}",
            expected=", ".join(CHAIN), got=", ".join(names) or "(no frames)")


@test(40, "backtrace")
def backtrace(t):
    q = t.boot("test=backtrace")
    q.expect(r"panic: selftest: backtrace from bt_leaf")
    q.expect(r"^panic: halted")
    frames = kernel_frames(q.output)
    check_chain(t, [f[2] for f in frames], "the backtrace")
    symbols = {name: (addr, size) for addr, size, name in t.kernel_symbols()}
    for depth, addr, name, offset in frames[:len(CHAIN)]:
        start, size = symbols[name]
        t.check(addr == start + offset and start < addr <= start + size,
                f"frame #{depth}: {addr:#x} is not {name}+{offset:#x} in the kernel's symbols",
                expected=f"{name} at {start:#x}..{start + size:#x}", got=f"{addr:#x}")


@test(30, "gdb_backtrace")
def gdb_backtrace(t):
    q = t.boot("test=backtrace", gdb=True)
    # A hardware breakpoint: at reset, paging is off and bt_leaf's address
    # is not mapped yet, so GDB could not write a software breakpoint there.
    out = t.gdb(["hbreak bt_leaf", "continue", "info registers rip", "bt", "detach"])
    t.check(re.search(r"[Bb]reakpoint 1, (0x[0-9a-f]+ in )?bt_leaf ", out) is not None,
            "GDB should stop at the breakpoint in bt_leaf", got=out)
    t.check(re.search(r"rip\s+0xffffffff8[0-9a-f]{7}\s", out) is not None,
            "GDB should stop in 64-bit kernel code (rip at a KERNBASE address)", got=out)
    gdb_names = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) \(", out, re.M)
    check_chain(t, gdb_names, "GDB's bt")
    q.expect(r"panic: selftest: backtrace from bt_leaf")
    q.expect(r"^panic: halted")
    kernel_names = [f[2] for f in kernel_frames(q.output)]
    t.check(kernel_names[:len(CHAIN)] == gdb_names[:len(CHAIN)],
            "the kernel's backtrace should agree with GDB's bt",
            expected=", ".join(gdb_names), got=", ".join(kernel_names) or "(no frames)")


@test(0, "gdb_bootsector", scored=False)
def gdb_bootsector(t):
    t.boot(gdb=True)
    out = t.gdb(["hbreak *0x7c00", "continue", "x16 3", "cpumode"])
    t.check(re.search(r"0000:7c00\s.*\bcli\b", out) is not None,
            "GDB should stop at the boot sector and x16 should show its first instruction, cli",
            got=out)
    t.check(re.search(r"real mode", out, re.I) is not None,
            "cpumode should report real mode at 0x7c00", got=out)
