// Spinlocks: mutual exclusion between CPUs, and the checks that catch
// their misuse at the first mistake rather than at the first deadlock.
//
// Interface: initlock(lk, name) once, before any other use; then
// acquire(lk) ... release(lk) in pairs, on the same CPU; holding(lk) says
// whether this CPU holds lk. While a CPU holds any spinlock its interrupts
// are off (push_off/pop_off, cpu.c): an interrupt handler that wanted the
// same lock would otherwise spin forever on the CPU that holds it. So a
// holder must not sleep or give up the CPU, and a lock is held briefly.
// acquire needs cpu_init first (push_off and mycpu read %gs).
//
// The lock itself is one word, lk->locked. acquire swaps 1 into it with
// an atomic exchange (xchg) until the old value comes back 0: then this
// CPU is the one that changed it from 0 to 1. Between tries it waits with
// plain reads and pause, so that the waiting CPUs share the cache line
// instead of taking it from each other for writing on every try.
//
// Memory order: the exchange is __ATOMIC_ACQUIRE and the store of 0 in
// release __ATOMIC_RELEASE. Acquire order keeps every load and store of
// the critical section after the exchange, release order keeps them all
// before the store, so the next holder sees everything this one wrote.
// On x86 the hardware already gives this (xchg is a full barrier, and
// under x86-TSO a store is never reordered with earlier loads or stores,
// so release is a plain mov); the builtins say it to the compiler, which
// would otherwise be free to move the critical section's accesses across
// the lock. Sequential consistency would make release an xchg as well,
// for nothing.
//
// The checks, each a panic that names the lock, the CPU and the call
// sites (a call site is acquire's or release's return address, printed
// as function+offset):
//   - acquire of a lock this CPU holds (it would wait for itself);
//   - release of a lock this CPU does not hold;
//   - the watchdog: a CPU that spins LOCK_WAIT_MS on one lock (counted
//     with the TSC; before lapic.c has measured tsc_hz, LOCK_WAIT_SPINS
//     spins) names the lock, where it waits, and who holds it from where;
//     the holder's CPU prints its backtrace (holder_backtrace asks it with
//     an NMI), and panic adds the waiter's;
//   - the lock-order checker, below.
//
// Lock order. Two CPUs deadlock when one holds A and waits for B while
// the other holds B and waits for A; the same with longer cycles. The
// checker records every order it sees: taking B while holding A records
// A -> B, with both call sites, the first time. Taking a lock that would
// close a cycle in the recorded orders (B held, A wanted, A -> ... -> B
// recorded) prints both orders, the new one and the path seen before,
// and panics, even on one CPU and even when no other CPU is anywhere near:
// the deadlock needs only an unlucky timing, and this needs none. The
// check runs before acquire waits, so an inversion that would deadlock
// right now is reported, not waited on.
//
// Orders are kept per lock class, not per lock: every process's lock
// must obey the same order, and there may be thousands of them. A class
// is the lock's name. The name says what the lock protects, it is what a
// report prints, and it leaves the choice to the programmer: locks that
// play one part share a name ("proc"), and a lock that needs its own
// class gets its own name. (Classes by initlock's call site, lockdep's
// way, would split one kind of lock initialized in two places into two
// classes whose orders say nothing about each other.) Two locks of one
// class taken together record no order: the checker cannot tell which
// instance is which, so code that nests them must order them itself (by
// address, say).
//
// The order table: NLOCKCLASS classes (64: one bit per class in a 64-bit
// word), after[a] the bitmap of the classes seen taken while a class-a
// lock was held, first[a][b] the two call sites of that order's first
// sighting (64 KiB). initlock finds or adds the class; a 65th name
// panics. A cycle is found by a breadth-first search over the bitmaps.
// The table has a lock of its own, a bare xchg loop inside push_off: a
// checked spinlock would check itself. Bits are only ever set, so
// acquire reads after[] without that lock and takes it only to add an
// order it has not seen.

// Lab 5 exercises: spin, acquire and release; order_add and order_path.

#include "types.h"
#include "param.h"
#include "x86.h"
#include "trap.h"
#include "spinlock.h"
#include "defs.h"

_Static_assert(NLOCKCLASS <= 64, "param.h: NLOCKCLASS must fit the bits of a uint64");

//// Call sites /////////////////////////////////////////////////////////////

// A call site for a report: "... at " SITE, with SITE_ARGS(pc) for the
// return address pc. (Two lookups of pc; a report is rare.)
#define SITE            "%s+0x%lx"
#define SITE_ARGS(pc)   site_fn(pc), site_off(pc)

// The function that holds return address pc ("?" for none) ...
static const char *
site_fn(uint64 pc)
{
  uint64 off;

  return pc ? caller_name(pc, &off) : "?";
}

// ... and how far into it pc is.
static uint64
site_off(uint64 pc)
{
  uint64 off = 0;

  if (pc)
    caller_name(pc, &off);
  return off;
}

// A CPU's number for a report; -1 for none.
static int
cpu_id(struct cpu *c)
{
  return c ? c->id : -1;
}

//// The order table //////////////////////////////////////////////////////////

static struct {
  uint32 locked;                  // the table's own lock (table_lock)
  int nclass;
  const char *name[NLOCKCLASS];   // each class's name
  uint64 after[NLOCKCLASS];       // bit b of after[a]: order a -> b seen
  struct {
    uint64 outer, inner;          // where the a lock was taken, then the b lock
  } first[NLOCKCLASS][NLOCKCLASS];
} order;

// Take the table's lock, interrupts off (an interrupt handler's acquire
// could need it too).
static void
table_lock(void)
{
  push_off();
  while (__atomic_exchange_n(&order.locked, 1, __ATOMIC_ACQUIRE) != 0)
    pause();
}

static void
table_unlock(void)
{
  __atomic_store_n(&order.locked, 0, __ATOMIC_RELEASE);
  pop_off();
}

// The class of locks named name: found, or added.
static int
class_of(const char *name)
{
  int i;

  table_lock();
  for (i = 0; i < order.nclass; i++)
    if (strcmp(order.name[i], name) == 0)
      break;
  if (i == NLOCKCLASS)
    panic("initlock: lock '%s' would be class %d; NLOCKCLASS is %d", name, i + 1, NLOCKCLASS);
  if (i == order.nclass)
    order.name[order.nclass++] = name;
  table_unlock();
  return i;
}

// Has order a -> b been seen? (No table lock: bits are only ever set.)
static int
order_known(int a, int b)
{
  return (__atomic_load_n(&order.after[a], __ATOMIC_RELAXED) >> b) & 1;
}

// A shortest path of recorded orders from class from to class to (they
// differ): its classes, from first and to last, in path[]; the number of
// orders in it, 0 if there is none. Breadth first, over the bitmaps;
// called with the table locked.
static int
order_path(int from, int to, uint8 path[NLOCKCLASS])
{
#if SOL >= 5
  uint8 queue[NLOCKCLASS], prev[NLOCKCLASS];
  int head = 0, tail = 0, n = 0;
  uint64 seen = 1ull << from;

  queue[tail++] = from;
  while (head < tail && !((seen >> to) & 1)) {
    int a = queue[head++];
    for (uint64 next = order.after[a] & ~seen; next != 0; next &= next - 1) {
      int b = __builtin_ctzll(next);
      seen |= 1ull << b;
      prev[b] = a;
      queue[tail++] = b;
    }
  }
  if (!((seen >> to) & 1))
    return 0;
  for (int c = to; c != from; c = prev[c])
    n++;
  path[n] = to;
  for (int i = n; i > 0; i--)
    path[i - 1] = prev[path[i]];
  return n;
#else
  // LAB 5: breadth first from class from over the recorded orders (bit b
  // of order.after[a]: a -> b), a queue of classes and a bitmap of those
  // seen, remembering how each was reached (prev[]). If to is reached,
  // write the path into path[0..n] (path[0] = from, path[n] = to) and
  // return n, its number of orders; else return 0. __builtin_ctzll finds
  // a bitmap's lowest set bit.
  (void)from;
  (void)to;
  (void)path;
  return 0;
#endif
}

// Report the order held -> lk that this CPU is about to make (lk wanted
// at pc), against the n orders of path[] seen before, and panic.
static void __attribute__((noreturn))
order_broken(struct cpu *c, struct spinlock *held, struct spinlock *lk, uint64 pc,
             uint8 *path, int n)
{
  printf("lockorder: cpu %d takes '%s' at " SITE " while holding '%s', taken at " SITE "\n",
         c->id, lk->name, SITE_ARGS(pc), held->name, SITE_ARGS(held->taken_at));
  for (int i = 0; i < n; i++) {
    int a = path[i], b = path[i + 1];
    printf("lockorder: seen before: '%s' -> '%s': '%s' taken at " SITE ", then '%s' at " SITE
           "\n", order.name[a], order.name[b], order.name[a],
           SITE_ARGS(order.first[a][b].outer), order.name[b],
           SITE_ARGS(order.first[a][b].inner));
  }
  // The table stays locked: this CPU stops here, and so will the others.
  panic("acquire: cpu %d takes lock '%s' while holding '%s', against the lock order seen "
        "before (lockorder lines above): a deadlock waiting to happen", c->id, lk->name,
        held->name);
}

// Record the order held -> lk (lk wanted at pc), unless it closes a cycle
// of recorded orders: then report both and panic. Not inlined: acquire
// calls it only for an order it has not seen, and its search's arrays
// should not weigh on every acquire's stack.
static void __attribute__((noinline))
order_add(struct cpu *c, struct spinlock *held, struct spinlock *lk, uint64 pc)
{
#if SOL >= 5
  int a = held->class, b = lk->class, n;
  uint8 path[NLOCKCLASS];

  table_lock();
  if (!order_known(a, b)) {
    if ((n = order_path(b, a, path)) > 0)
      order_broken(c, held, lk, pc, path, n);
    order.first[a][b].outer = held->taken_at;
    order.first[a][b].inner = pc;
    __atomic_store_n(&order.after[a], order.after[a] | (1ull << b), __ATOMIC_RELAXED);
  }
  table_unlock();
#else
  // LAB 5: with the table locked (table_lock, table_unlock), and unless
  // another CPU recorded a -> b meanwhile (order_known): if a path of
  // recorded orders leads from b back to a (order_path), this order
  // closes a cycle: order_broken reports it. Else record a -> b: the two
  // call sites in order.first[a][b] (where held was taken, and pc), then
  // bit b of order.after[a], last (with __atomic_store_n, relaxed: other
  // CPUs read it without the table's lock).
  (void)c;
  (void)held;
  (void)lk;
  (void)pc;
  (void)order_broken;
  (void)order_path;
  (void)table_lock;
  (void)table_unlock;
#endif
}

// Check the orders that taking lk at pc makes with each lock c holds, and
// record the new ones. Before acquire waits: see the top.
static void
order_check(struct cpu *c, struct spinlock *lk, uint64 pc)
{
  for (int i = 0; i < c->nheld; i++) {
    struct spinlock *held = c->held[i];
    if (held->class != lk->class && !order_known(held->class, lk->class))
      order_add(c, held, lk, pc);
  }
}

// Has the order first -> then (their classes) been seen? For self-tests.
int
lock_order_seen(struct spinlock *first, struct spinlock *then)
{
  return order_known(first->class, then->class);
}

//// The watchdog /////////////////////////////////////////////////////////////

struct spinwait {
  uint64 start;         // rdtsc() when the wait began
  uint64 limit;         // TSC cycles it may last; 0: tsc_hz not known, count spins
  uint64 spins;
};

static void
wait_start(struct spinwait *w)
{
  w->start = rdtsc();
  w->limit = tsc_hz * LOCK_WAIT_MS / 1000;
  w->spins = 0;
}

// Has the wait lasted too long? Called once a spin.
static int
waited_too_long(struct spinwait *w)
{
  w->spins++;
  if (w->limit == 0)
    return w->spins > LOCK_WAIT_SPINS;
  return rdtsc() - w->start > w->limit;
}

// Ask the holder's CPU for its backtrace: an NMI, which reaches it even
// with interrupts off, as they are while it holds a lock. Its NMI handler
// (trap.c) prints a report of what it was doing, with a backtrace, and
// counts the NMI; the waiter waits for that count, up to HOLDER_WAIT_MS,
// before it panics (and the panic's own NMI stops the holder). Nothing to
// ask for a holder that is not a running CPU (a self-test's pretend one).
static void
holder_backtrace(struct cpu *c, struct cpu *holder)
{
  if (holder == NULL || holder == c || holder->id < 0 || holder->id >= NCPU ||
      holder != &cpus[holder->id] || !cpu_is_up(holder->id))
    return;
  uint64 nmis = __atomic_load_n(&holder->nmis, __ATOMIC_RELAXED);
  uint64 deadline = rdtsc() + tsc_hz / 1000 * HOLDER_WAIT_MS;
  printf("acquire: cpu %d asks cpu %d, the holder, for its backtrace (an NMI)\n", c->id,
         holder->id);
  lapic_send_nmi(cpu_apicid[holder->id]);
  while (__atomic_load_n(&holder->nmis, __ATOMIC_RELAXED) == nmis && rdtsc() < deadline)
    pause();
  udelay(HOLDER_LINE_MS * 1000);        // for its last line, which follows the count
}

// The watchdog's report: c waited at pc for lk too long. The holder's
// record is read once, as it is now: a snapshot, it may be changing.
static void __attribute__((noreturn))
stuck(struct cpu *c, struct spinlock *lk, uint64 pc, struct spinwait *w)
{
  struct cpu *holder = lk->cpu;
  uint64 taken = lk->taken_at;
  uint64 waited = w->limit ? (rdtsc() - w->start) * LOCK_WAIT_MS / w->limit : w->spins;
  const char *unit = w->limit ? "ms" : "spins (tsc_hz not measured yet)";

  holder_backtrace(c, holder);
  if (holder == NULL)
    panic("acquire: cpu %d waited %lu %s for lock '%s' at " SITE "; no holder is recorded",
          c->id, waited, unit, lk->name, SITE_ARGS(pc));
  panic("acquire: cpu %d waited %lu %s for lock '%s' at " SITE "; cpu %d holds it, taken at "
        SITE, c->id, waited, unit, lk->name, SITE_ARGS(pc), holder->id,
        SITE_ARGS(taken));
}

// Take lk for c (acquire at pc), spinning until it is free.
static void
spin(struct cpu *c, struct spinlock *lk, uint64 pc)
{
#if SOL >= 5
  struct spinwait w;

  wait_start(&w);
  while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0) {
    // Read until it looks free, then try again: see the top.
    while (__atomic_load_n(&lk->locked, __ATOMIC_RELAXED) != 0) {
      pause();
      if (waited_too_long(&w))
        stuck(c, lk, pc, &w);
    }
  }
#else
  // LAB 5: swap 1 into lk->locked with __atomic_exchange_n (acquire
  // order) until the old value is 0. While it is not, wait with relaxed
  // loads and pause() until it looks free (see the top), and let the
  // watchdog (wait_start once, then waited_too_long each spin; stuck()
  // when it says so) end a wait that lasts too long.
  (void)c;
  (void)lk;
  (void)pc;
  (void)wait_start;
  (void)waited_too_long;
  (void)stuck;
#endif
}

//// The locks /////////////////////////////////////////////////////////////////

// Set lk up, free, as a lock of the class name (see the top). The name
// is kept, not copied: a string literal.
void
initlock(struct spinlock *lk, const char *name)
{
  if (name == NULL)
    panic("initlock: lock %p has no name", lk);
  lk->locked = 0;
  lk->name = name;
  lk->class = class_of(name);
  lk->cpu = NULL;
  lk->taken_at = lk->released_at = 0;
}

// Does c hold lk? (c is this CPU, interrupts off: lk->cpu can be c only
// if c wrote it, and c is not writing it now.)
static int
held_by(struct cpu *c, struct spinlock *lk)
{
  return lk->locked && lk->cpu == c;
}

// Does this CPU hold lk?
int
holding(struct spinlock *lk)
{
  int r;

  push_off();           // no move to another CPU between mycpu() and the test
  r = held_by(mycpu(), lk);
  pop_off();
  return r;
}

// Take lk: interrupts off, checks, wait, then the holder's record.
void
acquire(struct spinlock *lk)
{
  uint64 pc = (uint64)__builtin_return_address(0);
  struct cpu *c;

  push_off();           // before taking it: see the top
  c = mycpu();
  if (lk->name == NULL)
    panic("acquire: lock %p at " SITE " was never initialized", lk, SITE_ARGS(pc));
#if SOL >= 5
  if (held_by(c, lk))
    panic("acquire: cpu %d takes lock '%s' again at " SITE "; it took it at " SITE, c->id,
          lk->name, SITE_ARGS(pc), SITE_ARGS(lk->taken_at));
  if (c->nheld == NHELD)
    panic("acquire: cpu %d takes lock '%s' at " SITE " while holding NHELD (%d) locks", c->id,
          lk->name, SITE_ARGS(pc), NHELD);
  order_check(c, lk, pc);
  spin(c, lk, pc);
  lk->cpu = c;
  lk->taken_at = pc;
  c->held[c->nheld++] = lk;
#else
  // LAB 5: panic if c holds lk already (held_by):
  //   panic("acquire: cpu %d takes lock '%s' again at " SITE "; it took it at "
  //         SITE, c->id, lk->name, SITE_ARGS(pc), SITE_ARGS(lk->taken_at));
  // or if c holds NHELD locks:
  //   panic("acquire: cpu %d takes lock '%s' at " SITE " while holding NHELD (%d) "
  //         "locks", c->id, lk->name, SITE_ARGS(pc), NHELD);
  // Then check the lock order
  // (order_check), take the lock (spin), and record the holder: the CPU,
  // where (pc), and lk at the end of c->held[] (c->nheld).
  // Until then, a lock that only says who holds it, so that one CPU can
  // run processes (sched() asks holding()): it excludes nothing and
  // checks nothing, and no other CPU starts before exercise 3.
  lk->locked = 1;
  lk->cpu = c;
  (void)order_check;
  (void)spin;
#endif
}

// release's report of a lock that this CPU (c) does not hold.
static void __attribute__((noreturn))
not_held(struct cpu *c, struct spinlock *lk, uint64 pc)
{
  if (lk->locked)
    panic("release: cpu %d releases lock '%s' at " SITE ", but cpu %d holds it, taken at "
          SITE, c->id, lk->name, SITE_ARGS(pc), cpu_id(lk->cpu),
          SITE_ARGS(lk->taken_at));
  if (lk->released_at != 0)
    panic("release: cpu %d releases lock '%s' at " SITE ", but it is free, released last at "
          SITE, c->id, lk->name, SITE_ARGS(pc), SITE_ARGS(lk->released_at));
  panic("release: cpu %d releases lock '%s' at " SITE ", but no CPU has taken it yet", c->id,
        lk->name, SITE_ARGS(pc));
}

// Take lk off c's list of held locks, wherever it is in it: locks may be
// released in any order.
static void
held_remove(struct cpu *c, struct spinlock *lk)
{
  int i = c->nheld - 1;

  while (i >= 0 && c->held[i] != lk)
    i--;
  if (i < 0)
    panic("release: lock '%s' is not on cpu %d's list of held locks", lk->name, c->id);
  for (; i + 1 < c->nheld; i++)
    c->held[i] = c->held[i + 1];
  c->nheld--;
}

// Let lk go: the record first, then the word, then interrupts back.
void
release(struct spinlock *lk)
{
  uint64 pc = (uint64)__builtin_return_address(0);
  struct cpu *c = mycpu();

#if SOL >= 5
  if (!held_by(c, lk))
    not_held(c, lk, pc);
  held_remove(c, lk);
  // Before the store that frees it: after it, the record is the next holder's.
  lk->cpu = NULL;
  lk->released_at = pc;
  __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
#else
  // LAB 5: not_held() unless c holds lk; take it off c's list
  // (held_remove); clear the record (cpu; released_at = pc) and only
  // then free the lock, with __atomic_store_n (release order). Until
  // then, the one-CPU stand-in that acquire's stub needs:
  lk->cpu = NULL;
  lk->locked = 0;
  (void)c;
  (void)pc;
  (void)not_held;
  (void)held_remove;
#endif
  pop_off();
}
