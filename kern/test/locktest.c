// Lab 5's spinlock self-tests: each mistake spinlock.c must catch, and a
// long run of correct use that it must not report.
//
// Every lock is taken and let go in a small noinline helper below, so
// that each call site in a report is a function the grader can find with
// nm (and the return address after its call, with objdump). Tests that
// pretend another CPU holds a lock fill in the lock's record by hand
// (lk_fake_hold), as that CPU's acquire would, naming a struct cpu of
// their own whose id the seed chooses: no other CPU runs yet.
//
// What each prints, and the seed's draws (x = seed, each "next" is
// seed_next(&x); NCPU from build/consts):
//
// test=lock_recursive: t = next % 4, m = next % 3. Takes rec_[t] in
// lk_take_first, then the m locks rec_[(t + 1) % 4], rec_[(t + 2) % 4] in
// lk_take, then rec_[t] again in lk_take_again:
//   lock_recursive: take 'rec_c' (lk_take_first), 'rec_d' (lk_take), 'rec_c' (lk_take_again)
//   panic: acquire: cpu 0 takes lock 'rec_c' again at lk_take_again+0x..; it took it at lk_take_first+0x..
// (and no lockorder line: the second rec_c would also invert rec_c ->
// rec_d, but the recursion is the mistake to name).
//
// test=lock_notheld: c = next % 3, and for c = 2 f = 1 + next % (NCPU - 1).
// Releases lock 'notheld' in lk_release_again when it was never taken
// (c = 0), after lk_take_first and lk_release_first (c = 1), or while cpu
// f holds it from lock_notheld_test (c = 2):
//   lock_notheld: case never taken|released twice|held by cpu F
//   panic: release: cpu 0 releases lock 'notheld' at lk_release_again+0x.., but
//          no CPU has taken it yet | it is free, released last at lk_release_first+0x..
//          | cpu F holds it, taken at lock_notheld_test+0x..
//
// test=lock_order: k = 2 + next % 2 locks of ord_a..ord_d, p[i] =
// avail[next % (4 - i)] (avail: the pool's unchosen locks, in pool order),
// f = 1 + next % (NCPU - 1). lk_nest takes p[i] then p[i + 1] (and lets
// both go) for each i < k - 1; then cpu f is made to hold p[0], and
// lk_inverted takes p[k - 1], then p[0]: the order checker must panic at
// once, before the wait for p[0] (which would end in the watchdog):
//   lock_order: 'ord_c' -> 'ord_a' -> 'ord_d', then 'ord_d' -> 'ord_c' while cpu F holds 'ord_c'
//   lockorder: cpu 0 takes 'ord_c' at lk_inverted+0x.. while holding 'ord_d', taken at lk_inverted+0x..
//   lockorder: seen before: 'ord_c' -> 'ord_a': 'ord_c' taken at lk_nest+0x.., then 'ord_a' at lk_nest+0x..
//   lockorder: seen before: 'ord_a' -> 'ord_d': ...
//   panic: acquire: cpu 0 takes lock 'ord_c' while holding 'ord_d', against the lock order ...
//
// test=lock_watchdog: f = 1 + next % (NCPU - 1). Cpu f is made to hold
// 'watchdog' from lock_watchdog_test; lk_take then waits for it, and the
// watchdog must end the wait after LOCK_WAIT_MS:
//   lock_watchdog: 'watchdog' held by cpu F; tsc_hz N; waiting in lk_take
//   panic: acquire: cpu 0 waited MS ms for lock 'watchdog' at lk_take+0x..; cpu F holds it,
//          taken at lock_watchdog_test+0x..
// then the waiter's backtrace (lk_take, lock_watchdog_test, ...).
// test=lock_watchdog_early: the same with tsc_hz set to 0 first, as before
// lapic.c measures it; the wait is counted in spins:
//   panic: acquire: cpu 0 waited LOCK_WAIT_SPINS + 1 spins (tsc_hz not measured yet) for ...
//
// test=lock_ok: the six locks ok_a..ok_f have an order, a shuffle of the
// pool (for i = 5 down to 1: swap order[i] and order[next % (i + 1)]);
// two of its places are never taken together, i = next % 6 and j = (i + 1
// + next % 5) % 6; then rounds = 500 + next % 501, and each round takes
// the locks order[i] for the bits i of next % 64 (without bit j when bit
// i is set), in that order, nested (lk_take), and releases them in a
// seeded order: while n are held, the (next % n)th of them in the order
// they were taken (lk_release). It checks after each
// acquire that holding() says 1 and interrupts are off, after each release
// that holding() says 0, and after each round that interrupts are on
// again (any miss prints a "lock_ok: FAILED" line). Then it asks the
// checker which orders it has seen between the six:
//   lock_ok: order 'ok_e' 'ok_b' 'ok_a' 'ok_f' 'ok_c' 'ok_d'
//   lock_ok: never together 'ok_a' 'ok_e'        (order[i], order[j])
//   lock_ok: R rounds, A acquires, D deepest
//   lock_ok: seen 'ok_e' -> 'ok_b'          (each order seen, i < j in the order above)
//   lock_ok: E orders seen, V reversed
//   lock_ok: done
// The orders seen must be exactly the pairs i < j whose bits some round's
// mask had both of (all but order[i] and order[j], in practice), V must
// be 0, and no lockorder line or panic may come.

#include "types.h"
#include "param.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "spinlock.h"
#include "defs.h"

volatile int lk_calls;              // the work each helper does after its call

// The CPU that tests pretend holds a lock: not a real one.
static struct cpu lk_other;

//// Helpers: one call site each ////////////////////////////////////////////

__attribute__((noinline)) void lk_take_first(struct spinlock *lk) { acquire(lk); lk_calls++; }
__attribute__((noinline)) void lk_take_again(struct spinlock *lk) { acquire(lk); lk_calls++; }
__attribute__((noinline)) void lk_take(struct spinlock *lk) { acquire(lk); lk_calls++; }
__attribute__((noinline)) void lk_release_first(struct spinlock *lk) { release(lk); lk_calls++; }
__attribute__((noinline)) void lk_release_again(struct spinlock *lk) { release(lk); lk_calls++; }
__attribute__((noinline)) void lk_release(struct spinlock *lk) { release(lk); lk_calls++; }

// Take a, then b, and let both go.
__attribute__((noinline)) void
lk_nest(struct spinlock *a, struct spinlock *b)
{
  acquire(a);
  acquire(b);
  release(b);
  release(a);
  lk_calls++;
}

// Take b, then a: the order lk_nest's calls made, turned round.
__attribute__((noinline)) void
lk_inverted(struct spinlock *b, struct spinlock *a)
{
  acquire(b);
  acquire(a);
  lk_calls++;
}

// Make lk look held by the fake CPU numbered id, taken where this was
// called from, as that CPU's acquire would have left it.
__attribute__((noinline)) void
lk_fake_hold(struct spinlock *lk, int id)
{
  lk_other.self = &lk_other;
  lk_other.id = id;
  lk->locked = 1;
  lk->cpu = &lk_other;
  lk->taken_at = (uint64)__builtin_return_address(0);
  lk_calls++;
}

// A CPU for lk_fake_hold, from the seed: never 0, the one that runs.
static int
other_cpu(uint64 *x)
{
  return 1 + seed_next(x) % (NCPU - 1);
}

//// lock_recursive ////////////////////////////////////////////////////////////

#define REC_LOCKS       4
static struct spinlock rec[REC_LOCKS];
static const char *const rec_names[REC_LOCKS] = { "rec_a", "rec_b", "rec_c", "rec_d" };

__attribute__((noinline)) void
lock_recursive_test(void)
{
  uint64 x = selftest_seed();
  int t = seed_next(&x) % REC_LOCKS, m = seed_next(&x) % 3;

  for (int i = 0; i < REC_LOCKS; i++)
    initlock(&rec[i], rec_names[i]);
  printf("lock_recursive: take '%s' (lk_take_first)", rec_names[t]);
  for (int i = 1; i <= m; i++)
    printf(", '%s' (lk_take)", rec_names[(t + i) % REC_LOCKS]);
  printf(", '%s' (lk_take_again)\n", rec_names[t]);
  lk_take_first(&rec[t]);
  for (int i = 1; i <= m; i++)
    lk_take(&rec[(t + i) % REC_LOCKS]);
  lk_take_again(&rec[t]);
  printf("lock_recursive: FAILED: no panic\n");
}
SELFTEST(lock_recursive, lock_recursive_test);

//// lock_notheld ////////////////////////////////////////////////////////////

__attribute__((noinline)) void
lock_notheld_test(void)
{
  static struct spinlock lk;
  uint64 x = selftest_seed();
  int c = seed_next(&x) % 3, f;

  initlock(&lk, "notheld");
  if (c == 0) {
    printf("lock_notheld: case never taken\n");
  } else if (c == 1) {
    printf("lock_notheld: case released twice\n");
    lk_take_first(&lk);
    lk_release_first(&lk);
  } else {
    f = other_cpu(&x);
    printf("lock_notheld: case held by cpu %d\n", f);
    lk_fake_hold(&lk, f);
  }
  lk_release_again(&lk);
  printf("lock_notheld: FAILED: no panic\n");
}
SELFTEST(lock_notheld, lock_notheld_test);

//// lock_order ////////////////////////////////////////////////////////////////

#define ORD_LOCKS       4
static struct spinlock ord[ORD_LOCKS];
static const char *const ord_names[ORD_LOCKS] = { "ord_a", "ord_b", "ord_c", "ord_d" };

// k distinct locks of the pool, drawn from the seed (see the top).
static void
order_pick(uint64 *x, int k, int *p)
{
  int avail[ORD_LOCKS], navail = ORD_LOCKS;

  for (int i = 0; i < ORD_LOCKS; i++)
    avail[i] = i;
  for (int i = 0; i < k; i++) {
    int j = seed_next(x) % navail;
    p[i] = avail[j];
    for (navail--; j < navail; j++)
      avail[j] = avail[j + 1];
  }
}

__attribute__((noinline)) void
lock_order_test(void)
{
  uint64 x = selftest_seed();
  int k = 2 + seed_next(&x) % 2, p[ORD_LOCKS], f;

  for (int i = 0; i < ORD_LOCKS; i++)
    initlock(&ord[i], ord_names[i]);
  order_pick(&x, k, p);
  f = other_cpu(&x);
  printf("lock_order: '%s'", ord_names[p[0]]);
  for (int i = 1; i < k; i++)
    printf(" -> '%s'", ord_names[p[i]]);
  printf(", then '%s' -> '%s' while cpu %d holds '%s'\n", ord_names[p[k - 1]],
         ord_names[p[0]], f, ord_names[p[0]]);
  for (int i = 0; i + 1 < k; i++)
    lk_nest(&ord[p[i]], &ord[p[i + 1]]);
  lk_fake_hold(&ord[p[0]], f);
  lk_inverted(&ord[p[k - 1]], &ord[p[0]]);
  printf("lock_order: FAILED: no panic\n");
}
SELFTEST(lock_order, lock_order_test);

//// lock_watchdog ////////////////////////////////////////////////////////////

__attribute__((noinline)) void
lock_watchdog_test(void)
{
  static struct spinlock lk;
  uint64 x = selftest_seed();
  int f = other_cpu(&x);

  initlock(&lk, "watchdog");
  lk_fake_hold(&lk, f);
  printf("lock_watchdog: 'watchdog' held by cpu %d; tsc_hz %lu; waiting in lk_take\n", f,
         tsc_hz);
  lk_take(&lk);
  printf("lock_watchdog: FAILED: no panic\n");
}
SELFTEST(lock_watchdog, lock_watchdog_test);

// The watchdog as it is before lapic.c has measured the TSC.
static void
lock_watchdog_early_test(void)
{
  tsc_hz = 0;
  lock_watchdog_test();
}
SELFTEST(lock_watchdog_early, lock_watchdog_early_test);

//// lock_ok ////////////////////////////////////////////////////////////////////

#define OK_LOCKS        6
static struct spinlock ok[OK_LOCKS];
static const char *const ok_names[OK_LOCKS] = { "ok_a", "ok_b", "ok_c", "ok_d", "ok_e", "ok_f" };

static int ok_acquires, ok_deepest, ok_failures;

#define OK_REPORTS      10      // failure lines printed, at most

static void
ok_fail(const char *what, const char *name)
{
  if (ok_failures++ < OK_REPORTS)
    printf("lock_ok: FAILED: %s '%s'\n", what, name);
}

// One round: take the locks of order[] that mask picks, in that order,
// then let them go in an order the seed picks; check as the top says.
static void
ok_round(uint64 *x, const int *order, int mask)
{
  struct spinlock *taken[OK_LOCKS];
  int n = 0;

  for (int i = 0; i < OK_LOCKS; i++) {
    if (!(mask & (1 << i)))
      continue;
    lk_take(&ok[order[i]]);
    taken[n++] = &ok[order[i]];
    if (!holding(taken[n - 1]))
      ok_fail("holding() is 0 after acquire of", taken[n - 1]->name);
    if (rflags() & FL_IF)
      ok_fail("interrupts are on while holding", taken[n - 1]->name);
  }
  ok_acquires += n;
  if (n > ok_deepest)
    ok_deepest = n;
  while (n > 0) {
    int j = seed_next(x) % n;
    struct spinlock *lk = taken[j];
    lk_release(lk);
    for (n--; j < n; j++)
      taken[j] = taken[j + 1];
    if (holding(lk))
      ok_fail("holding() is 1 after release of", lk->name);
  }
  if (!(rflags() & FL_IF))
    ok_fail("interrupts stay off after a round of", "ok_*");
}

// What the checker has seen between the locks, in order[]'s order and
// against it.
static void
ok_orders(const int *order)
{
  int seen = 0, reversed = 0;

  for (int i = 0; i < OK_LOCKS; i++) {
    for (int j = i + 1; j < OK_LOCKS; j++) {
      if (lock_order_seen(&ok[order[i]], &ok[order[j]])) {
        printf("lock_ok: seen '%s' -> '%s'\n", ok_names[order[i]], ok_names[order[j]]);
        seen++;
      }
      reversed += lock_order_seen(&ok[order[j]], &ok[order[i]]);
    }
  }
  printf("lock_ok: %d orders seen, %d reversed\n", seen, reversed);
}

__attribute__((noinline)) void
lock_ok_test(void)
{
  uint64 x = selftest_seed();
  int order[OK_LOCKS], apart_i, apart_j, rounds;

  intr_on();            // so that the test sees acquire turn them off
  for (int i = 0; i < OK_LOCKS; i++) {
    initlock(&ok[i], ok_names[i]);
    order[i] = i;
  }
  for (int i = OK_LOCKS - 1; i > 0; i--) {
    int j = seed_next(&x) % (i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  printf("lock_ok: order");
  for (int i = 0; i < OK_LOCKS; i++)
    printf(" '%s'", ok_names[order[i]]);
  printf("\n");
  apart_i = seed_next(&x) % OK_LOCKS;
  apart_j = (apart_i + 1 + seed_next(&x) % (OK_LOCKS - 1)) % OK_LOCKS;
  printf("lock_ok: never together '%s' '%s'\n", ok_names[order[apart_i]], ok_names[order[apart_j]]);
  rounds = 500 + seed_next(&x) % 501;
  for (int r = 0; r < rounds; r++) {
    int mask = seed_next(&x) % (1 << OK_LOCKS);
    if ((mask >> apart_i) & 1)
      mask &= ~(1 << apart_j);
    ok_round(&x, order, mask);
  }
  printf("lock_ok: %d rounds, %d acquires, %d deepest\n", rounds, ok_acquires, ok_deepest);
  ok_orders(order);
  printf("lock_ok: %s\n", ok_failures ? "FAILED" : "done");
}
SELFTEST(lock_ok, lock_ok_test);
