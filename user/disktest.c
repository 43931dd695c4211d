// disktest MODE ...: the data disk through blkread/blkwrite, for lab 7's
// grader. The data disk is mkfs/mkdata's image (a seed of the grader's);
// FNV-1a (64 bits) of a block's BSIZE bytes lets the grader compare what
// was read with the image's own bytes.
//
// A block this program writes holds, as 64-bit words: the block number,
// the seed, a version, and then the kernel's LCG (seed_next's step) run
// from seed + block * 65537 + version * 4294967311, each word the LCG's
// whole 64-bit state after one more step. So a block says whose write it
// holds, and a torn or stale block shows.
//
//   read SEED N NBLOCKS     N seeded blocks (r % NBLOCKS), then the first
//                           again: "block B fnv 0xH" each
//   write SEED N NBLOCKS    N seeded blocks written (version 1), read back
//                           from the disk (after blkflush), all checked
//   check SEED N NBLOCKS    the blocks write wrote: do they hold its data?
//   bad NBLOCKS KADDR       bad blocks and buffers refused, no harm done
//   lru                     the cache's replacement order, from the disk
//                           requests each read makes
//   stress SEED NPROC NOPS BASE   NPROC processes at once on NSET blocks
//                           from BASE (more than NBUF): each writes its own
//                           blocks (new versions) and reads everyone's
//   many NPROC NREADS BASE  NPROC processes (more than NBUF) read NREADS
//                           blocks each at once: more than the cache holds
//   wait N                  N reads that each go to the disk (for GDB)
// Every mode ends with "disktest: done" (exit 0) or "disktest: FAILED: ...".

#include "kernel/types.h"
#include "user/user.h"
#include "user/param.h"

#define WORDS (BSIZE / 8)
#define NSET 48                 // stress's blocks: more than NBUF, so some are evicted
#define MAXPROC 8

static uint64 blk[WORDS], blk2[WORDS];

static void
fail(const char *why, long a, long b)
{
  printf("disktest: FAILED: %s (%ld, %ld)\n", why, a, b);
  exit(1);
}

static uint64
fnv(const void *p, int n)
{
  const uchar *c = p;
  uint64 h = 0xcbf29ce484222325ull;

  for (int i = 0; i < n; i++)
    h = (h ^ c[i]) * 0x100000001b3ull;
  return h;
}

// Fill b with version v of block bno's data for seed.
static void
fill(uint64 *b, uint64 seed, uint bno, uint64 v)
{
  uint64 x = seed + bno * 65537ull + v * 4294967311ull;

  b[0] = bno;
  b[1] = seed;
  b[2] = v;
  for (int i = 3; i < WORDS; i++) {
    seed_next(&x);
    b[i] = x;
  }
}

// Does b hold a version of block bno's data for seed? Its version, or -1.
static long
version(const uint64 *b, uint64 seed, uint bno)
{
  if (b[0] != bno || b[1] != seed)
    return -1;
  fill(blk2, seed, bno, b[2]);
  return memcmp(b, blk2, BSIZE) == 0 ? (long)b[2] : -1;
}

static void
info(struct sysinfo *s)
{
  if (sysinfo(s) < 0)
    fail("sysinfo", 0, 0);
}

static void
readblk(uint bno, uint64 *b)
{
  int r = blkread(bno, b);

  if (r != 0)
    fail("blkread", bno, r);
}

static void
writeblk(uint bno, uint64 *b)
{
  int r = blkwrite(bno, b);

  if (r != 0)
    fail("blkwrite", bno, r);
}

static void
mode_read(uint64 seed, int n, uint nblocks)
{
  struct sysinfo a, z;
  uint64 x = seed;

  info(&a);
  for (int i = 0; i <= n; i++) {
    uint bno = seed_next(&x) % nblocks;
    if (i == n)                         // the first block again: from the cache
      bno = (x = seed, seed_next(&x) % nblocks);
    readblk(bno, blk);
    printf("disktest: block %u fnv 0x%lx\n", bno, fnv(blk, BSIZE));
  }
  info(&z);
  printf("disktest: requests %lu ide intrs %lu hits %lu misses %lu bad %lu\n",
         z.disk_requests - a.disk_requests, z.ide_intrs - a.ide_intrs,
         z.bcache_hits - a.bcache_hits, z.bcache_misses - a.bcache_misses, z.bcache_bad);
}

static void
mode_write(uint64 seed, int n, uint nblocks, int write)
{
  uint64 x = seed;
  int right = 0;

  for (int i = 0; i < n; i++) {
    uint bno = seed_next(&x) % nblocks;
    if (write) {
      fill(blk, seed, bno, 1);
      writeblk(bno, blk);
      printf("disktest: wrote block %u fnv 0x%lx\n", bno, fnv(blk, BSIZE));
    }
  }
  if (write)
    printf("disktest: flushed %d\n", blkflush());
  struct sysinfo a, z;
  info(&a);
  x = seed;
  for (int i = 0; i < n; i++) {
    uint bno = seed_next(&x) % nblocks;
    readblk(bno, blk);
    long v = version(blk, seed, bno);
    if (v == 1)
      right++;
    else
      printf("disktest: block %u holds something else: words 0x%lx 0x%lx 0x%lx\n", bno,
             blk[0], blk[1], blk[2]);
  }
  info(&z);
  printf("disktest: %d of %d blocks hold the write's data, %lu disk requests\n", right, n,
         z.disk_requests - a.disk_requests);
}

static void
expect(const char *what, int got, int want)
{
  printf("disktest: bad: %s -> %d\n", what, got);
  if (got != want)
    fail(what, got, want);
}

static void
mode_bad(uint nblocks, uint64 kaddr)
{
  char *end = sbrk(0);

  readblk(0, blk);
  uint64 h0 = fnv(blk, BSIZE);
  readblk(1, blk);
  uint64 h1 = fnv(blk, BSIZE);
  expect("read past the disk's end", blkread(nblocks, blk), -1);
  expect("write past the disk's end", blkwrite(nblocks + 7, blk), -1);
  expect("read beyond LBA28", blkread(LBA28_BLOCKS, blk), -1);
  expect("read into kernel memory", blkread(0, (void *)kaddr), -1);
  expect("write from kernel memory", blkwrite(1, (void *)kaddr), -1);
  expect("read across the heap's end", blkread(0, end - 100), -1);
  expect("write from across the heap's end", blkwrite(1, end - 100), -1);
  expect("read into an unmapped page", blkread(0, (void *)0x400000000ull), -1);
  blkflush();
  readblk(0, blk);
  if (fnv(blk, BSIZE) != h0)
    fail("block 0 changed", 0, 0);
  readblk(1, blk);
  if (fnv(blk, BSIZE) != h1)
    fail("block 1 changed by a refused write", 0, 0);
  printf("disktest: bad: blocks 0 and 1 unchanged, fnv 0x%lx 0x%lx\n", h0, h1);
}

// The disk requests one read of bno makes.
static long
requests_of_read(uint bno)
{
  struct sysinfo a, z;

  info(&a);
  readblk(bno, blk);
  info(&z);
  return z.disk_requests - a.disk_requests;
}

static void
mode_lru(void)
{
  long n = 0;

  blkflush();
  for (int b = 0; b < NBUF; b++)
    n += requests_of_read(b);
  printf("disktest: lru: %d blocks read, %ld requests\n", NBUF, n);
  printf("disktest: lru: block 0 again, %ld requests\n", requests_of_read(0));
  printf("disktest: lru: block %d (new), %ld requests\n", NBUF, requests_of_read(NBUF));
  printf("disktest: lru: block 0 again, %ld requests\n", requests_of_read(0));
  printf("disktest: lru: block 2 again, %ld requests\n", requests_of_read(2));
  printf("disktest: lru: block 1 again, %ld requests\n", requests_of_read(1));
}

// Stress: process i owns the blocks BASE + b with b % nproc == i.
static int
stress_child(int i, uint64 seed, int nproc, int nops, uint base)
{
  long seen[NSET];
  long ver[NSET];
  uint64 x = seed + i + 1;
  int errors = 0, reads = 0, writes = 0;
  unsigned long maxbad = 0;

  for (int b = 0; b < NSET; b++)
    seen[b] = ver[b] = 0;
  for (int op = 0; op < nops; op++) {
    int b = seed_next(&x) % NSET;
    if (b % nproc == i && seed_next(&x) % 2 == 0) {
      fill(blk, seed, base + b, ++ver[b]);
      writeblk(base + b, blk);
      writes++;
      continue;
    }
    readblk(base + b, blk);
    reads++;
    long v = version(blk, seed, base + b);
    if (v < 0 || v < seen[b] || (b % nproc == i && v != ver[b])) {
      if (errors++ < 3)
        printf("disktest: child %d: block %u: version %ld after %ld%s\n", i, base + b, v,
               seen[b], v < 0 ? " (not a whole version)" : "");
    }
    if (v > seen[b])
      seen[b] = v;
    if (op % 16 == 0) {
      struct sysinfo s;
      info(&s);
      if (s.bcache_bad > maxbad)
        maxbad = s.bcache_bad;
    }
  }
  printf("disktest: child %d: %d reads %d writes %d errors, cache check %lu\n", i, reads,
         writes, errors, maxbad);
  return errors || maxbad ? 1 : 0;
}

static void
mode_stress(uint64 seed, int nproc, int nops, uint base)
{
  long final[NSET];

  if (nproc < 1 || nproc > MAXPROC)
    fail("NPROC", nproc, MAXPROC);
  for (int b = 0; b < NSET; b++) {
    fill(blk, seed, base + b, 0);
    writeblk(base + b, blk);
    final[b] = 0;
  }
  for (int i = 0; i < nproc; i++) {     // what the children will write, in the end
    uint64 x = seed + i + 1;
    for (int op = 0; op < nops; op++) {
      int b = seed_next(&x) % NSET;
      if (b % nproc == i && seed_next(&x) % 2 == 0)
        final[b]++;
    }
  }
  for (int i = 0; i < nproc; i++) {
    int pid = fork();
    if (pid < 0)
      fail("fork", i, pid);
    if (pid == 0)
      exit(stress_child(i, seed, nproc, nops, base));
  }
  int bad = 0, st;
  for (int i = 0; i < nproc; i++) {
    if (wait(&st) < 0)
      fail("wait", i, 0);
    bad += st != 0;
  }
  printf("disktest: stress: %d of %d children failed\n", bad, nproc);
  printf("disktest: stress: flushed %d\n", blkflush());
  int right = 0;
  for (int b = 0; b < NSET; b++) {
    readblk(base + b, blk);
    long v = version(blk, seed, base + b);
    if (v == final[b])
      right++;
    else
      printf("disktest: stress: block %u holds version %ld, not %ld\n", base + b, v, final[b]);
  }
  struct sysinfo s;
  info(&s);
  printf("disktest: stress: %d of %d blocks hold their last version, cache check %lu\n", right,
         NSET, s.bcache_bad);
  if (bad || right != NSET || s.bcache_bad)
    fail("stress", bad, right);
}

// Many: nproc processes (more than NBUF) wait at a pipe until all are
// forked, then each reads nreads blocks of its own from base on at once:
// more blocks wanted than the cache has buffers. Each checks that a block
// holds mkdata's sectors (each sector's first word is its number).
static void
mode_many(int nproc, int nreads, uint base)
{
  int gate[2], st, bad = 0;

  if (pipe(gate) < 0)
    fail("pipe", 0, 0);
  for (int i = 0; i < nproc; i++) {
    int pid = fork();
    if (pid < 0)
      fail("fork", i, pid);
    if (pid == 0) {
      char c;
      close(gate[1]);
      read(gate[0], &c, 1);             // end of file: everyone is forked
      for (int j = 0; j < nreads; j++) {
        uint bno = base + i * nreads + j;
        readblk(bno, blk);
        if (blk[0] != (uint64)bno * (BSIZE / 512))
          exit(1);
      }
      exit(0);
    }
  }
  close(gate[0]);
  close(gate[1]);                       // the gate opens
  for (int i = 0; i < nproc; i++) {
    if (wait(&st) < 0)
      fail("wait", i, 0);
    bad += st != 0;
  }
  struct sysinfo s;
  info(&s);
  printf("disktest: many: %d of %d processes read their %d blocks, cache check %lu\n",
         nproc - bad, nproc, nreads, s.bcache_bad);
}

static void
mode_wait(int n)
{
  for (int i = 0; i < n; i++) {
    blkflush();
    readblk(i % 64, blk);
  }
}

static uint64
hex(const char *s)
{
  uint64 v = 0;

  if (s[0] == '0' && s[1] == 'x')
    s += 2;
  for (; *s; s++)
    v = v * 16 + (*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
  return v;
}

int
main(int argc, char *argv[])
{
  const char *m = argc > 1 ? argv[1] : "";
  int n = argc > 3 ? atoi(argv[3]) : 0;

  if (strcmp(m, "read") == 0 && argc == 5)
    mode_read(atoi(argv[2]), n, atoi(argv[4]));
  else if (strcmp(m, "write") == 0 && argc == 5)
    mode_write(atoi(argv[2]), n, atoi(argv[4]), 1);
  else if (strcmp(m, "check") == 0 && argc == 5)
    mode_write(atoi(argv[2]), n, atoi(argv[4]), 0);
  else if (strcmp(m, "bad") == 0 && argc == 4)
    mode_bad(atoi(argv[2]), hex(argv[3]));
  else if (strcmp(m, "lru") == 0)
    mode_lru();
  else if (strcmp(m, "stress") == 0 && argc == 6)
    mode_stress(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
  else if (strcmp(m, "many") == 0 && argc == 5)
    mode_many(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  else if (strcmp(m, "wait") == 0 && argc == 3)
    mode_wait(atoi(argv[2]));
  else {
    printf("usage: disktest read|write|check SEED N NBLOCKS | bad NBLOCKS KADDR | lru |\n"
           "       stress SEED NPROC NOPS BASE | many NPROC NREADS BASE | wait N\n");
    exit(2);
  }
  printf("disktest: done\n");
  exit(0);
}
