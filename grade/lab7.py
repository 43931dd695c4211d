# Lab 7 tests: the IDE disk, the buffer cache, the console's input.
#
# Each test makes a data disk of its own (mkfs/mkdata, a seeded image:
# t.data_disk), boots with a user program of user/ as the first process
# (init=NAME:ARG...) and checks what it printed against what the grader
# works out itself: the image's bytes, the blocks' seeded contents, the
# cache's replacement order. Then, where a test wrote, it reads the image
# back after QEMU has exited (the host's view of the disk) and boots the
# same image again:
#   - user/disktest read: seeded blocks' FNV-1a hashes match the image,
#     by DMA and by PIO (ide=pio), each block one disk request and one
#     interrupt at least, the first read again from the cache;
#   - disktest write/check: seeded blocks written, read back from the disk
#     after blkflush in the same boot, found on the image by the host
#     (and nothing else changed), read again after a reboot;
#   - disktest bad: blocks past the disk's end refused by the disk itself
#     (the kernel says so), bad buffers refused, and nothing harmed;
#   - disktest lru: the disk requests each read makes show the cache's
#     least-recently-used order;
#   - disktest many: more processes than NBUF read at once, and all get
#     their blocks (bget waits for a free buffer: no panic);
#   - disktest stress on 4 CPUs: processes that read and write overlapping
#     blocks at once see whole, never older, versions; the image ends with
#     each block's last version; the cache's self-check (kern/test/
#     biocheck.c, through sysinfo) finds at most one buffer per block;
#   - GDB, stopped in the disk's interrupt: the process whose request is
#     at the head of the queue is SLEEPING on that very buffer;
#   - user/contest flood (unscored: the transmit ring is given code): lines
#     written in big writes arrive whole and in order, by the transmit
#     interrupts;
#   - user/contest: seeded lines typed at the console with backspaces and
#     ^U arrive edited in read(), echoed as typed; ^D gives end of file;
#     a read sleeps until the line ends (^P's process list shows it asleep
#     on the console's input).

import os
import re

from gradelib import (test, Fail, Timeout, seed_draws, excerpt, expect_alive, lcg, MASK64, EXIT,
                     run_init as run)



def lines(out, prog):
    """The lines prog printed, without its name, as one string."""
    return "\n".join(l[len(prog) + 2:] for l in out.splitlines() if l.startswith(prog + ": "))


def run_disk(t, prog, *args, **kw):
    """run(), but on a timeout ^P first: the process list (who sleeps, on
    what) lands in the report's kernel lines."""
    try:
        return run(t, prog, *args, **kw)
    except Timeout as e:
        q = t.qemus[-1]
        q.send("\x10")
        try:
            q.expect(r"^\d+ \w+ \S+", timeout=10)
        except Fail:
            pass
        raise Timeout(f"{e} (then ^P: the process list is at the end of the kernel's lines; "
                      "GDB's ps, disk and bcache say more)") from None


def done(t, out, status, prog="disktest"):
    """prog ended well: its last line "done", status 0, nothing FAILED."""
    L = lines(out, prog)
    bad = [l for l in L.splitlines() if "FAILED" in l]
    t.check(not bad and status == 0 and L.endswith("done"), f"{prog} should end well",
            got="\n".join(bad) or excerpt(out, 1500))
    return L


def fnv64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & MASK64
    return h


def block_of(t, path, bno):
    bs = t.tree.consts()["BSIZE"]
    with open(path, "rb") as f:
        f.seek(bno * bs)
        return f.read(bs)


def content(t, seed, bno, v):
    """user/disktest.c's fill(): version v of block bno's data for seed."""
    words = [bno, seed, v]
    x = (seed + bno * 65537 + v * 4294967311) & MASK64
    while len(words) < t.tree.consts()["BSIZE"] // 8:
        x = lcg(x)
        words.append(x)
    return b"".join(w.to_bytes(8, "little") for w in words)


def seeded_blocks(seed, n, nblocks):
    d = seed_draws(seed)
    return [next(d) % nblocks for _ in range(n)]


def nblocks(t):
    return t.tree.data_sectors * 512 // t.tree.consts()["BSIZE"]


## The disk ######################################################################

def check_reads(t, out, status, path, seed, n, mode):
    L = done(t, out, status)
    want = seeded_blocks(seed, n, nblocks(t))
    want.append(want[0])                        # read again: from the cache
    got = [(int(b), int(h, 16)) for b, h in re.findall(r"^block (\d+) fnv 0x([0-9a-f]+)$", L, re.M)]
    t.check([b for b, _ in got] == want, f"{mode}: disktest reads the seeded blocks",
            expected=want, got=[b for b, _ in got])
    for b, h in got:
        t.check(h == fnv64(block_of(t, path, b)),
                f"{mode}: block {b} as read should match the image (FNV-1a of its bytes)",
                expected=f"{fnv64(block_of(t, path, b)):#x}", got=f"{h:#x}")
    m = re.search(r"^requests (\d+) ide intrs (\d+) hits \d+ misses \d+ bad (\d+)$", L, re.M)
    t.check(m is not None, f"{mode}: disktest's sysinfo line", got=excerpt(L))
    distinct = len(set(want))
    t.check(int(m[1]) == distinct and int(m[2]) >= distinct,
            f"{mode}: {distinct} distinct blocks: as many disk requests, and an interrupt each",
            expected=f"requests {distinct}, ide intrs >= {distinct}", got=m[0])
    t.check(int(m[3]) == 0, "the cache's self-check finds nothing wrong", got=m[0])


@test(15, "disk_read")
def disk_read(t):
    """Seeded blocks read by DMA and by PIO match the host-built image."""
    for kargs, mode in (("", "dma"), ("ide=pio", "pio")):
        seed, img = t.new_seed(), t.data_disk(t.new_seed() % 1000000 + 1)
        n = 6 + seed % 7
        out, status = run_disk(t, "disktest", "read", seed, n, nblocks(t), kargs=kargs, data=img)
        t.check(re.search(rf"^ide: .*, {mode}$", out, re.M) is not None,
                f"the kernel's ide line should say {mode}", got=excerpt(out, 1200))
        check_reads(t, out, status, img, seed, n, mode)


@test(15, "disk_write")
def disk_write(t):
    """Seeded blocks written: read back from the disk in the same boot, found
    on the image by the host (nothing else changed), read after a reboot."""
    seed = t.new_seed()
    img_seed = t.new_seed() % 1000000 + 1
    img, orig = t.data_disk(img_seed), t.data_disk(img_seed)  # orig: to compare with
    n = 5 + seed % 8
    blocks = seeded_blocks(seed, n, nblocks(t))
    out, status = run_disk(t, "disktest", "write", seed, n, nblocks(t), data=img)
    L = done(t, out, status)
    for b in blocks:
        want = fnv64(content(t, seed, b, 1))
        t.check(f"wrote block {b} fnv {want:#x}" in L,
                f"disktest's block {b} (seeded data, version 1)", got=excerpt(L))
    distinct = len(set(blocks))
    t.check(f"{n} of {n} blocks hold the write's data, {distinct} disk requests" in L,
            f"blocks read back from the disk (after blkflush: {distinct} requests) hold "
            "what was written", got=excerpt(L))
    bs = t.tree.consts()["BSIZE"]
    with open(img, "rb") as f, open(orig, "rb") as g:
        after, before = f.read(), g.read()
    for b in range(len(after) // bs):
        chunk = after[b * bs:(b + 1) * bs]
        if b in blocks:
            t.check(chunk == content(t, seed, b, 1),
                    f"the host should find block {b} written on the image",
                    got=f"its first words {chunk[:24].hex()}")
        else:
            t.check(chunk == before[b * bs:(b + 1) * bs],
                    f"block {b} was not written: the image should hold it unchanged")
    out, status = run_disk(t, "disktest", "check", seed, n, nblocks(t), kargs="ide=pio", data=img)
    L = done(t, out, status)
    t.check(f"{n} of {n} blocks hold the write's data" in L,
            "after a reboot of the same image, the blocks still hold the write's data",
            got=excerpt(L))


@test(10, "disk_errors")
def disk_errors(t):
    """Blocks past the disk's end: the disk refuses, the kernel says so and
    returns -1; bad buffers refused; nothing harmed; no hang."""
    syms = [s for s in t.tree.symbols() if s.type in "bBdD" and s.size >= 4096]
    d = seed_draws(t.new_seed())
    s = syms[next(d) % len(syms)]
    kaddr = s.addr + (next(d) % (s.size // 8)) * 8
    nb = nblocks(t)
    out, status = run_disk(t, "disktest", "bad", nb, f"{kaddr:#x}")
    L = done(t, out, status)
    for what in ("read past the disk's end", "write past the disk's end", "read beyond LBA28",
                 "read into kernel memory", "write from kernel memory",
                 "read across the heap's end", "write from across the heap's end",
                 "read into an unmapped page"):
        t.check(f"bad: {what} -> -1" in L, f"{what} (kernel address {kaddr:#x}, in {s.name}) "
                "should return -1", got=excerpt(L))
    t.check(re.search(rf"^ide: disk 1 block {nb}: read failed", out, re.M) is not None,
            f"the kernel should say that the disk refused block {nb}", got=excerpt(out, 1500))
    t.check("bad: blocks 0 and 1 unchanged" in L, "blocks 0 and 1 unharmed", got=excerpt(L))


## The cache #####################################################################

@test(10, "cache_lru")
def cache_lru(t):
    """The disk requests of each read: cached blocks need none, and the
    least recently used block is the one replaced."""
    nbuf = t.tree.consts()["NBUF"]
    out, status = run_disk(t, "disktest", "lru")
    L = done(t, out, status)
    want = [f"lru: {nbuf} blocks read, {nbuf} requests",
            "lru: block 0 again, 0 requests",
            f"lru: block {nbuf} (new), 1 requests",
            "lru: block 0 again, 0 requests",
            "lru: block 2 again, 0 requests",
            "lru: block 1 again, 1 requests"]
    got = [l for l in L.splitlines() if l.startswith("lru: ")]
    t.check(got == want, "reads of NBUF blocks fill the cache; block 0, read again, is "
            "the most recently used, so block 1 is the one that block NBUF replaces",
            expected="\n".join(want), got="\n".join(got))


@test(5, "cache_full")
def cache_full(t):
    """More processes than the cache has buffers read blocks at once: bget
    waits for a free buffer (a user program cannot make it panic)."""
    seed = t.new_seed()
    nproc = t.tree.consts()["NBUF"] + 16
    base = 1 + seed % (nblocks(t) - 4 * nproc)
    out, status = run_disk(t, "disktest", "many", nproc, 3, base, data=t.data_disk(seed % 1000 + 1))
    L = done(t, out, status)
    t.check(f"many: {nproc} of {nproc} processes read their 3 blocks, cache check 0" in L,
            f"{nproc} processes, each reading its own blocks at once, all right",
            got=excerpt(L))


def stress_final(seed, nproc, nops, nset=48):
    """disktest stress's blocks' last versions, as its children write them."""
    final = [0] * nset
    for i in range(nproc):
        x = (seed + i + 1) & MASK64
        for _ in range(nops):
            x = lcg(x)
            b = (x >> 33) % nset
            if b % nproc == i:
                x = lcg(x)
                if (x >> 33) % 2 == 0:
                    final[b] += 1
    return final


@test(15, "cache_shared")
def cache_shared(t):
    """Four processes on four CPUs read and write overlapping blocks: whole
    blocks, never older versions, the last versions on the disk, and at
    most one buffer per block all along."""
    seed = t.new_seed()
    nops, base = 150 + seed % 100, 1 + seed % (nblocks(t) - 100)
    img = t.data_disk(seed % 1000 + 1)
    out, status = run_disk(t, "disktest", "stress", seed, 4, nops, base, cpus=4, data=img)
    L = done(t, out, status)
    kids = re.findall(r"^child (\d+): (\d+) reads (\d+) writes (\d+) errors, cache check (\d+)$",
                      L, re.M)
    t.check(len(kids) == 4 and all(k[3] == "0" and k[4] == "0" for k in kids),
            "each child sees whole, never older, versions; the cache's self-check finds "
            "nothing", got=excerpt(L))
    final = stress_final(seed, 4, nops)
    t.check(f"stress: 48 of 48 blocks hold their last version, cache check 0" in L,
            "the blocks hold their last versions", got=excerpt(L))
    for b in range(48):
        t.check(block_of(t, img, base + b) == content(t, seed, base + b, final[b]),
                f"the host should find block {base + b}'s last version ({final[b]}) on the image")


## Interrupt-driven: the requester sleeps ###########################################

DISK_GDB_SCRIPT = r'''
import gdb

STOPS = 6


def val(expr):
    return gdb.parse_and_eval(expr)


nproc = int(val("sizeof(procs) / sizeof(procs[0])"))
for stop in range(1, STOPS + 1):
    gdb.execute("continue")
    head = int(val("(unsigned long)ide.queue"))
    sleepers = []
    for i in range(nproc):
        p = "procs[%d]" % i
        if str(val(p + ".state")) == "SLEEPING" and int(val("(unsigned long)" + p + ".chan")) == head:
            sleepers.append(int(val(p + ".pid")))
    print("stop %d head %#x block %d sleepers %s irqs %d" % (
        stop, head, int(val("ide.queue->blockno")) if head else -1,
        ",".join(map(str, sleepers)) or "none", int(val("cpus[0].irqs[@IRQ_IDE@]"))))
'''


@test(15, "disk_sleeps")
def disk_sleeps(t):
    """GDB, stopped in the disk's interrupt (ide_intr) on one CPU: the
    request at the head of the queue is in flight, and the process that
    asked for it is SLEEPING on its buffer; the interrupt count grows."""
    script = os.path.join(t.tmp, "disk_sleeps.py")
    with open(script, "w") as f:
        f.write(DISK_GDB_SCRIPT.replace("@IRQ_IDE@", str(t.tree.consts()["IRQ_IDE"])))
    n = 40 + t.new_seed() % 40
    q = t.boot(f"init=disktest:wait:{n}", gdb=True, cpus=1)
    gdb = t.gdb(["hbreak ide_intr", f"source {script}", "delete", "detach"])
    expect_alive(q, EXIT.pattern)
    stops = re.findall(r"^stop (\d+) head (0x[0-9a-f]+) block (-?\d+) sleepers (\S+) irqs (\d+)$",
                       gdb, re.M)
    t.check(len(stops) == 6, "GDB should stop in ide_intr 6 times (if the kernel's lines "
            "show no disktest line, its reads failed or never ended)", got=excerpt(gdb, 600))
    table = "\n".join(" ".join(s) for s in stops)
    t.check(all(int(s[1], 16) != 0 for s in stops),
            "at each interrupt a request should be at the head of ide.queue (in flight)",
            got=table)
    t.check(all(s[3] != "none" for s in stops),
            "its process should be SLEEPING with chan = its buffer (a driver that polls "
            "keeps it running)", got=table)
    irqs = [int(s[4]) for s in stops]
    t.check(irqs == sorted(irqs) and irqs[-1] > irqs[0],
            "cpus[0].irqs[IRQ_IDE] should grow from interrupt to interrupt", got=table)


## The console ###################################################################

WORDS = "kestrel disk block cache sector buffer queue inode journal serial tty line".split()


def typed_lines(seed):
    """[(what to type, what read should return, the echo)] from seed."""
    d = seed_draws(seed)
    out = []
    for i in range(6):
        text = " ".join(WORDS[next(d) % len(WORDS)] for _ in range(1 + next(d) % 3))
        kind = i % 3
        if kind == 0:           # typos erased with backspaces (DEL or ^H)
            cut = 1 + next(d) % len(text)
            typo = "".join(chr(ord("a") + next(d) % 26) for _ in range(1 + next(d) % 4))
            bs = "\x7f" if next(d) % 2 else "\x08"
            keys = text[:cut] + typo + bs * len(typo) + text[cut:]
            echo = text[:cut] + typo + "\b \b" * len(typo) + text[cut:]
        elif kind == 1:         # a false start erased with ^U
            junk = WORDS[next(d) % len(WORDS)] + "x"
            keys = junk + "\x15" + text
            echo = junk + "\b \b" * len(junk) + text
        else:                   # erases on an empty line: nothing to erase
            keys = "\x7f" * (1 + next(d) % 3) + "\x15" + text
            echo = text
        end = "\r" if next(d) % 2 else "\n"
        out.append((keys + end, text + "\n", echo + "\n"))
    return out


def unescape(s):
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m[1], 16)), s.replace("\\n", "\n"))


def reads_until(q, want):
    """contest's reads, joined, until they make up want (or one differs)."""
    got = ""
    while len(got) < len(want):
        m = q.expect(r'contest: (read \d+ "(.*)"|eof)$')  # (an echo may precede it)
        if m[1] == "eof":
            return got + "<eof>"
        got += unescape(m[2])
        if not want.startswith(got):
            break
    return got


@test(15, "console_edit")
def console_edit(t):
    """Seeded lines typed at the console, with backspaces and ^U: read()
    returns them edited, a read's size at most, each echoed as typed; ^D
    ends the last line without a newline (and the read after it finds the
    ^D first: end of file); a ^D alone is end of file again."""
    seed = t.new_seed()
    rsize = 5 + seed % 30
    q = t.boot(f"init=contest:2:{rsize}")
    q.expect(r"^contest: ready$")
    typed = typed_lines(seed)
    # Each line of the third kind (erases on an empty line) is typed with
    # the line before it, at once: its erases come while that line may not
    # be read yet, and must not reach into it.
    for group in ([typed[0]], typed[1:3], [typed[3]], typed[4:6]):
        start = len(q.output)
        q.send("".join(keys for keys, _, _ in group))
        for keys, want, _ in group:
            got = reads_until(q, want)
            t.check(got == want, f"typed {keys!r}: read() should return the edited line "
                    f"(in reads of at most {rsize} bytes; erases never reach an ended line)",
                    expected=repr(want), got=repr(got))
        keys, _, echo = group[0]
        shown = q.output[start:]
        t.check(shown.startswith(echo), f"typed {keys!r}: the echo", expected=repr(echo),
                got=repr(shown[:len(echo) + 20]))
    q.send("last\x04")
    got = reads_until(q, "last")
    t.check(got == "last", "'last' and ^D: read() returns 'last', without a newline",
            got=repr(got))
    q.expect(r"^contest: eof$")                 # the next read finds the ^D first
    q.send("\x04")
    q.expect(r"^contest: eof$")
    m = expect_alive(q, EXIT.pattern)
    t.check(m[1] == "0", "contest exits 0 after end of file", got=excerpt(q.output, 1000))


@test(10, "console_wait")
def console_wait(t):
    """read() sleeps until a whole line has arrived: with half a line
    typed, ^P's process list shows the reader asleep on the console's
    input; the rest of the line ends its read, the whole line at once."""
    sym = [s for s in t.tree.symbols() if s.name == "tty"]
    t.check(len(sym) == 1 and sym[0].size > 0, "kern/tty.c's tty, in the kernel's symbols",
            got=str(sym))
    lo, hi = sym[0].addr, sym[0].addr + sym[0].size
    seed = t.new_seed()
    d = seed_draws(seed)
    half = WORDS[next(d) % len(WORDS)]
    rest = "-" + WORDS[next(d) % len(WORDS)]
    q = t.boot("init=contest:1:100")
    q.expect(r"^contest: ready$")
    q.send(half)
    asleep = None
    for _ in range(20):
        q.send("\x10")
        m = q.expect(r"^(\d+) (\w+) contest(?: on (0x[0-9a-f]+))?$")
        if m[2] == "sleeping":
            asleep = int(m[3], 16)
            break
    t.check(asleep is not None, "^P should show contest sleeping (20 tries)",
            got=excerpt(q.output, 1500))
    t.check(lo <= asleep < hi, f"contest should sleep on the console's input (in tty, "
            f"{lo:#x}..{hi:#x})", got=f"{asleep:#x}")
    t.check(re.search(r"contest: read \d", q.output) is None, "no read() should return half a line",
            got=excerpt(q.output, 1000))
    q.send(rest + "\n")
    m = q.expect(r'^contest: (read \d+ "(.*)"|eof)$')
    t.check(m[2] is not None and unescape(m[2]) == half + rest + "\n",
            "the whole line in one read", expected=repr(half + rest + "\n"), got=m[0])
    q.send("\x04")
    expect_alive(q, EXIT.pattern)


@test(0, "console_flood", scored=False)
def console_flood(t):
    """Seeded lines written in big writes arrive whole and in order, through
    the transmit ring and the UART's interrupts, before the kernel's line
    that says the program exited."""
    seed = t.new_seed()
    n = 200 + seed % 200
    out, status = run(t, "contest", "flood", seed, n)
    d = seed_draws(seed)
    want = []
    for _ in range(n):
        k = 10 + next(d) % 60
        want.append("".join(chr(ord("a") + next(d) % 26) for _ in range(k)))
    h = 0x811c9dc5
    for b in ("\n".join(want) + "\n").encode():
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    start = out.index("cmdline:")
    got = [l for l in out[start:].splitlines() if re.fullmatch(r"[a-z]{10,69}", l)]
    t.check(got == want, f"the {n} seeded lines, whole and in order",
            got=excerpt("\n".join(got), 600))
    m = re.search(r"^contest: flood (\d+) lines fnv 0x([0-9a-f]+) uart intrs (\d+)$", out, re.M)
    t.check(m is not None and int(m[2], 16) == h and status == 0,
            "contest's own line, its hash of what it wrote", expected=f"fnv {h:#x}",
            got=m[0] if m else excerpt(out, 600))
    nbytes = sum(len(l) + 2 for l in want)     # CR LF
    t.check(int(m[3]) >= nbytes // (2 * t.tree.consts()["UART_TXBUF"]),
            f"{nbytes} bytes through a ring of {t.tree.consts()['UART_TXBUF']}: the "
            "transmit interrupts should drain it", got=m[0])
