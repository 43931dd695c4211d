"""Adversarial submissions, built from a lab's handout at test time: make
test grades them in one batch (grade.py --batch) and checks that each gets
the score it deserves, test by test, and that the batch ends in bounded time.

A cheat is a name, an edit that turns a student's copy of the handout (its
student files still the stubs) into the submission, and which tests it
should pass, by name. Adding one is a function and a line in CHEATS; a later
lab adds its own list under its number.
"""

import os
import re
import shutil
import subprocess
import tarfile

import handout


class Kit:
    """What an edit works with: the lab's handout and solution, and a folder
    outside every submission, in which the grader must write nothing."""

    def __init__(self, top, lab, work):
        self.top, self.lab, self.work = top, lab, work
        self.manifest = handout.Manifest(top)
        self.files = self.manifest.edit.get(lab, [])
        self.handout = os.path.join(work, "handout")
        handout.make_handout(top, lab, self.handout, False)
        self.outside = os.path.join(work, "outside")
        os.makedirs(self.outside)
        self._build = None

    def solved(self, path):
        """The instructors' file, as it is in the lab's solution (SOL=lab)."""
        with open(os.path.join(self.top, path), "rb") as f:
            return handout.convert(path, f.read(), self.lab, self.lab, self.manifest).decode()

    def read(self, d, path):
        with open(os.path.join(d, path)) as f:
            return f.read()

    def write(self, d, path, text):
        os.makedirs(os.path.dirname(os.path.join(d, path)), exist_ok=True)
        with open(os.path.join(d, path), "w") as f:
            f.write(text)

    def solve(self, d, *paths):
        for p in paths or self.files:
            self.write(d, p, self.solved(p))

    def solved_build(self):
        """build/ of a solved tree (made once)."""
        if self._build is None:
            tree = os.path.join(self.work, "solved-tree")
            shutil.copytree(self.handout, tree)
            self.solve(tree)
            subprocess.run(["make", "-s", "all"], cwd=tree, check=True, capture_output=True)
            self._build = os.path.join(tree, "build")
        return self._build


class Cheat:
    def __init__(self, name, edit, passes, ignored=(), check=None):
        self.name = name
        self.edit = edit            # edit(kit, folder)
        self.passes = passes        # passes(test name, scored): should this lab's test
                                    # pass? (None: either). Earlier labs' tests must pass.
        self.ignored = ignored      # paths the report must list as ignored
        self.check = check          # check(kit, report): "" or what is wrong


def everything(name, scored):
    return True


def nothing(name, scored):
    return False


def sanity(name, scored):
    return not scored


def zero(name, scored):
    """No scored test passes; a sanity check may (None: either is right)."""
    return None if not scored else False


def fails(*names):
    """These scored tests must fail; the others of the lab may go either way
    (a broken allocator can break more than the test aimed at it)."""
    return lambda name, scored: True if not scored else (False if name in names else None)


def no_backtrace(name, scored):
    return "backtrace" not in name and not name.startswith("bt_")


def insert_in_printf(text, code):
    """Lab 1's kern/printf.c with code run first thing in printf()."""
    head = "\nprintf(const char *fmt, ...)\n{\n"
    assert head in text, "kern/printf.c: printf() is not where the cheats expect it"
    return text.replace(head, head + code)


## Lab 1 ######################################################################

def honest(k, d):
    k.solve(d)
    k.write(d, f"answers-lab{k.lab}.txt", "My answers.\n")


def fake_print_qemu(k, d):
    k.write(d, "Makefile", k.read(d, "Makefile") + f"""
all:
\t@echo "$(MAKE) $(MAKECMDGOALS) $$(id)" >{k.outside}/the-makefile-ran
print-qemu:
\t@printf '%s\\n' sh -c 'echo "e820: [mem 0x0]"; echo "running in 64-bit long mode"; \\
\t  echo "panic: halted"; echo "printf: done"'
""")


def fake_gdbinit(k, d):
    k.write(d, ".gdbinit.tmpl", "echo Breakpoint 1, bt_leaf () at kern/test/selftest.c:22\\n\n"
            "echo rip 0xffffffff80101000 0xffffffff80101000 <bt_leaf>\\n\n"
            "echo #0  bt_leaf () at kern/test/selftest.c:22\\n\n"
            "echo 0000:7c00  cli\\nreal mode\\n\nquit\n")


def prebuilt_build(k, d):
    shutil.copytree(k.solved_build(), os.path.join(d, "build"))


def build_symlink(k, d):
    honest(k, d)
    os.makedirs(os.path.join(k.outside, "build"))
    os.symlink(os.path.join(k.outside, "build"), os.path.join(d, "build"))


def hardcoded_backtrace(k, d):
    """The solution's ksym_lookup; backtrace() prints a fixed chain, each
    function's address + 0x10, through the real print_frame."""
    k.solve(d, "kern/printf.c")
    fixed = """
  void bt_a(int), bt_b(int), main(void);
  uint64 chain[] = { (uint64)bt_a, (uint64)bt_b, (uint64)selftest_run, (uint64)main };

  printf("backtrace:\\n");
  for (int i = 0; i < 4; i++)
    print_frame(i, chain[i] + 0x10);
  return;
"""
    text, n = re.subn(r"\nvoid\nbacktrace\([^)]*\)\n\{\n", lambda m: m.group(0) + fixed,
                      k.solved("kern/backtrace.c"))
    assert n == 1, "kern/backtrace.c: backtrace() is not where the cheats expect it"
    k.write(d, "kern/backtrace.c", text)


def endless_loop(k, d):
    k.write(d, "kern/printf.c", insert_in_printf(k.read(d, "kern/printf.c"), "  for (;;)\n    ;\n"))


def endless_print(k, d):
    k.write(d, "kern/printf.c", insert_in_printf(
        k.read(d, "kern/printf.c"), "  for (;;)\n    putc('x'), putc('\\n');\n"))


def selftest_changed(k, d):
    text = k.read(d, "kern/test/selftest.c").replace(
        "printf_test(void)\n{\n",
        'printf_test(void)\n{\n  printf("printf: d [42] [-42] [0] [2147483647] [-2147483648]\\n");\n')
    k.write(d, "kern/test/selftest.c", text)


def reads_solution(k, d):
    """Build the instructors' solution into the kernel: the sandbox hides it."""
    solution = os.path.join(k.top, "kern", "printf.c")
    k.write(d, "kern/printf.c", k.read(d, "kern/printf.c")
            + f'__asm__(".section .rodata\\n.incbin \\"{solution}\\"\\n.previous");\n')


def build_fails(k, d):
    k.solve(d)
    k.write(d, "kern/printf.c", k.read(d, "kern/printf.c") + "\nint broken = ;\n")


def symlink_to_solution(k, d):
    for p in k.files:
        solution = os.path.join(k.outside, "solution", os.path.basename(p))
        k.write(k.outside, solution, k.solved(p))
        os.remove(os.path.join(d, p))
        os.symlink(solution, os.path.join(d, p))


def flat_upload(k, d):
    """A Gradescope drag-and-drop upload: the student files, no folders."""
    shutil.rmtree(d)
    os.mkdir(d)
    for p in k.files:
        k.write(d, os.path.basename(p), k.solved(p))


def handin_tarball(k, d):
    """What make handin writes, alone in the submission."""
    solved = os.path.join(k.work, "handin-tree")
    shutil.copytree(d, solved)
    honest(k, solved)
    shutil.rmtree(d)
    os.mkdir(d)
    with tarfile.open(os.path.join(d, f"handin-lab{k.lab}.tar.gz"), "w:gz") as tar:
        for p in k.files + [f"answers-lab{k.lab}.txt"]:
            tar.add(os.path.join(solved, p), p)


def build_error_shown(k, report):
    return "" if re.search(r"kern/printf\.c:\d+.*error", report["output"]) else \
        "the report does not show the compiler's error"


def solution_hidden(k, report):
    if report["extra_data"]["sandbox"] != "bubblewrap":
        return ""                   # only a user's permissions hide the tree
    return "" if "the build failed" in report["output"] else \
        "the build read the instructors' tree"


def symlink_refused(k, report):
    return "" if "symbolic link" in report["output"] else \
        "the report does not say the symlinked files were refused"


## Lab 2 ######################################################################

def patched(k, d, path, old, new):
    """The solution's path with old (which must be there once) made new."""
    text = k.solved(path)
    assert text.count(old) == 1, f"{path}: {old.strip()!r} is not where the cheats expect it"
    k.write(d, path, text.replace(old, new))


def solve_but(path, old, new):
    """Every student file solved, then one patch."""
    def edit(k, d):
        k.solve(d)
        patched(k, d, path, old, new)
    return edit


CHEATS_2 = [
    # kfree poisons only under memdebug.
    Cheat("poison_only_debug", solve_but("kern/kalloc.c", "  if (poison_on_free())\n",
          "  if (kmem.debug && poison_on_free())\n"), fails("kalloc_uaf")),
    # Table entries without PTE_U (lab 4's user pages would then fault).
    Cheat("table_not_user", solve_but("kern/vm.c", "*pte = PADDR(page) | PTE_TABLE;",
          "*pte = PADDR(page) | PTE_P | PTE_W;"), fails("vm_map")),
    # vm_walk walks into a large page as if it were a table.
    Cheat("walk_into_large_page", solve_but("kern/vm.c",
          "      if (*pte & PTE_PS)\n        return NULL;\n", ""), fails("vm_map")),
    # vm_map overwrites a present entry.
    Cheat("remap_silently", solve_but("kern/vm.c",
          '    if (*pte & PTE_P)\n      panic("vm_map: %p is mapped already", (void *)(va + off));\n',
          ""), fails("vm_map")),
    # kalloc hands out one page twice, once the boot is over (its 1000th
    # page: a boot takes fewer), so that only a test that takes every page
    # can see it.
    Cheat("same_page_twice", solve_but("kern/kalloc.c", "  kmem.free = r->next;\n",
          "  static int calls;\n  if (++calls == 1000)\n    return r;\n"
          "  kmem.free = r->next;\n"), fails("kalloc_all")),
    # The free-page count printed without counting.
    Cheat("hardcoded_count", solve_but("kern/kalloc.c", "  return kmem.nfree;\n",
          "  return 32443;\n"), fails("kalloc_count", "kalloc_all")),
    Cheat("count_not_counted", solve_but("kern/kalloc.c", "  return kmem.nfree;\n",
          "  return memmap_pages() - 300;\n"), fails("kalloc_count", "kalloc_all")),
    Cheat("no_double_free_check", solve_but("kern/kalloc.c",
          '  if (freemap_get(pa))\n    bad_free(page, "double free", ret);\n',
          "  (void)freemap_get;\n"),
          fails("kfree_checks")),
    Cheat("no_poison_check", solve_but("kern/kalloc.c",
          "  if (r != NULL && kmem.debug)\n", "  if (0 && kmem.debug)\n"),
          fails("kalloc_uaf")),
    # vm_map writes a writable, executable page whatever it is asked.
    Cheat("ignores_perm", solve_but("kern/vm.c",
          "*pte = (pa + off) | perm | PTE_P", "*pte = (pa + off) | (perm & 0) | PTE_W | PTE_P"),
          fails("vm_map", "gdb_pagetable")),
    # The direct map always in 1 GiB pages, whatever directmap=2m says.
    Cheat("always_1g", solve_but("kern/vm.c", "int use1g = f.page1g && !(opt && strcmp(opt, \"2m\") == 0);",
          "int use1g = f.page1g || !opt;"), fails("gdb_directmap_2m")),
    Cheat("memtest_changed", lambda k, d: k.write(d, "kern/test/memtest.c", k.read(d, "kern/test/memtest.c")
          + "\n// every test passes, says this file\n"), sanity, ignored=["kern/test/memtest.c"]),
]


## Lab 3 ######################################################################

CHEATS_3 = [
    # The page fault report prints the faulting instruction's address as CR2.
    Cheat("cr2_from_rip", solve_but("kern/trap.c", "  uint64 va = rcr2(), e = tf->err;\n",
          "  uint64 va = tf->rip, e = tf->err;\n"), fails("pagefault_notpresent")),
    # No backtrace of the interrupted code: the handler's own instead.
    Cheat("handler_backtrace", solve_but("kern/trap.c",
          "  stack_bounds(tf->rbp, &lo, &hi);\n  backtrace(tf->rbp, lo, hi);\n",
          "  stack_bounds(rrbp(), &lo, &hi);\n  backtrace(rrbp(), lo, hi);\n"),
          fails("trap_divide", "pagefault_notpresent")),
    # Ticks counted four times over. (Twice over is too close: on a loaded
    # host TCG drops timer interrupts, and 2x measured can fall to ~1.2x,
    # inside the test's documented tolerance of 0.5x-1.5x.)
    Cheat("ticks_fourfold", solve_but("kern/trap.c", "    ticks++;\n", "    ticks += 4;\n"),
          fails("ticks")),
    # An NMI is fatal.
    Cheat("nmi_fatal", solve_but("kern/trap.c",
          "    mycpu()->nmis++;\n", '    panic("trap: NMI");\n'), fails("nmi")),
    Cheat("traptest_changed", lambda k, d: k.write(d, "kern/test/traptest.c", k.read(d, "kern/test/traptest.c")
          + "\n// every test passes, says this file\n"), sanity, ignored=["kern/test/traptest.c"]),
]


## Lab 4 ######################################################################

def fake_badptr(k, d):
    """Stubs, and a user/badptr.c that prints what the grader looks for."""
    k.write(d, "user/badptr.c", '#include "kernel/types.h"\n#include "user/user.h"\n'
            'int\nmain(int argc, char *argv[])\n{\n  printf("badptr: 45 calls, all -1\\n");\n'
            '  exit(0);\n}\n')


CHEATS_4 = [
    # wait reports every child as having exited 0.
    Cheat("wait_status_zero", solve_but("kern/proc.c", "        if (status && copyout",
          "        c->xstatus = 0;\n        if (status && copyout"), fails("hang")),
    # wait reaps the child even when its status cannot be stored.
    Cheat("wait_reaps_on_bad_status", solve_but("kern/proc.c",
          "sizeof(c->xstatus)) < 0) {\n          unlock_procs();\n          return -1;\n        }\n",
          "sizeof(c->xstatus)) < 0) {\n        }\n"), fails("fuzz", "badptr")),
    # A fork that fails halfway keeps what it took (no freeproc).
    Cheat("fork_failure_leaks", solve_but("kern/proc.c",
          "uvm_copy(p->pml4, np->pml4) < 0) {\n    freeproc(np);\n",
          "uvm_copy(p->pml4, np->pml4) < 0) {\n    np->state = UNUSED;\n"), fails("forkleak")),
    # copy_page keeps every bit of the original entry (accessed, dirty, global).
    Cheat("copy_keeps_flags", solve_but("kern/uvm.c", "*pte & (PTE_W | PTE_U | user_nx), PGSIZE)",
          "*pte & ~(uint64)PTE_ADDR, PGSIZE)"), fails("uvm_copy")),
    # wait goes on waiting for a child although its caller was killed.
    Cheat("wait_ignores_kill", solve_but("kern/proc.c", "if (!children || p->killed)",
          "if (!children)"), fails("kill")),
    # fork leaves the child the default FPU/SSE state, not the parent's.
    Cheat("fork_drops_fpu", solve_but("kern/proc.c",
          "  fpu_save(p->fpu);             // the parent's FPU/SSE state, as it is now\n"
          "  memmove(np->fpu, p->fpu, sizeof(np->fpu));\n", ""),
          fails("fpu")),
    # uvm_check looks at the first page of a range only.
    Cheat("check_first_page", solve_but("kern/uvm.c",
          "page < va + len; page += PGSIZE", "page <= PGROUNDDOWN(va); page += PGSIZE"),
          fails("uvm_check", "badptr")),
    # No bound at USERTOP: a range that wraps around looks empty.
    Cheat("no_usertop_bound", solve_but("kern/uvm.c",
          "  if (va >= USERTOP || len > USERTOP - va)\n    return -1;\n", ""),
          fails("uvm_check")),
    # Writable or not, any user page will do for copyout.
    Cheat("no_write_check", solve_but("kern/uvm.c", "(write ? PTE_W : 0)", "0"),
          fails("uvm_check", "badptr")),
    # fork's child shares the parent's pages instead of copying them.
    Cheat("fork_shares_pages", solve_but("kern/uvm.c",
          "  memmove(page, KADDR(*pte & PTE_ADDR), PGSIZE);\n  if (vm_map(to, va, PADDR(page),",
          "  kfree(page);\n  page = KADDR(*pte & PTE_ADDR);\n  if (vm_map(to, va, PADDR(page),"),
          fails("uvm_copy", "forktree")),
    # The copies lose NX: a forked child can run code from its heap and stack.
    Cheat("copy_drops_nx", solve_but("kern/uvm.c", "*pte & (PTE_W | PTE_U | user_nx)",
          "*pte & (PTE_W | PTE_U)"), fails("uvm_copy", "faults")),
    # The child gets the parent's %rax: fork returns the child's pid in both.
    Cheat("child_rax_kept", solve_but("kern/proc.c", "  np->tf->rax = 0;", ""),
          fails("forktree", "forkleak")),
    # wait never reaps: slots and kernel stacks leak.
    Cheat("wait_never_frees", solve_but("kern/proc.c", "        freeproc(c);\n",
          "        c->parent = NULL;\n"), fails("forkleak")),
    # wait reports a status the child never gave.
    Cheat("wait_wrong_status", solve_but("kern/proc.c", "&c->xstatus, sizeof(c->xstatus)",
          "&children, sizeof(c->xstatus)"), fails("forktree")),
    # stac/clac whether or not the CPU has SMAP: an invalid opcode there.
    Cheat("stac_always", solve_but("kern/uvm.c", "  if (smap)\n    stac();\n", "  stac();\n"),
          fails("nosmap")),
    Cheat("proctest_changed", lambda k, d: k.write(d, "kern/test/proctest.c", k.read(d, "kern/test/proctest.c")
          + "\n// every test passes, says this file\n"), sanity, ignored=["kern/test/proctest.c"]),
    Cheat("fake_badptr", fake_badptr, sanity, ignored=["user/badptr.c"]),
]


## Lab 5 ######################################################################

def faked_aps(k, d):
    """start_ap says each AP came up, and prints its line for it: no IPI."""
    k.solve(d)
    text = k.read(d, "kern/smp.c")
    start = text.index("  *in_copy(ap_tramp_cr3)")
    end = text.index("  return 0;\n", start)
    text = (text[:start] + "  printf(\"cpu %d: up (apic id %d)\\n\", id, cpu_apicid[id]);\n"
            "  ap_up[id] = 1;\n  (void)in_copy;\n  (void)boot_pml4;\n  (void)ap_stack_top;\n" + text[end:])
    k.write(d, "kern/smp.c", text)


CHEATS_5 = [
    # A lock without an atomic instruction: look, then take.
    Cheat("lock_not_atomic", solve_but("kern/spinlock.c",
          "  while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0) {\n",
          "  for (;; pause()) {\n    if (lk->locked == 0) {\n      lk->locked = 1;\n      break;\n    }\n"),
          fails("lock_count")),
    # The boot CPU pretends the APs started.
    Cheat("faked_aps", faked_aps, fails("cpus_up", "lock_count", "together", "panic_stops")),
    # A watchdog that never fires.
    Cheat("watchdog_silent", solve_but("kern/spinlock.c", "      if (waited_too_long(&w))\n",
          "      if (0 && waited_too_long(&w))\n"),
          fails("lock_watchdog", "lock_watchdog_early", "smp_watchdog")),
    # No check for a lock this CPU holds already.
    Cheat("no_recursion_check", solve_but("kern/spinlock.c", "  if (held_by(c, lk))\n    panic(",
          "  if (0)\n    panic("), fails("lock_recursive")),
    # The order checker records nothing.
    Cheat("orders_forgotten", solve_but("kern/spinlock.c",
          "    __atomic_store_n(&order.after[a], order.after[a] | (1ull << b), __ATOMIC_RELAXED);\n", ""),
          fails("lock_order", "smp_order", "lock_ok")),
]


## Lab 6 ######################################################################

CHEATS_6 = [
    # XSAVE asked for x87 and SSE only: the YMM upper halves are lost.
    Cheat("xsave_sse_only", solve_but("kern/fpu.c",
          '  asm volatile("xsave64 (%0)" : : "r"(area), "a"((uint32)xsave_features),',
          '  asm volatile("xsave64 (%0)" : : "r"(area), "a"((uint32)xsave_features & 3),'),
          fails("fpu_preempt")),
    # XCR0 set, but the switch saves nothing: the registers are whoever ran last.
    Cheat("xsave_saves_nothing", solve_but("kern/fpu.c",
          '  asm volatile("xsave64 (%0)" : : "r"(area), "a"((uint32)xsave_features),\n'
          '               "d"((uint32)(xsave_features >> 32)) : "memory");\n', "  (void)area;\n"),
          fails("fpu_preempt")),
    # sleep that only yields: right answers, but a sleeper is never asleep.
    Cheat("sleep_spins", solve_but("kern/sleep.c", "  p->state = SLEEPING;\n",
          "  p->state = RUNNABLE;\n"), fails("sleep_ticks", "sleep_state")),
    # The lost wakeup: lk goes before the process table is held.
    Cheat("lost_wakeup", solve_but("kern/sleep.c",
          "    acquire(&procs_lock);               // before lk goes: no wakeup in between\n"
          "    release(lk);\n", "    release(lk);\n    acquire(&procs_lock);\n"),
          fails("pingpong")),
    # A write that fills the ring counts a byte it never stored.
    Cheat("pipe_drops_byte", solve_but("kern/pipe.c", "    pi->nwrite += len;\n",
          "    pi->nwrite += len - (len == room && len > 1);\n"),
          fails("pipe_chain", "pipe_eof", "storm", "xv6_pipetest")),
    # A reader asleep on an empty pipe never looks at p->killed.
    Cheat("kill_ignored", solve_but("kern/pipe.c",
          "  while (pi->nread == pi->nwrite && pi->writeopen) {\n    if (p->killed) {",
          "  while (pi->nread == pi->nwrite && pi->writeopen) {\n    if (0) {"),
          fails("kill_blocked")),
]


## Lab 7 ######################################################################

def no_line_wait(k, d):
    """console_input makes each byte readable; console_read returns what it has."""
    k.solve(d)
    text = k.solved("kern/tty.c")
    for old, new in (("    if (c == '\\n' || c == CTRL('D') || tty.e - tty.r == INPUT_BUF) {",
                      "    if (1) {"),
                     ("    while (tty.r == tty.w) {\n",
                      "    if (got > 0 && tty.r == tty.w)\n      break;\n    while (tty.r == tty.w) {\n")):
        assert text.count(old) == 1, f"kern/tty.c: {old!r} is not where no_line_wait expects it"
        text = text.replace(old, new)
    k.write(d, "kern/tty.c", text)


CHEATS_7 = [
    # A driver that waits by spinning: right data, but the waiter never sleeps.
    Cheat("spin_wait", solve_but("kern/ide.c", "  while (!b->done)\n    sleep(b, &ide.lock);\n",
          "  while (!b->done) {\n    release(&ide.lock);\n    pause();\n"
          "    acquire(&ide.lock);\n  }\n"), fails("disk_sleeps")),
    # bget finds a block only in a buffer in use: a released block, read
    # again, gets a second buffer beside its old one.
    Cheat("two_buffers", solve_but("kern/bio.c",
          "      if (b->dev == dev && b->blockno == blockno && (b->valid || b->refcnt > 0)) {",
          "      if (b->dev == dev && b->blockno == blockno && b->refcnt > 0) {"),
          fails("disk_read", "cache_lru", "cache_shared")),
    # A buffer taken for another block keeps the old one's data: a stale read.
    Cheat("stale_reuse", solve_but("kern/bio.c", "        b->valid = 0;\n        b->refcnt = 1;\n",
          "        b->refcnt = 1;\n"), fails("cache_lru", "cache_shared")),
    # The disk's error never reaches the caller: a block past the end "reads".
    Cheat("errors_ignored", solve_but("kern/ide.c", "  if (b->error) {\n", "  if (0 && b->error) {\n"),
          fails("disk_errors")),
    # xv6's bget: a panic when every buffer is in use, which blkread can cause.
    Cheat("bget_panics", solve_but("kern/bio.c",
          "    sleep(&bcache, &bcache.lock);       // every buffer in use: until brelse frees one\n",
          "    panic(\"bget: no buffers\");\n"), fails("cache_full")),
    # bflush forgets nothing: "read back from the disk" reads the cache.
    Cheat("flush_keeps", solve_but("kern/bio.c", "      b->valid = 0;\n      n++;\n",
          "      n++;\n"), fails("disk_write")),
    # brelse leaves the list alone: not least recently used.
    Cheat("lru_ignored", solve_but("kern/bio.c",
          "    b->next->prev = b->prev;            // out of its place ...\n"
          "    b->prev->next = b->next;\n"
          "    b->next = bcache.head.next;         // ... and in at the front\n"
          "    b->prev = &bcache.head;\n"
          "    bcache.head.next->prev = b;\n"
          "    bcache.head.next = b;\n", ""), fails("cache_lru")),
    # Console input without editing: every byte goes into the line.
    Cheat("no_editing", solve_but("kern/tty.c", "  switch (c) {\n",
          "  switch (c == CTRL('P') ? c : -1) {\n"),
          fails("console_edit")),
    # Every byte typed is readable at once, and read() takes what is there:
    # half lines, and no editing of what was read already.
    Cheat("no_line_wait", no_line_wait, fails("console_edit", "console_wait")),
    # Sleep locks that never wait: two processes in one buffer at once.
    Cheat("sleeplock_no_wait", solve_but("kern/sleeplock.c",
          "  while (sl->locked)\n    sleep(sl, &sl->lk);\n", ""), fails("cache_shared")),
]


CHEATS = {1: [
    Cheat("honest", honest, everything),
    Cheat("stubs", lambda k, d: None, sanity),
    Cheat("fake_print_qemu", fake_print_qemu, sanity, ignored=["Makefile"]),
    Cheat("fake_gdbinit", fake_gdbinit, sanity, ignored=[".gdbinit.tmpl"]),
    Cheat("prebuilt_build", prebuilt_build, sanity, ignored=["build/"]),
    Cheat("build_symlink", build_symlink, everything, ignored=["build/"]),
    Cheat("hardcoded_backtrace", hardcoded_backtrace, no_backtrace),
    Cheat("endless_loop", endless_loop, zero),
    Cheat("endless_print", endless_print, zero),
    Cheat("selftest_changed", selftest_changed, sanity, ignored=["kern/test/selftest.c"]),
    Cheat("reads_solution", reads_solution, zero, check=solution_hidden),
    Cheat("build_fails", build_fails, nothing, check=build_error_shown),
    Cheat("symlink_to_solution", symlink_to_solution, sanity, check=symlink_refused),
    Cheat("flat_upload", flat_upload, everything),
    Cheat("handin_tarball", handin_tarball, everything),
], 2: [
    Cheat("honest", honest, everything),
    Cheat("stubs", lambda k, d: None, sanity),
    *CHEATS_2,
], 3: [
    Cheat("honest", honest, everything),
    Cheat("stubs", lambda k, d: None, sanity),
    *CHEATS_3,
], 4: [
    Cheat("honest", honest, everything),
    Cheat("stubs", lambda k, d: None, sanity),
    *CHEATS_4,
], 5: [
    Cheat("honest", honest, everything),
    Cheat("stubs", lambda k, d: None, sanity),
    *CHEATS_5,
], 6: [
    Cheat("honest", honest, everything),
    Cheat("stubs", lambda k, d: None, sanity),
    *CHEATS_6,
], 7: [
    Cheat("honest", honest, everything),
    Cheat("stubs", lambda k, d: None, sanity),
    *CHEATS_7,
]}


def make_submissions(top, lab, work):
    """Write lab's cheats as submissions in work/subs; (kit, cheats)."""
    kit = Kit(top, lab, work)
    subs = os.path.join(work, "subs")
    os.mkdir(subs)
    for c in CHEATS.get(lab, []):
        d = os.path.join(subs, c.name)
        shutil.copytree(kit.handout, d, symlinks=True)
        c.edit(kit, d)
    return kit, CHEATS.get(lab, [])


def judge(kit, cheat, report):
    """What is wrong with cheat's report: a list of lines, empty if nothing."""
    wrong = []
    for t in report["tests"]:
        lab, name = t["name"].split(" ", 1)
        want = True if int(lab[3:]) < kit.lab else cheat.passes(name, t["max_score"] > 0)
        if want is not None and want != (t["status"] == "passed"):
            wrong.append(f"{name} should {'pass' if want else 'fail'}: "
                         + t["output"].strip().splitlines()[-1][:200])
    ignored = report.get("extra_data", {}).get("ignored", [])
    for p in cheat.ignored:
        if not any(i.startswith(p) for i in ignored):
            wrong.append(f"{p} is not listed as ignored (ignored: {', '.join(ignored)})")
    if cheat.check and cheat.check(kit, report):
        wrong.append(cheat.check(kit, report))
    return wrong
