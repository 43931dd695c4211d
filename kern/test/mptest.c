// Lab 5's self-tests that run on every CPU at once: the APs really run
// the kernel, a lock really excludes, and the checks work across CPUs.
//
// Each test gives the APs a function with smp_go and runs its own part on
// CPU 0. The functions whose frames or call sites the grader looks for
// are global and noinline. Draws from the seed as in locktest.c (x = the
// seed, "next" = seed_next(&x)); N is the number of CPUs running.
//
// test=smp_count: rounds = 500 + next % 1500, hold = next % 8. Every CPU,
// once all have arrived, takes the lock 'count' rounds times, and inside
// it reads the shared counter, waits hold pause()s, and writes it back
// plus one; it also notes whether another CPU was inside at that moment.
// Each CPU prints its own APIC ID, read from its own local APIC:
//   smp_count: N cpus, R rounds, hold H
//   smp_count: cpu I apic A rounds R            (one line per CPU)
//   smp_count: counter C (expected N*R), overlaps O
//   smp_count: done
//
// test=smp_alloc: rounds = 300 + next % 300. Every CPU, once all have
// arrived, each round takes 1 + (round % 8) pages from kalloc and one
// object of 16 << (round % 6) bytes from kmalloc, writes its stamp (CPU
// and round) over each, checks every stamp is still its own, and gives
// them all back. A page or object handed to two CPUs at once shows as a
// stamp that changed; the free counts must end where they began:
//   smp_alloc: N cpus, R rounds
//   smp_alloc: pages before P, after P; heap pages before H, after H; clobbered C
//   smp_alloc: done
//
// test=smp_panic: k = next % N. Every CPU, once all have arrived, spins in
// mp_spin (odd-numbered CPUs with interrupts off, as if they held a lock),
// but CPU k, which panics in mp_panic:
//   smp_panic: N cpus; cpu K panics
//   panic: smp_panic: cpu K panics as asked
//   ... panic: halted
// The machine then stays as it is (no power off), for the grader to ask
// QEMU where each CPU is: every one but K at cpu_stopped, K in
// halt_forever.
//
// test=smp_watchdog (N >= 2): f = 1 + next % (N - 1). CPU f takes the lock
// 'held' in mp_hold and keeps it, spinning there; CPU 0 then wants it in
// mp_want. The watchdog must end CPU 0's wait, and CPU f must print its
// backtrace, through mp_hold, from the NMI the watchdog sends it:
//   smp_watchdog: cpu F holds 'held' (mp_hold); cpu 0 waits (mp_want)
//   acquire: cpu 0 asks cpu F, the holder, for its backtrace (an NMI)
//   trap: non-maskable interrupt (vector 2) on cpu F in kernel mode ...
//   trap: rip 0x... mp_hold+0x..       (where the NMI found the holder)
//   panic: acquire: cpu 0 waited ... for lock 'held' at mp_want+0x..; cpu F holds it,
//          taken at mp_hold+0x..
//
// test=smp_order (N >= 2): f = 1 + next % (N - 1), and two of the names
// ord_1..ord_4: a = next % 4, b = (a + 1 + next % 3) % 4. CPU f takes a
// then b in mp_nest and lets both go; only after, CPU 0 takes b then a in
// mp_inverted. No deadlock can happen (the two never overlap), but the
// order checker must panic at CPU 0's second acquire:
//   smp_order: cpu F took 'A' then 'B' (mp_nest); cpu 0 takes 'B' then 'A' (mp_inverted)
//   lockorder: cpu 0 takes 'A' at mp_inverted+0x.. while holding 'B', taken at mp_inverted+0x..
//   lockorder: seen before: 'A' -> 'B': 'A' taken at mp_nest+0x.., then 'B' at mp_nest+0x..
//   panic: acquire: cpu 0 takes lock 'A' while holding 'B', against the lock order ...

// test=lockbench (make bench): what a lock costs, in the rows of
// user/bench.c's table: acquire+release, uncontended (the mean of
// LOCKBENCH_RUNS in a row), and with every CPU taking one lock
// LOCKBENCH_RUNS times at once (the elapsed cycles over all the acquires).
// Means, not medians: the median column holds them, p10..p90 repeats them.

#include "types.h"
#include "param.h"
#include "x86.h"
#include "trap.h"
#include "spinlock.h"
#include "defs.h"

#define MP_WAIT_MS      5000    // how long CPU 0 waits for the others' part

volatile int mp_calls;          // work after each call, so no call becomes a jump

static int ncpus;               // CPUs running (smp_running), for all parts
static int arrived;             // CPUs that have reached the start line
static int finished;            // ... and the end

// Wait at the start line until every CPU running is there; a CPU that
// never comes (an AP that only looks up) ends the test after MP_WAIT_MS.
static void
start_line(void)
{
  uint64 deadline = rdtsc() + tsc_hz / 1000 * MP_WAIT_MS;

  __atomic_add_fetch(&arrived, 1, __ATOMIC_ACQ_REL);
  while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < ncpus) {
    pause();
    if (rdtsc() > deadline) {
      printf("selftest: FAILED: only %d of %d CPUs reached the start within %d ms\n", arrived,
             ncpus, MP_WAIT_MS);
      poweroff(1);
    }
  }
}

// CPU 0: wait until *flag reaches n, or say that it never did.
static int
wait_for(const char *test, int *flag, int n, const char *what)
{
  uint64 deadline = rdtsc() + tsc_hz / 1000 * MP_WAIT_MS;

  while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < n)
    if (rdtsc() > deadline) {
      printf("%s: FAILED: only %d of %d CPUs %s within %d ms\n", test, *flag, n, what,
             MP_WAIT_MS);
      return -1;
    }
  return 0;
}

//// smp_count ////////////////////////////////////////////////////////////////

static struct spinlock count_lock;
static volatile uint64 counter;
static int inside, overlaps;
static uint64 count_rounds, count_hold;
static int count_apic[NCPU];

static void
count_part(void)
{
  int id = mycpu()->id;

  count_apic[id] = lapic_id();
  start_line();
  for (uint64 r = 0; r < count_rounds; r++) {
    acquire(&count_lock);
    if (__atomic_add_fetch(&inside, 1, __ATOMIC_RELAXED) != 1)
      __atomic_add_fetch(&overlaps, 1, __ATOMIC_RELAXED);
    uint64 v = counter;
    for (uint64 i = 0; i < count_hold; i++)
      pause();
    counter = v + 1;
    __atomic_sub_fetch(&inside, 1, __ATOMIC_RELAXED);
    release(&count_lock);
  }
  __atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL);
}

// The APs' part: it returns, and smp_go's functions must not.
static void
count_ap(void)
{
  count_part();
  halt_forever();
}

static void
smp_count_test(void)
{
  uint64 x = selftest_seed();

  count_rounds = 500 + seed_next(&x) % 1500;
  count_hold = seed_next(&x) % 8;
  ncpus = smp_running();
  initlock(&count_lock, "count");
  printf("smp_count: %d cpus, %lu rounds, hold %lu\n", ncpus, count_rounds, count_hold);
  smp_go(count_ap);
  count_part();
  if (wait_for("smp_count", &finished, ncpus, "finished") < 0)
    return;
  for (int id = 0; id < ncpus; id++)
    printf("smp_count: cpu %d apic %d rounds %lu\n", id, count_apic[id], count_rounds);
  printf("smp_count: counter %lu (expected %lu), overlaps %d\n", counter,
         ncpus * count_rounds, overlaps);
  printf("smp_count: done\n");
}
SELFTEST(smp_count, smp_count_test);

//// smp_alloc ////////////////////////////////////////////////////////////////

#define ALLOC_PAGES     8
#define ALLOC_SIZES     6
static uint64 alloc_rounds;
static int clobbered;

// Write stamp over n bytes at p, or check that they still hold it.
static void
stamp(void *p, uint64 n, uint64 mark)
{
  for (uint64 *w = p; w < (uint64 *)((char *)p + n); w++)
    *w = mark;
}

static int
stamped(void *p, uint64 n, uint64 mark)
{
  for (uint64 *w = p; w < (uint64 *)((char *)p + n); w++)
    if (*w != mark)
      return 0;
  return 1;
}

static void
alloc_part(void)
{
  uint64 id = mycpu()->id;
  void *pages[ALLOC_PAGES];

  start_line();
  for (uint64 r = 0; r < alloc_rounds; r++) {
    uint64 mark = id << 32 | r, n = 1 + r % ALLOC_PAGES, size = 16 << (r % ALLOC_SIZES);
    uint64 i;
    for (i = 0; i < n && (pages[i] = kalloc()) != NULL; i++)
      stamp(pages[i], PGSIZE, mark);
    n = i;
    void *obj = kmalloc(size);
    stamp(obj, size, mark);
    for (i = 0; i < n; i++)
      if (!stamped(pages[i], PGSIZE, mark))
        __atomic_add_fetch(&clobbered, 1, __ATOMIC_RELAXED);
    if (!stamped(obj, size, mark))
      __atomic_add_fetch(&clobbered, 1, __ATOMIC_RELAXED);
    kmfree(obj);
    for (i = 0; i < n; i++)
      kfree(pages[i]);
  }
  __atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL);
}

static void
alloc_ap(void)
{
  alloc_part();
  halt_forever();
}

static void
smp_alloc_test(void)
{
  uint64 x = selftest_seed();

  alloc_rounds = 300 + seed_next(&x) % 300;
  ncpus = smp_running();
  printf("smp_alloc: %d cpus, %lu rounds\n", ncpus, alloc_rounds);
  for (int c = 0; c < ALLOC_SIZES; c++)
    kmfree(kmalloc(16 << c));   // a slab of each size first: the heap keeps what it grows
  uint64 pages = kalloc_nfree(), heap = kmalloc_pages();
  smp_go(alloc_ap);
  alloc_part();
  if (wait_for("smp_alloc", &finished, ncpus, "finished") < 0)
    return;
  printf("smp_alloc: pages before %lu, after %lu; heap pages before %lu, after %lu; "
         "clobbered %d\n", pages, kalloc_nfree(), heap, kmalloc_pages(), clobbered);
  printf("smp_alloc: done\n");
}
SELFTEST(smp_alloc, smp_alloc_test);

//// smp_panic ////////////////////////////////////////////////////////////////

static int panic_cpu;

__attribute__((noinline)) void
mp_spin(void)
{
  if (mycpu()->id % 2)
    cli();
  for (;;) {
    pause();
    mp_calls++;
  }
}

__attribute__((noinline)) void
mp_panic(void)
{
  panic("smp_panic: cpu %d panics as asked", mycpu()->id);
}

static void
panic_part(void)
{
  start_line();
  if (mycpu()->id == panic_cpu)
    mp_panic();
  mp_spin();
}

static void
smp_panic_test(void)
{
  uint64 x = selftest_seed();

  ncpus = smp_running();
  panic_cpu = seed_next(&x) % ncpus;
  printf("smp_panic: %d cpus; cpu %d panics\n", ncpus, panic_cpu);
  selftest_running = 0;         // no power off after the panic: see the top
  smp_go(panic_part);
  panic_part();
}
SELFTEST(smp_panic, smp_panic_test);

//// smp_watchdog /////////////////////////////////////////////////////////////

static struct spinlock held_lock;
static int holding_now;

__attribute__((noinline)) void
mp_hold(void)
{
  acquire(&held_lock);
  __atomic_store_n(&holding_now, 1, __ATOMIC_RELEASE);
  for (;;) {
    pause();
    mp_calls++;
  }
}

__attribute__((noinline)) void
mp_want(void)
{
  acquire(&held_lock);
  mp_calls++;
}

static int holder_cpu;

static void
watchdog_ap(void)
{
  if (mycpu()->id == holder_cpu)
    mp_hold();
  halt_forever();
}

// Pick the other CPU for a two-CPU test: 1 + next % (N - 1); -1 (and a
// line that says so) with one CPU.
static int
other_real_cpu(const char *test, uint64 *x)
{
  ncpus = smp_running();
  if (ncpus < 2) {
    printf("%s: needs 2 CPUs, and %d runs\n", test, ncpus);
    return -1;
  }
  return 1 + seed_next(x) % (ncpus - 1);
}

static void
smp_watchdog_test(void)
{
  uint64 x = selftest_seed();

  if ((holder_cpu = other_real_cpu("smp_watchdog", &x)) < 0)
    return;
  initlock(&held_lock, "held");
  smp_go(watchdog_ap);
  if (wait_for("smp_watchdog", &holding_now, 1, "took the lock") < 0)
    return;
  printf("smp_watchdog: cpu %d holds 'held' (mp_hold); cpu 0 waits (mp_want)\n", holder_cpu);
  mp_want();
  printf("smp_watchdog: FAILED: no panic\n");
}
SELFTEST(smp_watchdog, smp_watchdog_test);

//// smp_order ////////////////////////////////////////////////////////////////

static struct spinlock ord[4];
static const char *const ord_names[4] = { "ord_1", "ord_2", "ord_3", "ord_4" };
static int ord_a, ord_b, ord_cpu, ord_done;

__attribute__((noinline)) void
mp_nest(struct spinlock *a, struct spinlock *b)
{
  acquire(a);
  acquire(b);
  release(b);
  release(a);
  mp_calls++;
}

__attribute__((noinline)) void
mp_inverted(struct spinlock *b, struct spinlock *a)
{
  acquire(b);
  acquire(a);
  mp_calls++;
}

static void
order_ap(void)
{
  if (mycpu()->id == ord_cpu) {
    mp_nest(&ord[ord_a], &ord[ord_b]);
    __atomic_store_n(&ord_done, 1, __ATOMIC_RELEASE);
  }
  halt_forever();
}

static void
smp_order_test(void)
{
  uint64 x = selftest_seed();

  if ((ord_cpu = other_real_cpu("smp_order", &x)) < 0)
    return;
  ord_a = seed_next(&x) % 4;
  ord_b = (ord_a + 1 + seed_next(&x) % 3) % 4;
  for (int i = 0; i < 4; i++)
    initlock(&ord[i], ord_names[i]);
  smp_go(order_ap);
  if (wait_for("smp_order", &ord_done, 1, "took the locks") < 0)
    return;
  printf("smp_order: cpu %d took '%s' then '%s' (mp_nest); cpu 0 takes '%s' then '%s' "
         "(mp_inverted)\n", ord_cpu, ord_names[ord_a], ord_names[ord_b], ord_names[ord_b],
         ord_names[ord_a]);
  mp_inverted(&ord[ord_b], &ord[ord_a]);
  printf("smp_order: FAILED: no panic\n");
}
SELFTEST(smp_order, smp_order_test);

//// lockbench ////////////////////////////////////////////////////////////////

#define LOCKBENCH_RUNS  1000
static struct spinlock bench_lock;

// A row of the table: what (padded to 28), runs, median cycles, ns, p10..p90.
static void
bench_row(const char *what, int n, uint64 median, uint64 p10, uint64 p90)
{
  int pad = 28 - strlen(what);

  printf("bench: %s", what);
  while (pad-- > 0)
    printf(" ");
  printf(" %5d %15lu %8lu   %lu..%lu\n", n, median, median * 1000000000 / tsc_hz, p10, p90);
}

static void
contend_part(void)
{
  start_line();
  for (int r = 0; r < LOCKBENCH_RUNS; r++) {
    acquire(&bench_lock);
    release(&bench_lock);
  }
  __atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL);
}

static void
contend_ap(void)
{
  contend_part();
  halt_forever();
}

static void
lockbench_test(void)
{
  initlock(&bench_lock, "bench");
  uint64 t0 = rdtsc();
  for (int i = 0; i < LOCKBENCH_RUNS; i++) {
    acquire(&bench_lock);
    release(&bench_lock);
  }
  uint64 each = (rdtsc() - t0) / LOCKBENCH_RUNS;
  bench_row("acquire+release, uncontended", LOCKBENCH_RUNS, each, each, each);
  ncpus = smp_running();
  if (ncpus < 2)
    return;
  smp_go(contend_ap);
  t0 = rdtsc();
  contend_part();
  if (wait_for("lockbench", &finished, ncpus, "finished") < 0)
    return;
  each = (rdtsc() - t0) / (ncpus * LOCKBENCH_RUNS);
  bench_row("acquire+release, all CPUs", ncpus * LOCKBENCH_RUNS, each, each, each);
}
SELFTEST(lockbench, lockbench_test);
