# Lab 2 tests: the physical page allocator, the kernel heap and the kernel's
# page tables.
#
# Each test boots the real kernel in QEMU, most with a self-test of
# kern/test/memtest.c (test=NAME seed=N), some with another memory size (MEM=),
# and checks what it printed against what the grader works out itself:
#   - the free-page count from the kernel's own printout of the BIOS's e820
#     map, cleaned here as kern/memmap.c must clean it, less the kernel
#     image (nm's `end`) and the allocator's free map, and less the pages
#     the page tables took: a documented slack of at most table_pages()
#     pages, which depends on the memory size and the direct map's pages;
#   - the pages kalloc hands out against the usable ranges (never the
#     kernel image, low memory or a range the map reserves);
#   - addresses, offsets and callers that the seed chose;
#   - the page tables through the real GDB with tools/gdbhelpers.py's pte
#     and ptmap, against nm's symbols.

import random
import re

from gradelib import test, Fail, seed_draws, excerpt, expect_alive as wait_for

GIB = 1 << 30


## What the tree's kernel is made of ###########################################

def layout(t):
    return t.tree.consts()


def symbols(t):
    """{name: (address, type)} from nm of build/kernel."""
    return {s.name: (s.addr, s.type) for s in t.tree.symbols()}


## The e820 map, cleaned as kern/memmap.c must clean it ##########################

def e820_printed(output):
    """[(base, end, usable)] of the kernel's e820 lines (the BIOS's map)."""
    return [(int(a, 16), int(b, 16) + 1, kind == "usable")
            for a, b, kind in re.findall(r"^e820: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.+)$",
                                         output, re.M)]


def subtract(ranges, lo, hi):
    out = []
    for a, b in ranges:
        if hi <= a or lo >= b:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo))
        if hi < b:
            out.append((hi, b))
    return out


def merged(ranges):
    out = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def usable_ranges(t, output):
    """The page-aligned ranges kalloc may hand out, before the free map."""
    L, syms = layout(t), symbols(t)
    entries = e820_printed(output)
    if not entries:
        raise Fail("the kernel printed no e820 map")
    ranges = merged([(a, b) for a, b, u in entries if u])
    for a, b in merged([(a, b) for a, b, u in entries if not u]):
        ranges = subtract(ranges, a, b)
    ranges = subtract(ranges, 0, L["LOWMEM_TOP"])
    ranges = subtract(ranges, L["KERNEL_PHYS"], syms["end"][0] - L["KERNBASE"])
    pgsize = L["PGSIZE"]
    ranges = [(-(-a // pgsize) * pgsize, min(b // pgsize * pgsize, L["DIRECTMAP_SIZE"]))
              for a, b in ranges]
    return [(a, b) for a, b in ranges if a < b]


def freemap_pages(ranges, pgsize):
    top = ranges[-1][1]
    return -(-(-(-(top // pgsize) // 8)) // pgsize)


def table_pages(t, ranges, pages_2m):
    """The most pages the kernel's page table may take: the documented slack.
    PML4; the image's PDPT, PD and page tables; the direct map's PDPT and,
    with 2 MiB pages, one PD per GiB."""
    L, syms = layout(t), symbols(t)
    image = syms["end"][0] - L["KERNBASE"]
    top = ranges[-1][1]
    return 5 + -(-image // (2 << 20)) + (-(-top // GIB) if pages_2m else 0)


def expected_free(t, output, pages_2m):
    """(lowest, highest) free-page count the boot line may show. A kernel
    page table keeps a page at least (the PML4); a kernel that stayed on
    the boot page tables gave back what it had built, and keeps none."""
    ranges, pgsize = usable_ranges(t, output), layout(t)["PGSIZE"]
    pages = sum((b - a) // pgsize for a, b in ranges) - freemap_pages(ranges, pgsize)
    kept = 1 if re.search(r"^vm: kernel page table at", output, re.M) else 0
    return pages - table_pages(t, ranges, pages_2m), pages - kept


def uses_2m(t, output):
    m = re.search(r"^vm: kernel page table .* in (1 GiB|2 MiB) pages", output, re.M)
    return m is None or m.group(1) == "2 MiB"


def free_count(q):
    return int(wait_for(q, r"^kalloc: (\d+) free pages$").group(1))


def check_count(t, q, what):
    n = free_count(q)
    lo, hi = expected_free(t, q.output, uses_2m(t, q.output))
    t.check(lo <= n <= hi, f"{what}: 'kalloc: N free pages' should count the usable pages of the "
            f"e820 map above 1 MiB less the kernel image and the free map, less at most "
            f"{hi + 1 - lo} pages of page tables", expected=f"{lo} .. {hi}", got=n)
    return n


## The tests ########################################################################

@test(0, "mem_boot", scored=False)
def mem_boot(t):
    q = t.boot()
    wait_for(q, r"^kalloc: \d+ free pages$")


@test(0, "mem_small", scored=False)
def mem_small(t):
    q = t.boot(mem="2M")
    wait_for(q, r"^panic: memmap: .*MEM too small")
    q.expect(r"^panic: halted")


@test(15, "kalloc_count")
def kalloc_count(t):
    """For each memory size: the boot line, then a seeded number of kallocs
    and kfrees, each followed by the allocator's own count."""
    for mem, extra in (("32M", ""), ("128M", "directmap=2m"), ("2G", ""), ("6G", "")):
        seed = t.new_seed()
        k = 1 + next(seed_draws(seed)) % 1000
        q = t.boot(f"test=kalloc_nfree seed={seed} {extra}", mem=mem)
        n = check_count(t, q, f"MEM={mem} {extra}".strip())
        m = wait_for(q, r"^kalloc_nfree: (\d+) free; after (\d+) kallocs (\d+) free; "
                     r"after \d+ kfrees (\d+) free$")
        got = tuple(int(g) for g in m.group(1, 2, 3, 4))
        t.check(got == (n, k, n - k, n), f"MEM={mem} seed={seed}: the count must follow kalloc "
                "and kfree (kalloc_nfree: N free; after K kallocs N-K free; after K kfrees N free)",
                expected=(n, k, n - k, n), got=got)


@test(10, "e820_clean")
def e820_clean(t):
    """At MEM=2G, the free count (so both exercises must work); then the
    self-test cleans a shuffled, split, overlapping copy of the BIOS's map
    with one usable range beyond the direct map (kern/memmap.c's given
    memmap_clean): the usable ranges must be the grader's own cleaning of
    the map the kernel printed, and the far range must be reported."""
    seed = t.new_seed()
    q = t.boot(f"test=e820_clean seed={seed}", mem="2G")
    check_count(t, q, "MEM=2G")
    wait_for(q, r"^e820_clean: the same as the BIOS's map cleaned")
    want = usable_ranges(t, q.output)
    got = [(int(a, 16), int(b, 16) + 1) for a, b in
           re.findall(r"^e820_clean: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] usable$", q.output, re.M)]
    t.check(got == want, f"e820_clean (seed={seed}): the perturbed map's usable ranges",
            expected=want, got=got)
    beyond = re.findall(r"^memmap: \[mem (0x[0-9a-f]+)-0x[0-9a-f]+\] is beyond the direct map",
                        q.output, re.M)
    t.check(beyond and int(beyond[0], 16) >= layout(t)["DIRECTMAP_SIZE"],
            "the usable range beyond the direct map should be reported")


@test(15, "kalloc_all")
def kalloc_all(t):
    """Every page, each once, none outside the usable ranges; all come back."""
    seed = t.new_seed()
    q = t.boot(f"test=kalloc_all seed={seed}", mem="32M")
    n = check_count(t, q, "MEM=32M")
    m = wait_for(q, r"^kalloc_all: (\d+) pages handed out, each once; (\d+) free now$")
    t.check(int(m.group(1)) == n and int(m.group(2)) == 0,
            f"kalloc (seed={seed}) should hand out all {n} free pages, then none",
            got=m.group(0))
    back = int(wait_for(q, r"^kalloc_all: all given back: (\d+) free pages$").group(1))
    got = [(int(a, 16), int(b, 16) + 1) for a, b in
           re.findall(r"^kalloc_all: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]$", q.output, re.M)]
    usable = usable_ranges(t, q.output)
    outside = [(a, b) for a, b in got if not any(u <= a and b <= v for u, v in usable)]
    t.check(not outside, "kalloc handed out pages outside the usable ranges (low memory, the "
            "kernel image, a reserved range)",
            expected=" ".join(f"{a:#x}-{b - 1:#x}" for a, b in usable),
            got=" ".join(f"{a:#x}-{b - 1:#x}" for a, b in outside))
    t.check(sum((b - a) // layout(t)["PGSIZE"] for a, b in got) == n,
            f"the ranges handed out should add up to {n} pages", got=got)
    t.check(back == n, f"after every page is freed, {n} pages should be free", got=back)


def freed_panic(t, q, who, seed):
    """(address, why, caller) of a kfree/kmfree panic."""
    m = wait_for(q, rf"^panic: {who}: (0x[0-9a-f]+): (.*) \(called from (\S+)\+0x[0-9a-f]+\)$")
    q.expect(r"^panic: halted")
    return int(m.group(1), 16), m.group(2), m.group(3)


@test(10, "kfree_checks")
def kfree_checks(t):
    """A double free and a bad pointer (the seed says which page and which
    kind) each panic, naming the page and kfree's caller."""
    seed = t.new_seed()
    q = t.boot(f"test=kalloc_double seed={seed}")
    addr = int(wait_for(q, r"^kalloc_double: freeing (0x[0-9a-f]+) again$").group(1), 16)
    got = freed_panic(t, q, "kfree", seed)
    t.check(got == (addr, "double free", "kalloc_double_test"),
            f"a double free (seed={seed}) should panic 'kfree: ADDR: double free (called from "
            "kalloc_double_test+0x...)'", expected=(hex(addr), "double free", "kalloc_double_test"),
            got=(hex(got[0]),) + got[1:])
    seed = t.new_seed()
    kind = next(seed_draws(seed)) % 3
    q = t.boot(f"test=kfree_bad seed={seed}")
    addr = int(wait_for(q, r"^kfree_bad: freeing (0x[0-9a-f]+) ").group(1), 16)
    why = "not the start of a page" if kind == 0 else "not a page kalloc hands out"
    got = freed_panic(t, q, "kfree", seed)
    t.check(got == (addr, why, "kfree_bad_test"),
            f"kfree of a bad pointer (seed={seed}) should panic 'kfree: ADDR: {why} (called from "
            "kfree_bad_test+0x...)'", expected=(hex(addr), why, "kfree_bad_test"),
            got=(hex(got[0]),) + got[1:])


@test(10, "kalloc_uaf")
def kalloc_uaf(t):
    """With memdebug, a write to a freed page is caught when it is handed out;
    a write over its link is caught even without."""
    seed = t.new_seed()
    q = t.boot(f"test=kalloc_uaf seed={seed} memdebug")
    value, at, page = wait_for(q, r"^kalloc_uaf: writing 0x([0-9a-f]+) to byte (\d+) of freed "
                               r"page (0x[0-9a-f]+)$").group(1, 2, 3)
    want = f"kalloc: page {page} was written after it was freed: byte {at} is 0x{value}"
    m = wait_for(q, r"^panic: (.*?)(, not 0x[0-9a-f]+)?$")
    q.expect(r"^panic: halted")
    t.check(m.group(1) == want, f"memdebug (seed={seed}) should catch the write",
            expected=f"panic: {want}, not 0x..", got=m.group(0))
    # Without memdebug, a write over a freed page's link: caught at once.
    seed = t.new_seed()
    q = t.boot(f"test=kalloc_link seed={seed}")
    m = wait_for(q, r"^kalloc_link: freed page (0x[0-9a-f]+) is poison past its link: (\w+)$")
    t.check(m.group(2) == "yes", "kfree poisons a page freed after the boot, memdebug or not",
            got=m.group(0))
    link, page = wait_for(q, r"^kalloc_link: writing (0x[0-9a-f]+) over the link of freed "
                          r"page (0x[0-9a-f]+)$").group(1, 2)
    want = f"kalloc: page {page} was written after it was freed: its link is {link}, not a free page"
    m = wait_for(q, r"^panic: (.*)$")
    t.check(m.group(1) == want, f"kalloc (seed={seed}) should check the link before following it",
            expected=f"panic: {want}", got=m.group(0))


@test(5, "kmalloc")
def kmalloc(t):
    """Many sizes, interleaved frees, checked contents; freed memory is reused."""
    seed = t.new_seed()
    size = 1 + next(seed_draws(seed)) % layout(t)["KMALLOC_MAX"]
    q = t.boot(f"test=kmalloc seed={seed}")
    a, b = map(int, wait_for(q, r"^kmalloc: \d+ allocations of seeded sizes, twice: "
                             r"heap pages (\d+), then (\d+)$").group(1, 2))
    t.check(0 < a == b, f"the second round (seed={seed}) should reuse the first's memory",
            got=(a, b))
    m = wait_for(q, r"^kmalloc: kmalloc\((\d+)\) after kmfree: (0x[0-9a-f]+) then (0x[0-9a-f]+)$")
    t.check(int(m.group(1)) == size and m.group(2) == m.group(3),
            "kmalloc after kmfree of the same size should return the freed object",
            got=m.group(0))
    wait_for(q, r"^kmalloc: done$")


@test(5, "kmalloc_checks")
def kmalloc_checks(t):
    """The heap's double-free, bad-pointer and use-after-free checks."""
    seed = t.new_seed()
    kind = next(seed_draws(seed)) % 2
    q = t.boot(f"test=kmfree_bad seed={seed}")
    addr = int(wait_for(q, r"^kmfree_bad: freeing (0x[0-9a-f]+)").group(1), 16)
    why = "double free" if kind == 0 else "not the start of an object"
    got = freed_panic(t, q, "kmfree", seed)
    t.check(got == (addr, why, "kmfree_bad_test"), f"kmfree_bad (seed={seed})",
            expected=(hex(addr), why, "kmfree_bad_test"), got=(hex(got[0]),) + got[1:])
    q = t.boot(f"test=kmalloc_uaf seed={seed} memdebug")
    at, obj = wait_for(q, r"^kmalloc_uaf: writing byte (\d+) of freed object (0x[0-9a-f]+)").group(1, 2)
    wait_for(q, rf"^panic: kmalloc: object {obj} \(size \d+\) was written after it was freed: "
             rf"byte {at} is ")
    q.expect(r"^panic: halted")


@test(10, "vm_map")
def vm_map(t):
    """vm_map, vm_lookup and vm_unmap on a seeded address: a 4 KiB page and
    a 2 MiB page, checked through both addresses and the entries; then the
    same on a CPU without NX (where PTE_NX is a reserved bit: using it
    anyway is a fault on every access)."""
    vm_map_boot(t, None)
    vm_map_boot(t, "-nx")


def vm_map_boot(t, cpu_flags):
    L = layout(t)
    seed = t.new_seed()
    draws = seed_draws(seed)
    va = (1 + next(draws) % (GIB // L["PGSIZE"] - 1)) * L["PGSIZE"]
    big = (1 + next(draws) % 1024) * (2 << 20) + GIB
    q = t.boot(f"test=vm_map seed={seed}", cpu_flags=cpu_flags)
    nx = L["PTE_NX"] if re.search(r"^vm: .* NX on", wait_for(q, r"^vm: .*$").group(0)) else 0
    ad = L["PTE_A"] | L["PTE_D"]
    m = wait_for(q, r"^vm_map: (0x[0-9a-f]+) -> (0x[0-9a-f]+): read (\w+), write (\w+), "
                 r"pte (0x[0-9a-f]+|\S+), page (0x[0-9a-f]+)$")
    v, pa, rd, wr, pte, size = m.group(1, 2, 3, 4, 5, 6)
    want = int(pa, 16) | L["PTE_P"] | L["PTE_W"] | nx
    t.check(int(v, 16) == va and rd == wr == "ok" and pte.startswith("0x")
            and int(pte, 16) & ~ad == want and size == "0x1000",
            f"vm_map of a 4 KiB page at {va:#x} (seed={seed})",
            expected=f"read ok, write ok, pte {want:#x} (A, D aside), page 0x1000", got=m.group(0))
    m = wait_for(q, r"^vm_map: tables above it: pml4e (0x[0-9a-f]+) pdpte (0x[0-9a-f]+) "
                 r"pde (0x[0-9a-f]+)$")
    table = L["PTE_P"] | L["PTE_W"] | L["PTE_U"]
    t.check(all(int(e, 16) & table == table for e in m.group(1, 2, 3)),
            "an entry that points to a table is PTE_P | PTE_W | PTE_U", got=m.group(0))
    wait_for(q, r"^vm_map: after vm_unmap: not mapped$")
    m = wait_for(q, r"^vm_map: (0x[0-9a-f]+) -> 0x0 \(2 MiB\): pte (\S+), page (\S+), e820 count (\w+)$")
    want = L["PTE_P"] | L["PTE_PS"] | nx
    t.check(int(m.group(1), 16) == big and m.group(2).startswith("0x")
            and int(m.group(2), 16) & ~ad == want and m.group(3) == "0x200000"
            and m.group(4) == "ok", f"vm_map of a 2 MiB page at {big:#x}",
            expected=f"pte {want:#x}, page 0x200000, e820 count ok", got=m.group(0))
    m = wait_for(q, r"^vm_map: a 4 KiB page at (0x[0-9a-f]+), inside the 2 MiB one: (-?\d+)$")
    t.check(m.group(2) == "-1", "vm_map of a page inside a larger one returns -1 "
            "(vm_walk finds the large page in the way)", got=m.group(0))
    wait_for(q, r"^vm_map: done$")
    m = wait_for(q, r"^panic: (.*)$")
    t.check(m.group(1) == f"vm_map: {va:#018x} is mapped already",
            "mapping a page twice panics", expected=f"panic: vm_map: {va:#018x} is mapped already",
            got=m.group(0))


## Page tables through GDB ###########################################################

PTE_LINE = re.compile(r"^(0x[0-9a-f]+) -> (0x[0-9a-f]+)\s+(4K|2M|1G) page\s+([r-][w-][x-])")
RUN_LINE = re.compile(r"^(0x[0-9a-f]+)-(0x[0-9a-f]+) -> (0x[0-9a-f]+)\s+(4K|2M|1G) x(\d+)\s+(\S+)")


def pte_answers(out):
    """{va: (pa, size, perms) or None} of each pte command's last line."""
    found = {}
    for m in re.finditer(r"^pte (0x[0-9a-f]+) \(CR3", out, re.M):
        rest = out[m.end():].split("\npte ", 1)[0]
        line = next((PTE_LINE.match(l) for l in rest.splitlines() if PTE_LINE.match(l)), None)
        found[int(m.group(1), 16)] = (int(line.group(2), 16), line.group(3), line.group(4)) \
            if line else None
    return found


def gdb_pagetables(t, kargs, size):
    """Boot under GDB with MEM=2G, stop at the end of main, and check pte and
    ptmap on seeded kernel addresses; size: the direct map's page size
    ("1G", "2M", or None for what the kernel says it used)."""
    L, syms = layout(t), symbols(t)
    rng = random.Random(t.new_seed())
    base, kb = L["DIRECTMAP_BASE"], L["KERNBASE"]
    pick = lambda lo, hi: rng.randrange(syms[lo][0], syms[hi][0])
    text, rodata = pick("text_start", "etext"), pick("rodata_start", "data_start")
    data, guard = pick("data_start", "end"), syms["boot_stack_guard"][0] + rng.randrange(L["PGSIZE"])
    # Lab 5's AP stacks have guard pages of their own, unmapped: pick data outside them.
    aps = [(s.addr, s.addr + s.size) for s in t.tree.symbols() if s.name == "ap_stacks"]
    while any(lo <= data < hi for lo, hi in aps):
        data = pick("data_start", "end")
    q = t.boot(kargs, mem="2G", gdb=True)
    direct = base + rng.randrange(GIB, 2 * GIB - (1 << 20))
    cmds = ["hbreak halt_forever", "continue"] + [f"pte {a:#x}" for a in
                                                  (text, rodata, data, direct, 0, guard)]
    cmds += [f"ptmap {base:#x} {base + 4 * GIB:#x}", "detach"]
    out = t.gdb(cmds)
    wait_for(q, r"^kalloc: \d+ free pages$")
    vm = re.search(r"^vm: kernel page table .* in (1 GiB|2 MiB) pages; NX (\w+)", q.output, re.M)
    t.check(vm is not None, "the kernel should switch to its own page table (a 'vm: kernel page "
            "table at ...' line)", got=re.findall(r"^vm: .*$", q.output, re.M))
    size = size or {"1 GiB": "1G", "2 MiB": "2M"}[vm.group(1)]
    x = "-" if vm.group(2) == "on" else "x"
    got = pte_answers(out)
    want = {text: (text - kb, "4K", "r-x"), rodata: (rodata - kb, "4K", "r-" + x),
            data: (data - kb, "4K", "rw" + x), direct: (direct - base, size, "rw" + x),
            0: None, guard: None}
    names = {text: "kernel text", rodata: "read-only data", data: "data", direct: "the direct map",
             0: "address 0", guard: "the boot stack's guard page"}
    wrong = [f"{names[a]} {a:#x}: expected {w and (hex(w[0]),) + w[1:] or 'not mapped'}, "
             f"pte says {a in got and (got[a] and (hex(got[a][0]),) + got[a][1:] or 'not mapped') or 'nothing'}"
             for a, w in want.items() if a not in got or got[a] != w]
    t.check(not wrong, "pte through GDB:\n  " + "\n  ".join(wrong), got=excerpt(out, 3000))
    runs = [RUN_LINE.match(l) for l in out.splitlines() if RUN_LINE.match(l)]
    top = usable_ranges(t, q.output)[-1][1]
    t.check(runs and int(runs[0].group(1), 16) == base and int(runs[0].group(3), 16) == 0
            and runs[0].group(4) == size and int(runs[0].group(2), 16) >= base + top - 1
            and runs[0].group(6) == "rw" + x,
            f"ptmap of the direct map should show one run from {base:#x} -> 0 of {size} pages, "
            f"rw{x}, up to the top of usable memory ({base + top - 1:#x}) at least",
            got=runs and runs[0].group(0))


@test(15, "gdb_pagetable")
def gdb_pagetable(t):
    gdb_pagetables(t, "", None)


@test(5, "gdb_directmap_2m")
def gdb_directmap_2m(t):
    gdb_pagetables(t, "directmap=2m", "2M")
